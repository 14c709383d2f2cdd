#include "ml/fit_data.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "ml/split.h"

namespace mlprod::ml {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "mlprod-model";
constexpr int kFormatVersion = 1;
// Placeholder response for one-sided formulas: a backquoted name no CSV header can produce
// unnoticed, followed by one space.
constexpr const char* kNoResponse = "`.no_response`";
constexpr const char* kNoResponseName = ".no_response";

// Drops the test rows with a missing cell the imputation cannot fill, then fills the rest.
void ImputeTestRows(const std::vector<InputColumn>& signature, MissingStrategy missing,
                    const std::vector<double>& imputation, InputTable* t, std::vector<double>* y) {
  std::vector<bool> keep(t->rows, true);
  for (size_t c = 0; c < signature.size(); ++c) {
    if (!HasNaN(t->column(c), t->rows)) continue;
    std::vector<double>& values = t->MutableColumn(c);
    for (size_t r = 0; r < t->rows; ++r) {
      if (!std::isnan(values[r])) continue;
      if (missing == MissingStrategy::kDrop || std::isnan(imputation[c]))
        keep[r] = false;
      else
        values[r] = imputation[c];
    }
  }
  if (!y->empty()) {
    size_t out = 0;
    for (size_t r = 0; r < t->rows; ++r)
      if (keep[r]) (*y)[out++] = (*y)[r];
    y->resize(out);
  }
  t->KeepRows(keep);
}

}  // namespace

Result<size_t> ReadRows(const Frame& frame, const Column* response,
                        const std::vector<InputColumn>& signature, const std::vector<size_t>& rows,
                        MissingStrategy missing, InputTable* table, std::vector<double>* y) {
  MLPROD_ASSIGN_OR_RETURN(*table, ExtractInputs(frame, signature, rows));
  const size_t n = rows.size();
  std::vector<bool> keep(n, true);
  if (response != nullptr) {
    y->resize(n);
    for (size_t i = 0; i < n; ++i)
      (*y)[i] = response->type == ColumnType::kNumeric
                    ? response->values[rows[i]]
                    : (response->codes[rows[i]] < 0 ? NAN : response->codes[rows[i]]);
    if (HasNaN(y->data(), n))
      for (size_t i = 0; i < n; ++i) keep[i] = keep[i] && !std::isnan((*y)[i]);
  }
  if (missing == MissingStrategy::kDrop) {
    for (size_t c = 0; c < signature.size(); ++c) {
      const double* v = table->column(c);
      if (!HasNaN(v, n)) continue;
      for (size_t i = 0; i < n; ++i) keep[i] = keep[i] && !std::isnan(v[i]);
    }
  }
  size_t dropped = 0;
  if (response != nullptr) {
    size_t out = 0;
    for (size_t i = 0; i < n; ++i)
      if (keep[i]) (*y)[out++] = (*y)[i];
    y->resize(out);
    dropped = n - out;
  } else {
    for (size_t i = 0; i < n; ++i) dropped += !keep[i];
  }
  table->KeepRows(keep);
  return dropped;
}

Result<ParsedFormula> ParseModelFormula(const std::string& text,
                                        const std::vector<std::string>& available, bool one_sided,
                                        const FormulaLimits& limits) {
  if (!one_sided) return ParseFormula(text, available, limits);
  size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos || text[first] != '~')
    return Status::InvalidArgument(
        "formula position " + std::to_string(first == std::string::npos ? 1 : first + 1) +
        ": k-means formulas are one-sided ('~ x1 + x2' or '~ .'), without a response");
  const std::string prefix = std::string(kNoResponse) + " ";
  std::vector<std::string> with_placeholder = available;
  with_placeholder.push_back(kNoResponseName);
  FormulaLimits prefixed = limits;  // the limit is on the user's text, not the placeholder
  prefixed.max_length =
      limits.max_length > SIZE_MAX - prefix.size() ? SIZE_MAX : limits.max_length + prefix.size();
  Result<ParsedFormula> parsed = ParseFormula(prefix + text, with_placeholder, prefixed);
  if (parsed.ok()) {
    // The placeholder is ours, not a column: the client's text may not name it (SignatureOf
    // would look it up in the frame).
    int named_at = 0;
    for (const Variable& v : parsed->variables) {
      ForEachColumn(v.expr, [&](const std::string& name, int position) {
        if (name == kNoResponseName && named_at == 0) named_at = position;
      });
    }
    if (named_at == 0) return parsed;
    return Status::InvalidArgument("formula position " +
                                   std::to_string(named_at - static_cast<int>(prefix.size())) +
                                   ": unknown column '" + kNoResponseName + "'");
  }
  // Shift "formula position P" back to the user's text.
  std::string message = parsed.status().message();
  const std::string key = "formula position ";
  size_t at = message.find(key);
  if (at != std::string::npos) {
    size_t digits = at + key.size();
    size_t end = digits;
    while (end < message.size() && std::isdigit(static_cast<unsigned char>(message[end]))) ++end;
    if (end > digits) {
      long p = std::strtol(message.substr(digits, end - digits).c_str(), nullptr, 10);
      p = std::max<long>(1, p - static_cast<long>(prefix.size()));
      message.replace(digits, end - digits, std::to_string(p));
    }
  }
  return Status(parsed.status().code(), message);
}

std::vector<InputColumn> SignatureOf(const Frame& frame, const ParsedFormula& parsed) {
  std::vector<InputColumn> signature;
  for (const std::string& name : parsed.columns) {
    const Column* c = frame.Find(name);
    signature.push_back({name, c->type, c->levels});
  }
  return signature;
}

Status NoTrainingRows(size_t split_rows, size_t dropped) {
  if (split_rows == 0)
    return Status::FailedPrecondition(
        "the test split leaves no training rows; lower --test-fraction");
  return Status::FailedPrecondition("every training row was dropped by missing-data handling (" +
                                    std::to_string(dropped) + " rows)");
}

Result<FitData> PrepareFitData(const Frame& frame, const Column* response, const Design& design,
                               const TrainOptions& options) {
  FitData d;
  std::vector<size_t> train_rows, test_rows;
  SplitRows(frame.rows, options.test_fraction, options.seed, &train_rows, &test_rows);
  const auto& signature = design.signature();
  MLPROD_ASSIGN_OR_RETURN(d.rows_dropped, ReadRows(frame, response, signature, train_rows,
                                                   options.missing, &d.train, &d.y_train));
  if (d.train.rows == 0) return NoTrainingRows(train_rows.size(), d.rows_dropped);
  d.imputation.assign(signature.size(), NAN);
  if (options.missing != MissingStrategy::kDrop)
    d.imputation = ComputeImputation(d.train, signature, options.missing);
  MLPROD_RETURN_IF_ERROR(FillMissing(signature, options.missing, d.imputation, &d.train));
  if (!test_rows.empty()) {
    MLPROD_ASSIGN_OR_RETURN(size_t skipped, ReadRows(frame, response, signature, test_rows,
                                                     options.missing, &d.test, &d.y_test));
    (void)skipped;
    ImputeTestRows(signature, options.missing, d.imputation, &d.test, &d.y_test);
  }
  return d;
}

void SamplePlotPoints(const double* fitted, const double* actual, size_t n, FitReport* report) {
  const size_t keep = std::min(n, FitReport::kMaxPlotPoints);
  for (size_t k = 0; k < keep; ++k) {
    const size_t i = k * n / keep;
    report->plot_fitted.push_back(fitted[i]);
    report->plot_actual.push_back(actual[i]);
  }
}

void AddRegressionMetrics(const std::vector<double>& y, const std::vector<double>& fitted,
                          const std::string& prefix, std::map<std::string, double>* metrics) {
  const size_t n = y.size();
  if (n == 0) return;
  long double mean = 0, sse = 0, sae = 0, sst = 0;
  for (double v : y) mean += v;
  mean /= n;
  for (size_t i = 0; i < n; ++i) {
    long double e = static_cast<long double>(y[i]) - fitted[i];
    sse += e * e;
    sae += std::fabs(e);
    sst += (y[i] - mean) * (y[i] - mean);
  }
  (*metrics)[prefix + "rmse"] = static_cast<double>(std::sqrt(sse / n));
  (*metrics)[prefix + "mae"] = static_cast<double>(sae / n);
  (*metrics)[prefix + "r_squared"] = sst > 0 ? static_cast<double>(1 - sse / sst) : NAN;
}

std::string FormatG(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*g", digits, x);
  return buf;
}

Result<double> ParseNumberParam(const std::string& key, const std::string& value, double lo,
                                double hi) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || errno != 0 || !(v >= lo && v <= hi))
    return Status::InvalidArgument("param " + key + " must be a number in [" + FormatG(lo) + ", " +
                                   FormatG(hi) + "], not '" + value + "'");
  return v;
}

Result<long long> ParseIntParam(const std::string& key, const std::string& value, long long lo,
                                long long hi) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno != 0 || v < lo || v > hi)
    return Status::InvalidArgument("param " + key + " must be an integer in [" +
                                   std::to_string(lo) + ", " + std::to_string(hi) + "], not '" +
                                   value + "'");
  return v;
}

json JsonNumber(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }
double JsonNumberOr(const json& j) { return j.is_null() ? NAN : j.get<double>(); }

json PipelineToJson(std::string_view kind, const Design& design, const std::string& formula_text,
                    MissingStrategy missing, const std::vector<double>& imputation) {
  const ParsedFormula& f = design.formula();
  const bool one_sided = f.response == kNoResponseName;
  json j;
  j["format"] = kFormat;
  j["format_version"] = kFormatVersion;
  j["kind"] = std::string(kind);
  j["formula"] = formula_text;
  j["response"] = one_sided ? json(nullptr) : json(f.response);
  j["missing"] = std::string(MissingStrategyName(missing));
  std::vector<std::string> columns;
  auto add = [&](const std::string& name) {
    if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
  };
  if (!one_sided) add(f.response);
  for (const auto& name : f.dot_columns) add(name);
  for (const auto& in : design.signature()) add(in.name);
  j["parse_columns"] = columns;
  json sig = json::array();
  for (const auto& in : design.signature())
    sig.push_back({{"name", in.name}, {"type", ColumnTypeName(in.type)}, {"levels", in.levels}});
  j["signature"] = sig;
  json imp = json::array();
  for (double v : imputation) imp.push_back(JsonNumber(v));
  j["imputation"] = imp;
  j["terms"] = design.column_names();
  j["transforms"] = json::parse(design.StateJson());  // poly() coefficients, ns() knots
  return j;
}

Result<InputTable> PipelineInputs(const Pipeline& pipeline, const Frame& rows) {
  std::vector<size_t> index(rows.rows);
  for (size_t i = 0; i < rows.rows; ++i) index[i] = i;
  const Design& design = pipeline.design;
  MLPROD_ASSIGN_OR_RETURN(InputTable table, ExtractInputs(rows, design.signature(), index));
  MLPROD_RETURN_IF_ERROR(
      FillMissing(design.signature(), pipeline.missing, pipeline.imputation, &table));
  return table;
}

Result<Pipeline> PipelineFromJson(const json& j, bool one_sided) {
  if (j.at("format_version") != kFormatVersion)  // not get<int>(): 1e300 would not fit
    return Status::InvalidArgument("unsupported model format version " +
                                   j.at("format_version").dump());
  Pipeline p;
  MLPROD_ASSIGN_OR_RETURN(p.missing, ParseMissingStrategy(j.at("missing").get<std::string>()));
  std::vector<InputColumn> signature;
  for (const json& in : j.at("signature")) {
    MLPROD_ASSIGN_OR_RETURN(ColumnType type, ParseColumnType(in.at("type").get<std::string>()));
    signature.push_back(
        {in.at("name").get<std::string>(), type, in.at("levels").get<std::vector<std::string>>()});
  }
  p.formula_text = j.at("formula").get<std::string>();
  MLPROD_ASSIGN_OR_RETURN(
      ParsedFormula parsed,
      ParseModelFormula(p.formula_text, j.at("parse_columns").get<std::vector<std::string>>(),
                        one_sided, kStoredFormulaLimits));
  if (!one_sided && parsed.response != j.at("response").get<std::string>())
    return Status::InvalidArgument("model response does not match its formula");
  MLPROD_ASSIGN_OR_RETURN(p.design, Design::Create(std::move(parsed), signature));
  if (p.design.column_names() != j.at("terms").get<std::vector<std::string>>())
    return Status::InvalidArgument("model terms do not match its formula");
  if (j.contains("transforms"))
    MLPROD_RETURN_IF_ERROR(p.design.RestoreState(j.at("transforms").dump()));
  if (!p.design.fitted())  // models from before "transforms" had no poly()/ns() terms
    return Status::InvalidArgument("model lacks the state of its poly()/ns() terms");
  for (const json& v : j.at("imputation")) p.imputation.push_back(JsonNumberOr(v));
  if (p.imputation.size() != signature.size())
    return Status::InvalidArgument("model imputation values do not match its signature");
  return p;
}

}  // namespace mlprod::ml
