// mlprod predict ...
#include <fstream>
#include <iostream>
#include <sstream>

#include "client/cli_commands.h"

namespace mlprod::client {
namespace {

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// "k=v,k=v" into a record.
grpc::Status ParseRow(const std::string& text, size_t index, v1::Record* record) {
  std::stringstream in(text);
  std::string pair;
  while (std::getline(in, pair, ',')) {
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Invalid("--row " + std::to_string(index) + ": '" + pair + "' is not column=value");
    }
    (*record->mutable_fields())[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return grpc::Status::OK;
}

// Splits RFC 4180 text into rows of fields (quoted fields may hold commas, quotes, newlines).
grpc::Status SplitCsv(const std::string& text, std::vector<std::vector<std::string>>* rows) {
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  size_t line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"' && field.empty()) {
      quoted = any = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) row.push_back(std::move(field));
      if (!row.empty()) rows->push_back(std::move(row));
      row.clear();
      field.clear();
      any = false;
      ++line;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) return Invalid("input line " + std::to_string(line) + ": unterminated quote");
  if (any || !field.empty()) row.push_back(std::move(field));
  if (!row.empty()) rows->push_back(std::move(row));
  return grpc::Status::OK;
}

grpc::Status ReadInput(const std::string& path, v1::PredictRequest* request) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Invalid("cannot read file " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::vector<std::string>> rows;
  grpc::Status s = SplitCsv(text.str(), &rows);
  if (!s.ok()) return s;
  if (rows.empty()) return Invalid(path + " is empty");
  const std::vector<std::string>& header = rows[0];
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() != header.size()) {
      return Invalid(path + " line " + std::to_string(r + 1) + ": " +
                     std::to_string(rows[r].size()) + " fields, header has " +
                     std::to_string(header.size()));
    }
    v1::Record* record = request->add_rows();
    for (size_t c = 0; c < header.size(); ++c) (*record->mutable_fields())[header[c]] = rows[r][c];
  }
  return grpc::Status::OK;
}

}  // namespace

void AddPredictCommand(CLI::App& app, CliState& state) {
  struct Args {
    std::string model, input, out;
    std::vector<std::string> rows;
    bool intervals = false;
    double level = 0.95;
  };
  auto args = std::make_shared<Args>();
  CLI::App* predict = app.add_subcommand("predict", "predictions from a registered model");
  predict->add_option("model", args->model, "NAME (alias production), NAME@ALIAS or NAME@VERSION")
      ->required();
  auto* row = predict->add_option("--row", args->rows, "column=value,... (repeatable)");
  auto* input = predict->add_option("--input", args->input, "CSV file of rows")
                    ->check(CLI::ExistingFile);
  row->excludes(input);
  predict->add_flag("--intervals", args->intervals, "add prediction intervals");
  predict->add_option("--level", args->level, "interval level")->capture_default_str();
  predict->add_option("--out", args->out, "write the result to this file");
  predict->callback([&state, args] {
    state.action = [&state, args] {
      v1::PredictRequest request;
      request.set_model(args->model);
      request.set_intervals(args->intervals);
      request.set_level(args->level);
      grpc::Status s;
      for (size_t i = 0; i < args->rows.size() && s.ok(); ++i) {
        s = ParseRow(args->rows[i], i + 1, request.add_rows());
      }
      if (s.ok() && !args->input.empty()) s = ReadInput(args->input, &request);
      if (s.ok() && request.rows().empty()) s = Invalid("give --row or --input");
      if (!s.ok()) return ReportError(s);

      v1::PredictResponse response;
      auto context = state.client().NewContext();
      s = state.client().inference().Predict(context.get(), request, &response);
      if (!s.ok()) return ReportError(s);

      std::ofstream file;
      if (!args->out.empty()) {
        file.open(args->out, std::ios::binary | std::ios::trunc);
        if (!file) return ReportError(Invalid("cannot write " + args->out));
      }
      std::ostream& out = args->out.empty() ? std::cout : file;
      Table t{{"row", "value"}, {}};
      if (args->intervals) t.headers.insert(t.headers.end(), {"lower", "upper"});
      for (int i = 0; i < response.predictions_size(); ++i) {
        const v1::Prediction& p = response.predictions(i);
        std::vector<std::string> cells{std::to_string(i + 1), FormatNumber(p.value(), 10)};
        if (args->intervals) {
          cells.push_back(FormatNumber(p.lower(), 10));
          cells.push_back(FormatNumber(p.upper(), 10));
        }
        t.rows.push_back(std::move(cells));
      }
      if (state.format() == OutputFormat::kJson) {
        out << ToJson(response).dump(2) << "\n";
      } else {
        if (state.format() == OutputFormat::kTable) {
          out << response.model() << " version " << response.version() << "\n";
        }
        PrintTabular(t, state.format(), out);
      }
      return 0;
    };
  });
}

}  // namespace mlprod::client
