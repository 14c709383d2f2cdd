// mlprod datasets ... and mlprod experiments ...
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>

#include "client/cli_commands.h"

namespace mlprod::client {
namespace {

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, separator)) parts.push_back(part);
  if (!text.empty() && text.back() == separator) parts.emplace_back();
  return parts;
}

grpc::Status ParseSchema(const std::string& text, v1::UploadHeader* header) {
  static const std::map<std::string, v1::ColumnType> kTypes = {
      {"numeric", v1::COLUMN_TYPE_NUMERIC},
      {"categorical", v1::COLUMN_TYPE_CATEGORICAL},
      {"boolean", v1::COLUMN_TYPE_BOOLEAN}};
  for (const std::string& item : Split(text, ',')) {
    auto colon = item.rfind(':');
    auto type = colon == std::string::npos ? kTypes.end() : kTypes.find(item.substr(colon + 1));
    if (type == kTypes.end()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "--schema entry '" + item +
                              "' is not col:type with type numeric, categorical or boolean");
    }
    (*header->mutable_schema())[item.substr(0, colon)] = type->second;
  }
  return grpc::Status::OK;
}

void PrintColumns(const v1::DatasetVersion& d, OutputFormat format) {
  Table t{{"column", "type", "missing"}, {}};
  for (const v1::ColumnInfo& c : d.columns()) {
    t.rows.push_back({c.name(), ColumnTypeName(c.type()),
                      std::to_string(c.missing())});
  }
  PrintTabular(t, format, std::cout);
}

void PrintDataset(const v1::DatasetVersion& d, OutputFormat format) {
  if (format == OutputFormat::kTable) {
    std::cout << d.name() << "@" << d.version() << ": " << d.rows() << " rows, "
              << d.columns_size() << " columns" << (d.existed() ? " (identical to an existing version)" : "")
              << "\nsha256 " << d.sha256() << ", " << d.size_bytes() << " bytes, by "
              << d.created_by() << " at " << FormatTime(d.created_at()) << "\n\n";
  }
  PrintColumns(d, format);
}

// Missing cells: null in JSON, NA in a table (as R prints them), empty in CSV (as R's write.csv
// with na = "" and pandas' to_csv write them). Numeric cells are JSON numbers.
int EmitHead(CliState& state, const v1::HeadDatasetResponse& response) {
  const v1::DatasetVersion& d = response.dataset();
  nlohmann::json columns = nlohmann::json::array(), rows = nlohmann::json::array();
  Table t;
  for (const v1::ColumnInfo& c : d.columns()) {
    columns.push_back(c.name());
    t.headers.push_back(c.name());
  }
  const bool csv = state.format() == OutputFormat::kCsv;
  for (const v1::HeadRow& row : response.rows()) {
    nlohmann::json cells = nlohmann::json::array();
    std::vector<std::string> text;
    for (int i = 0; i < row.cells_size(); ++i) {
      const v1::Cell& cell = row.cells(i);
      const bool numeric = i < d.columns_size() && d.columns(i).type() == v1::COLUMN_TYPE_NUMERIC;
      if (cell.missing()) {
        cells.push_back(nullptr);
        text.push_back(csv ? "" : "NA");
      } else {
        cells.push_back(numeric ? nlohmann::json(std::strtod(cell.value().c_str(), nullptr))
                                : nlohmann::json(cell.value()));
        text.push_back(cell.value());
      }
    }
    rows.push_back(std::move(cells));
    t.rows.push_back(std::move(text));
  }
  nlohmann::json doc = {{"name", d.name()}, {"version", d.version()}, {"rows_total", d.rows()},
                        {"columns", columns}, {"rows", rows}};
  return state.Emit(doc, [&] { PrintTabular(t, state.format(), std::cout); });
}

void AddExperimentCommands(CLI::App& app, CliState& state) {
  CLI::App* experiments = app.add_subcommand("experiments", "group runs")->require_subcommand(1);
  auto name = std::make_shared<std::string>();
  CLI::App* create = experiments->add_subcommand("create", "create an experiment");
  create->add_option("name", *name, "experiment name")->required();
  create->callback([&state, name] {
    state.action = [&state, name] {
      v1::CreateExperimentRequest request;
      request.set_name(*name);
      v1::Experiment e;
      auto context = state.client().NewContext();
      grpc::Status s = state.client().training().CreateExperiment(context.get(), request, &e);
      if (!s.ok()) return ReportError(s);
      nlohmann::json doc = {{"name", e.name()},
                            {"created_by", e.created_by()},
                            {"created_at", FormatTime(e.created_at())}};
      return state.Emit(doc, [&] {
        if (state.format() == OutputFormat::kCsv) {
          PrintCsv(Table{{"name", "created_by", "created_at"},
                         {{e.name(), e.created_by(), FormatTime(e.created_at())}}},
                   std::cout);
        } else {
          std::cout << "experiment " << e.name() << " created\n";
        }
      });
    };
  });
  experiments->add_subcommand("list", "every experiment")->callback([&state] {
    state.action = [&state] {
      v1::ListExperimentsResponse response;
      auto context = state.client().NewContext();
      grpc::Status s = state.client().training().ListExperiments(context.get(), {}, &response);
      if (!s.ok()) return ReportError(s);
      nlohmann::json list = nlohmann::json::array();
      Table t{{"name", "created_by", "created_at"}, {}};
      for (const v1::Experiment& e : response.experiments()) {
        list.push_back({{"name", e.name()},
                        {"created_by", e.created_by()},
                        {"created_at", FormatTime(e.created_at())}});
        t.rows.push_back({e.name(), e.created_by(), FormatTime(e.created_at())});
      }
      return state.Emit({{"experiments", list}},
                        [&] { PrintTabular(t, state.format(), std::cout); });
    };
  });
}

}  // namespace

grpc::Status ParseDatasetRef(const std::string& text, v1::DatasetRef* ref) {
  auto at = text.find('@');
  ref->set_name(text.substr(0, at));
  ref->set_version(0);
  if (at == std::string::npos) return grpc::Status::OK;
  const std::string v = text.substr(at + 1);
  int version = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), version);
  if (ec != std::errc() || end != v.data() + v.size() || version <= 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "'" + text + "': the version after '@' must be a positive number");
  }
  ref->set_version(version);
  return grpc::Status::OK;
}

void AddDatasetCommands(CLI::App& app, CliState& state) {
  CLI::App* datasets =
      app.add_subcommand("datasets", "upload and inspect datasets")->require_subcommand(1);

  struct UploadArgs {
    std::string file, name, delimiter, na, schema;
  };
  auto up = std::make_shared<UploadArgs>();
  CLI::App* upload = datasets->add_subcommand("upload", "upload a CSV file as a new version");
  upload->add_option("file", up->file, "CSV file")->required();
  upload->add_option("--name", up->name, "dataset name")->required();
  upload->add_option("--delimiter", up->delimiter, "field separator (default ,)");
  upload->add_option("--na", up->na, "comma-separated cells read as missing");
  upload->add_option("--schema", up->schema, "col:type,... (numeric|categorical|boolean)");
  upload->callback([&state, up, upload] {
    state.action = [&state, up, upload] {
      v1::UploadHeader header;
      header.set_name(up->name);
      header.set_delimiter(up->delimiter == "\\t" ? "\t" : up->delimiter);
      if (upload->count("--na") > 0) {
        header.set_na_values_set(true);
        for (const std::string& na : Split(up->na, ',')) header.add_na_values(na);
      }
      if (!up->schema.empty()) {
        grpc::Status s = ParseSchema(up->schema, &header);
        if (!s.ok()) return ReportError(s);
      }
      v1::DatasetVersion d;
      grpc::Status s = state.client().UploadFile(header, up->file, &d);
      if (!s.ok()) return ReportError(s);
      return state.Emit(ToJson(d), [&] { PrintDataset(d, state.format()); });
    };
  });

  datasets->add_subcommand("list", "every version of every dataset")->callback([&state] {
    state.action = [&state] {
      v1::ListDatasetsResponse response;
      auto context = state.client().NewContext();
      grpc::Status s = state.client().datasets().ListDatasets(context.get(), {}, &response);
      if (!s.ok()) return ReportError(s);
      nlohmann::json list = nlohmann::json::array();
      Table t{{"dataset", "rows", "columns", "sha256", "created_by", "created_at"}, {}};
      for (const v1::DatasetVersion& d : response.datasets()) {
        list.push_back(ToJson(d));
        t.rows.push_back({d.name() + "@" + std::to_string(d.version()), std::to_string(d.rows()),
                          std::to_string(d.columns_size()), d.sha256().substr(0, 12),
                          d.created_by(), FormatTime(d.created_at())});
      }
      return state.Emit({{"datasets", list}}, [&] { PrintTabular(t, state.format(), std::cout); });
    };
  });

  auto ref_text = std::make_shared<std::string>();
  CLI::App* show = datasets->add_subcommand("show", "one dataset version");
  show->add_option("dataset", *ref_text, "NAME[@VERSION]")->required();
  show->callback([&state, ref_text] {
    state.action = [&state, ref_text] {
      v1::GetDatasetRequest request;
      grpc::Status s = ParseDatasetRef(*ref_text, request.mutable_dataset());
      if (!s.ok()) return ReportError(s);
      v1::DatasetVersion d;
      auto context = state.client().NewContext();
      s = state.client().datasets().GetDataset(context.get(), request, &d);
      if (!s.ok()) return ReportError(s);
      return state.Emit(ToJson(d), [&] { PrintDataset(d, state.format()); });
    };
  });

  CLI::App* describe = datasets->add_subcommand("describe", "per-column summary (EDA)");
  describe->add_option("dataset", *ref_text, "NAME[@VERSION]")->required();
  describe->callback([&state, ref_text] {
    state.action = [&state, ref_text] {
      v1::GetDatasetRequest request;
      grpc::Status s = ParseDatasetRef(*ref_text, request.mutable_dataset());
      if (!s.ok()) return ReportError(s);
      v1::DescribeDatasetResponse response;
      auto context = state.client().NewContext();
      s = state.client().datasets().DescribeDataset(context.get(), request, &response);
      if (!s.ok()) return ReportError(s);
      return state.Emit(ToJson(response), [&] {
        const v1::DatasetVersion& d = response.dataset();
        if (state.format() == OutputFormat::kTable) {
          std::cout << d.name() << "@" << d.version() << ": " << d.rows() << " rows, "
                    << d.columns_size() << " columns\n\n";
        }
        Table t{{"column", "type", "count", "missing", "mean", "sd", "min", "q1", "median", "q3",
                 "max", "top levels"},
                {}};
        for (const v1::ColumnSummary& c : response.columns()) {
          auto num = [](bool has, double v) { return has ? FormatNumber(v) : std::string("-"); };
          std::string levels;
          for (int i = 0; i < c.levels_size() && i < 4; ++i) {
            if (i > 0) levels += ", ";
            levels += c.levels(i).level() + " (" + std::to_string(c.levels(i).count()) + ")";
          }
          if (c.levels_size() > 4) levels += ", +" + std::to_string(c.levels_size() - 4) + " more";
          t.rows.push_back({c.name(), ColumnTypeName(c.type()),
                            std::to_string(c.count()), std::to_string(c.missing()),
                            num(c.has_mean(), c.mean()), num(c.has_sd(), c.sd()),
                            num(c.has_min(), c.min()), num(c.has_q1(), c.q1()),
                            num(c.has_median(), c.median()), num(c.has_q3(), c.q3()),
                            num(c.has_max(), c.max()), levels.empty() ? "-" : levels});
        }
        PrintTabular(t, state.format(), std::cout);
      });
    };
  });

  auto head_rows = std::make_shared<int>(10);
  CLI::App* del = datasets->add_subcommand(
      "delete", "delete a version (every version without @V) and its bytes");
  del->add_option("dataset", *ref_text, "NAME[@VERSION]")->required();
  del->callback([&state, ref_text] {
    state.action = [&state, ref_text] {
      v1::GetDatasetRequest request;
      grpc::Status s = ParseDatasetRef(*ref_text, request.mutable_dataset());
      if (!s.ok()) return ReportError(s);
      v1::DeleteDatasetResponse response;
      auto context = state.client().NewContext();
      s = state.client().datasets().DeleteDataset(context.get(), request, &response);
      if (!s.ok()) return ReportError(s);
      std::vector<int> versions(response.versions().begin(), response.versions().end());
      nlohmann::json doc = {{"name", response.name()}, {"deleted_versions", versions}};
      return state.Emit(doc, [&] {
        Table t{{"dataset", "deleted"}, {}};
        for (int v : versions) t.rows.push_back({response.name() + "@" + std::to_string(v), "yes"});
        PrintTabular(t, state.format(), std::cout);
      });
    };
  });

  CLI::App* head = datasets->add_subcommand("head", "the first rows of a version");
  head->add_option("dataset", *ref_text, "NAME[@VERSION]")->required();
  head->add_option("-n", *head_rows, "rows (default 10, at most 10000)")->capture_default_str();
  head->callback([&state, ref_text, head_rows] {
    state.action = [&state, ref_text, head_rows] {
      v1::HeadDatasetRequest request;
      grpc::Status s = ParseDatasetRef(*ref_text, request.mutable_dataset());
      if (!s.ok()) return ReportError(s);
      if (*head_rows <= 0) {
        return ReportError(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                        "-n must be a positive number of rows"));
      }
      request.set_limit(*head_rows);
      v1::HeadDatasetResponse response;
      auto context = state.client().NewContext();
      s = state.client().datasets().HeadDataset(context.get(), request, &response);
      if (!s.ok()) return ReportError(s);
      return EmitHead(state, response);
    };
  });

  AddExperimentCommands(app, state);
}

}  // namespace mlprod::client
