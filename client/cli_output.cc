#include "client/cli_output.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <map>
#include <sstream>

#include <fmt/format.h>

namespace mlprod::client {
namespace {

using nlohmann::json;

}  // namespace

std::string ColumnTypeName(v1::ColumnType type) {
  switch (type) {
    case v1::COLUMN_TYPE_NUMERIC: return "numeric";
    case v1::COLUMN_TYPE_CATEGORICAL: return "categorical";
    case v1::COLUMN_TYPE_BOOLEAN: return "boolean";
    default: return "unknown";
  }
}

namespace {


json Metrics(const google::protobuf::Map<std::string, double>& metrics) {
  std::map<std::string, double> sorted(metrics.begin(), metrics.end());
  json out = json::object();
  for (const auto& [k, v] : sorted) out[k] = v;
  return out;
}

json StringMap(const google::protobuf::Map<std::string, std::string>& values) {
  std::map<std::string, std::string> sorted(values.begin(), values.end());
  return json(sorted);
}

json Signature(const google::protobuf::RepeatedPtrField<v1::InputColumn>& columns) {
  json out = json::array();
  for (const v1::InputColumn& c : columns) {
    out.push_back({{"name", c.name()},
                   {"type", ColumnTypeName(c.type())},
                   {"levels", std::vector<std::string>(c.levels().begin(), c.levels().end())}});
  }
  return out;
}

json OptionalTime(bool has, const google::protobuf::Timestamp& t) {
  return has ? json(FormatTime(t)) : json(nullptr);
}

bool LooksNumeric(const std::string& cell) {
  if (cell == "NA" || cell == "-" || cell.rfind("< ", 0) == 0) return true;
  if (cell.empty()) return false;
  char* end = nullptr;
  std::strtod(cell.c_str(), &end);
  return end == cell.c_str() + cell.size();
}

// R's format.pval for the coefficient table.
std::string FormatPValue(double p) {
  if (std::isnan(p)) return "NA";
  if (p < 2.2e-16) return "< 2e-16";
  return FormatNumber(p, 3);
}

std::string Stars(double p) {
  if (std::isnan(p)) return "";
  if (p < 0.001) return "***";
  if (p < 0.01) return "**";
  if (p < 0.05) return "*";
  if (p < 0.1) return ".";
  return "";
}

double MetricOr(const v1::Run& run, const char* key) {
  auto it = run.metrics().find(key);
  return it == run.metrics().end() ? NAN : it->second;
}

}  // namespace

std::string RunStatusName(v1::RunStatus status) {
  std::string name = v1::RunStatus_Name(status);
  const std::string prefix = "RUN_STATUS_";
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

void PrintTable(const Table& table, std::ostream& out) {
  std::vector<size_t> width(table.headers.size(), 0);
  for (size_t i = 0; i < table.headers.size(); ++i) width[i] = table.headers[i].size();
  for (const auto& row : table.rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  // Numbers are right-aligned, as R prints them; text is left-aligned.
  std::vector<bool> numeric(width.size(), !table.rows.empty());
  for (const auto& row : table.rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      if (!LooksNumeric(row[i])) numeric[i] = false;
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t i = 0; i < cells.size() && i < width.size(); ++i) {
      if (i > 0) text += "  ";
      const size_t pad = width[i] - cells[i].size();
      if (numeric[i]) text.append(pad, ' ');
      text += cells[i];
      if (!numeric[i] && i + 1 < cells.size()) text.append(pad, ' ');
    }
    out << text << "\n";
  };
  line(table.headers);
  for (const auto& row : table.rows) line(row);
}

void PrintCsv(const Table& table, std::ostream& out) {
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out << ",";
      const std::string& c = cells[i];
      if (c.find_first_of(",\"\r\n") == std::string::npos) {
        out << c;
        continue;
      }
      out << '"';
      for (char ch : c) {
        if (ch == '"') out << '"';
        out << ch;
      }
      out << '"';
    }
    out << "\n";
  };
  line(table.headers);
  for (const auto& row : table.rows) line(row);
}

void PrintTabular(const Table& table, OutputFormat format, std::ostream& out) {
  if (format == OutputFormat::kCsv) {
    PrintCsv(table, out);
  } else {
    PrintTable(table, out);
  }
}

std::string FormatNumber(double value, int significant) {
  if (std::isnan(value)) return "NA";
  if (std::isinf(value)) return value > 0 ? "Inf" : "-Inf";
  if (value == 0) return "0";
  // As R's format(): `significant` digits, fixed notation unless scientific is shorter.
  auto strip_zeros = [](std::string text) {
    const auto e = text.find('e');
    std::string mantissa = text.substr(0, e), exponent = e == std::string::npos ? "" : text.substr(e);
    if (mantissa.find('.') != std::string::npos) {
      mantissa.erase(mantissa.find_last_not_of('0') + 1);
      if (mantissa.back() == '.') mantissa.pop_back();
    }
    return mantissa + exponent;
  };
  const std::string sci = strip_zeros(fmt::format("{:.{}e}", value, significant - 1));
  const int magnitude = static_cast<int>(std::floor(std::log10(std::fabs(value))));
  const int decimals = std::max(0, significant - 1 - magnitude);
  const std::string fixed = strip_zeros(fmt::format("{:.{}f}", value, decimals));
  return fixed.size() <= sci.size() ? fixed : sci;
}

std::string FormatTime(const google::protobuf::Timestamp& time) {
  std::time_t seconds = static_cast<std::time_t>(time.seconds());
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buffer, time.nanos() / 1000000);
}

std::string FormatRef(const v1::DatasetRef& ref) {
  return ref.name() + "@" + std::to_string(ref.version());
}

json ToJson(const v1::DatasetVersion& d) {
  json columns = json::array();
  for (const v1::ColumnInfo& c : d.columns()) {
    columns.push_back({{"name", c.name()}, {"type", ColumnTypeName(c.type())}, {"missing", c.missing()}});
  }
  return {{"name", d.name()},
          {"version", d.version()},
          {"rows", d.rows()},
          {"columns", columns},
          {"sha256", d.sha256()},
          {"size_bytes", d.size_bytes()},
          {"created_by", d.created_by()},
          {"created_at", FormatTime(d.created_at())},
          {"existed", d.existed()}};
}

json ToJson(const v1::DescribeDatasetResponse& describe) {
  json columns = json::array();
  auto optional = [](bool has, double v) { return has ? json(v) : json(nullptr); };
  for (const v1::ColumnSummary& c : describe.columns()) {
    json levels = json::array();
    for (const v1::LevelCount& l : c.levels()) {
      levels.push_back({{"level", l.level()}, {"count", l.count()}});
    }
    columns.push_back({{"name", c.name()},
                       {"type", ColumnTypeName(c.type())},
                       {"count", c.count()},
                       {"missing", c.missing()},
                       {"mean", optional(c.has_mean(), c.mean())},
                       {"sd", optional(c.has_sd(), c.sd())},
                       {"min", optional(c.has_min(), c.min())},
                       {"q1", optional(c.has_q1(), c.q1())},
                       {"median", optional(c.has_median(), c.median())},
                       {"q3", optional(c.has_q3(), c.q3())},
                       {"max", optional(c.has_max(), c.max())},
                       {"levels", levels}});
  }
  return {{"name", describe.dataset().name()},
          {"version", describe.dataset().version()},
          {"rows", describe.dataset().rows()},
          {"columns", columns}};
}

json ToJson(const v1::Run& run) {
  json coefficients = json::array();
  for (const v1::Coefficient& c : run.coefficients()) {
    // NaN (an aliased term) is written as null.
    coefficients.push_back({{"term", c.term()},
                            {"estimate", c.estimate()},
                            {"std_error", c.std_error()},
                            {"t_value", c.t_value()},
                            {"p_value", c.p_value()},
                            {"ci_lower", c.ci_lower()},
                            {"ci_upper", c.ci_upper()},
                            {"aliased", c.aliased()}});
  }
  return {{"id", run.id()},
          {"status", RunStatusName(run.status())},
          {"experiment", run.experiment()},
          {"dataset", FormatRef(run.dataset())},
          {"formula", run.formula()},
          {"model", run.model()},
          {"params", StringMap(run.params())},
          {"missing", run.missing()},
          {"test_fraction", run.test_fraction()},
          {"seed", run.seed()},
          {"metrics", Metrics(run.metrics())},
          {"coefficients", coefficients},
          {"sigma", run.sigma()},
          {"df_residual", run.df_residual()},
          {"n_obs", run.n_obs()},
          {"rows_dropped", run.rows_dropped()},
          {"n_test", run.n_test()},
          {"response", run.response()},
          {"signature", Signature(run.signature())},
          {"error", run.error()},
          {"log", std::vector<std::string>(run.log().begin(), run.log().end())},
          {"created_by", run.created_by()},
          {"created_at", FormatTime(run.created_at())},
          {"started_at", OptionalTime(run.has_started_at(), run.started_at())},
          {"finished_at", OptionalTime(run.has_finished_at(), run.finished_at())}};
}

json ToJson(const v1::ModelVersion& v) {
  return {{"name", v.name()},
          {"version", v.version()},
          {"run", v.run()},
          {"dataset", FormatRef(v.dataset())},
          {"dataset_sha256", v.dataset_sha256()},
          {"formula", v.formula()},
          {"model", v.kind()},
          {"params", StringMap(v.params())},
          {"metrics", Metrics(v.metrics())},
          {"aliases", std::vector<std::string>(v.aliases().begin(), v.aliases().end())},
          {"signature", Signature(v.signature())},
          {"description", v.description()},
          {"created_by", v.created_by()},
          {"created_at", FormatTime(v.created_at())}};
}

json ToJson(const v1::AliasChange& c) {
  return {{"name", c.name()},
          {"alias", c.alias()},
          {"from_version", c.has_from_version() ? json(c.from_version()) : json(nullptr)},
          {"to_version", c.to_version()},
          {"action", c.action()},
          {"actor", c.actor()},
          {"reason", c.reason()},
          {"forced", c.forced()},
          {"time", FormatTime(c.time())}};
}

json ToJson(const v1::PredictResponse& response) {
  json predictions = json::array();
  for (const v1::Prediction& p : response.predictions()) {
    json item = {{"value", p.value()}};
    if (p.has_lower()) item["lower"] = p.lower();
    if (p.has_upper()) item["upper"] = p.upper();
    predictions.push_back(item);
  }
  return {{"model", response.model()},
          {"version", response.version()},
          {"predictions", predictions}};
}

void PrintCoefficientCsv(const v1::Run& run, std::ostream& out) {
  Table t{{"term", "estimate", "std_error", "t_value", "p_value", "ci_lower", "ci_upper", "aliased"},
          {}};
  for (const v1::Coefficient& c : run.coefficients()) {
    t.rows.push_back({c.term(), FormatNumber(c.estimate(), 15), FormatNumber(c.std_error(), 15),
                      FormatNumber(c.t_value(), 15), FormatNumber(c.p_value(), 15),
                      FormatNumber(c.ci_lower(), 15), FormatNumber(c.ci_upper(), 15),
                      c.aliased() ? "true" : "false"});
  }
  PrintCsv(t, out);
}

namespace {

// Estimate, SE, statistic and p-value per term with R's significance stars; `stat` names the
// statistic ("t" for lm, "z" for glm).
void PrintTestedCoefficients(const v1::Run& run, const std::string& stat, std::ostream& out) {
  Table table{{"", "Estimate", "Std. Error", stat + " value", "Pr(>|" + stat + "|)", ""}, {}};
  int aliased = 0;
  for (const v1::Coefficient& c : run.coefficients()) {
    if (c.aliased()) ++aliased;
    table.rows.push_back({c.term(), FormatNumber(c.estimate()), FormatNumber(c.std_error()),
                          FormatNumber(c.t_value(), 4), FormatPValue(c.p_value()),
                          Stars(c.p_value())});
  }
  out << "\nCoefficients:\n";
  PrintTable(table, out);
  out << "---\nSignif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1\n";
  if (aliased > 0) out << "(" << aliased << " not defined because of singularities)\n";
}

bool HasIntercept(const v1::Run& run) {
  return std::any_of(run.coefficients().begin(), run.coefficients().end(),
                     [](const v1::Coefficient& c) { return c.term() == "(Intercept)"; });
}

// "RMSE: 1.2,  MAE: 0.9,  R-squared: 0.5" from the metrics under `prefix` ("", "test_", "cv_").
std::string RegressionMetrics(const v1::Run& run, const std::string& prefix) {
  return "RMSE: " + FormatNumber(MetricOr(run, (prefix + "rmse").c_str())) +
         ",  MAE: " + FormatNumber(MetricOr(run, (prefix + "mae").c_str())) +
         ",  R-squared: " + FormatNumber(MetricOr(run, (prefix + "r_squared").c_str()), 4);
}

std::string ClassificationMetrics(const v1::Run& run, const std::string& prefix) {
  return "accuracy: " + FormatNumber(MetricOr(run, (prefix + "accuracy").c_str()), 4) +
         ",  log-loss: " + FormatNumber(MetricOr(run, (prefix + "log_loss").c_str())) +
         ",  AUC: " + FormatNumber(MetricOr(run, (prefix + "auc").c_str()), 4);
}

// The held-out split's and the cross-validation's lines, when the run had them.
void PrintHeldOut(const v1::Run& run, std::string (*metrics)(const v1::Run&, const std::string&),
                  const char* probe, std::ostream& out) {
  if (run.metrics().count(std::string("test_") + probe) > 0)
    out << "Test " << metrics(run, "test_") << "  (" << run.n_test() << " rows)\n";
  if (run.metrics().count(std::string("cv_") + probe) > 0) {
    auto folds = run.params().find("cv_folds");
    out << "Cross-validated " << metrics(run, "cv_") << "  (mean over "
        << (folds == run.params().end() ? std::string("the") : folds->second) << " folds)\n";
  }
}

// As R's print(summary(lm)), then statsmodels' residual diagnostics.
void PrintOlsSummary(const v1::Run& run, std::ostream& out) {
  PrintTestedCoefficients(run, "t", out);
  if (auto se = run.params().find("se"); se != run.params().end() && se->second != "classic") {
    out << "Standard errors: " << se->second
        << " (heteroskedasticity-consistent sandwich); the F-test and R-squared stay classic\n";
  }
  const double df = run.df_residual();
  const int rank = static_cast<int>(std::lround(static_cast<double>(run.n_obs()) - df));
  out << "\nResidual standard error: " << FormatNumber(run.sigma(), 4) << " on "
      << FormatNumber(df) << " degrees of freedom\n";
  out << "Multiple R-squared:  " << FormatNumber(MetricOr(run, "r_squared"), 4)
      << ",\tAdjusted R-squared:  " << FormatNumber(MetricOr(run, "adj_r_squared"), 4) << "\n";
  const double f_p = MetricOr(run, "f_p_value");
  out << "F-statistic: " << FormatNumber(MetricOr(run, "f_statistic"), 4) << " on "
      << (rank - (HasIntercept(run) ? 1 : 0)) << " and " << FormatNumber(df) << " DF,  p-value: "
      << (f_p < 2.2e-16 ? std::string("< 2.2e-16") : FormatNumber(f_p, 4)) << "\n";
  out << "Log-likelihood: " << FormatNumber(MetricOr(run, "log_likelihood"), 7)
      << ",  AIC: " << FormatNumber(MetricOr(run, "aic"), 7)
      << ",  BIC: " << FormatNumber(MetricOr(run, "bic"), 7)
      << "  (R's convention: sigma counted as a parameter)\n";
  out << "Training RMSE: " << FormatNumber(MetricOr(run, "rmse")) << ",  MAE: "
      << FormatNumber(MetricOr(run, "mae")) << "\n";
  if (run.metrics().count("durbin_watson") > 0) {
    out << "Durbin-Watson: " << FormatNumber(MetricOr(run, "durbin_watson"), 4)
        << ",  Jarque-Bera: " << FormatNumber(MetricOr(run, "jarque_bera"), 4) << " (p "
        << FormatPValue(MetricOr(run, "jarque_bera_p_value")) << ")"
        << ",  Omnibus: " << FormatNumber(MetricOr(run, "omnibus"), 4) << " (p "
        << FormatPValue(MetricOr(run, "omnibus_p_value")) << ")\n";
    out << "Skew: " << FormatNumber(MetricOr(run, "skew"), 4)
        << ",  Kurtosis: " << FormatNumber(MetricOr(run, "kurtosis"), 4)
        << ",  Cond. No.: " << FormatNumber(MetricOr(run, "condition_number"), 4) << "\n";
  }
  PrintHeldOut(run, RegressionMetrics, "rmse", out);
}

// As R's print(summary(glm(family = binomial))), then the classification metrics.
void PrintLogisticSummary(const v1::Run& run, std::ostream& out) {
  PrintTestedCoefficients(run, "z", out);
  const int null_df = run.n_obs() - (HasIntercept(run) ? 1 : 0);
  out << "\n(Dispersion parameter for binomial family taken to be 1)\n\n";
  out << "    Null deviance: " << FormatNumber(MetricOr(run, "null_deviance"), 5) << "  on "
      << null_df << "  degrees of freedom\n";
  out << "Residual deviance: " << FormatNumber(MetricOr(run, "deviance"), 5) << "  on "
      << FormatNumber(run.df_residual()) << "  degrees of freedom\n";
  out << "AIC: " << FormatNumber(MetricOr(run, "aic"), 5) << "\n\n";
  out << "Log-likelihood: " << FormatNumber(MetricOr(run, "log_likelihood"), 7)
      << ",  BIC: " << FormatNumber(MetricOr(run, "bic"), 7) << "\n";
  out << "Training " << ClassificationMetrics(run, "") << "\n";
  PrintHeldOut(run, ClassificationMetrics, "accuracy", out);
}

// ridge, lasso, elasticnet: estimates only (a penalised fit has no standard errors); zeros
// print as "." as glmnet's coef() shows them.
void PrintPenalizedSummary(const v1::Run& run, std::ostream& out) {
  out << "\nCoefficients (alpha = " << FormatNumber(MetricOr(run, "alpha"))
      << ", lambda = " << FormatNumber(MetricOr(run, "lambda"))
      << "; fitted on standardised columns as glmnet, shown on the original scale):\n";
  Table table{{"", "Estimate"}, {}};
  int penalised = 0, nonzero = 0;
  for (const v1::Coefficient& c : run.coefficients()) {
    const bool zero = c.estimate() == 0;
    if (c.term() != "(Intercept)") {
      ++penalised;
      nonzero += zero ? 0 : 1;
    }
    table.rows.push_back({c.term(), zero ? "." : FormatNumber(c.estimate())});
  }
  PrintTable(table, out);
  out << nonzero << " of " << penalised << " penalised coefficients are nonzero\n";
  if (run.metrics().count("lambda_min") > 0) {
    out << "Cross-validated lambda: lambda.min = " << FormatNumber(MetricOr(run, "lambda_min"))
        << ",  lambda.1se = " << FormatNumber(MetricOr(run, "lambda_1se")) << "\n";
  }
  out << "\nTraining " << RegressionMetrics(run, "") << "\n";
  PrintHeldOut(run, RegressionMetrics, "rmse", out);
}

// The clusters as the fit logged them (size and centre), then inertia and silhouette.
void PrintKMeansSummary(const v1::Run& run, std::ostream& out) {
  out << "\nClusters:\n";
  for (const std::string& line : run.log()) {
    if (line.rfind("cluster ", 0) == 0) out << "  " << line << "\n";
  }
  out << "\nInertia (within-cluster sum of squares): " << FormatNumber(MetricOr(run, "inertia"))
      << ",  silhouette: " << FormatNumber(MetricOr(run, "silhouette"), 4) << "\n";
  if (run.metrics().count("test_inertia") > 0) {
    out << "Test inertia: " << FormatNumber(MetricOr(run, "test_inertia"))
        << ",  silhouette: " << FormatNumber(MetricOr(run, "test_silhouette"), 4) << "  ("
        << run.n_test() << " rows)\n";
  }
}

}  // namespace

void PrintRunSummary(const v1::Run& run, std::ostream& out) {
  out << "Run " << run.id() << "  " << RunStatusName(run.status()) << "  (experiment "
      << run.experiment() << ", dataset " << FormatRef(run.dataset()) << ", model "
      << run.model() << ")\n";
  out << "Formula: " << run.formula() << "\n";
  // A stepwise run searched that formula's terms; the model is the one it selected.
  constexpr std::string_view kSelected = "selected_formula: ";
  for (const std::string& line : run.log()) {
    if (line.rfind(kSelected, 0) == 0) out << "Selected: " << line.substr(kSelected.size()) << "\n";
  }
  if (!run.error().empty()) out << "Error: " << run.error() << "\n";
  if (run.status() != v1::RUN_STATUS_SUCCEEDED) return;
  out << "Missing data: " << run.missing() << " (" << run.rows_dropped() << " rows dropped); "
      << run.n_obs() << " rows fitted";
  if (run.test_fraction() > 0) {
    out << "; test fraction " << run.test_fraction() << ", seed " << run.seed() << " ("
        << run.n_test() << " test rows)";
  }
  out << "\n";
  const std::string& kind = run.model();
  if (kind == "logistic") {
    PrintLogisticSummary(run, out);
  } else if (kind == "ridge" || kind == "lasso" || kind == "elasticnet") {
    PrintPenalizedSummary(run, out);
  } else if (kind == "kmeans") {
    PrintKMeansSummary(run, out);
  } else {
    PrintOlsSummary(run, out);
  }
}

}  // namespace mlprod::client
