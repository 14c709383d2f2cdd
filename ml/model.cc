// Train, DeserializeModel, FrameFromRecords and the missing-strategy names (see model.h).
#include "ml/model.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "ml/design_matrix.h"
#include "ml/fit_data.h"
#include "ml/formula.h"
#include "ml/kmeans_model.h"
#include "ml/linear_model.h"
#include "ml/ols.h"
#include "ml/ols_model.h"
#include "ml/split.h"
#include "ml/train_kinds.h"

namespace mlprod::ml {
namespace {

bool RowComplete(const InputTable& t, size_t r) {
  for (const auto& col : t.columns)
    if (std::isnan(col[r])) return false;
  return true;
}

// Keeps the rows of `table` (and `y`) where keep[r].
void FilterRows(const std::vector<bool>& keep, InputTable* table, std::vector<double>* y) {
  size_t out = 0;
  for (size_t r = 0; r < table->rows; ++r) {
    if (!keep[r]) continue;
    for (auto& col : table->columns) col[out] = col[r];
    table->row_numbers[out] = table->row_numbers[r];
    (*y)[out] = (*y)[r];
    ++out;
  }
  for (auto& col : table->columns) col.resize(out);
  table->row_numbers.resize(out);
  y->resize(out);
  table->rows = out;
}

// Reads the inputs and response at `rows`, dropping rows with a missing response, and under
// kDrop rows with any missing input. Returns the number of rows dropped.
Result<size_t> ReadRows(const Frame& frame, const Column& response,
                        const std::vector<InputColumn>& signature, const std::vector<size_t>& rows,
                        MissingStrategy missing, InputTable* table, std::vector<double>* y) {
  MLPROD_ASSIGN_OR_RETURN(*table, ExtractInputs(frame, signature, rows));
  y->resize(rows.size());
  std::vector<bool> keep(rows.size());
  size_t dropped = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    (*y)[i] = response.values[rows[i]];
    keep[i] = !std::isnan((*y)[i]) && (missing != MissingStrategy::kDrop || RowComplete(*table, i));
    if (!keep[i]) ++dropped;
  }
  FilterRows(keep, table, y);
  return dropped;
}

Result<OlsOptions> ParseOlsParams(const std::map<std::string, std::string>& params) {
  OlsOptions o;
  for (const auto& [key, value] : params) {
    if (key == "tolerance") {
      char* end = nullptr;
      errno = 0;
      double t = std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0' || errno != 0 || !(t > 0 && t < 1))
        return Status::InvalidArgument("param tolerance must be a number in (0, 1), not '" + value +
                                       "'");
      o.tolerance = t;
    } else if (key == "se") {  // classic | HC0 | HC1 | HC2 | HC3
      MLPROD_ASSIGN_OR_RETURN(o.covariance, ParseCovarianceType(value));
    } else {
      return Status::InvalidArgument("unknown parameter '" + key + "' for model kind ols");
    }
  }
  return o;
}

// What Train and ValidateTrainOptions check before any row is read.
struct CheckedSpec {
  OlsOptions ols;
  const Column* response;
  Design design;
};

Result<CheckedSpec> CheckSpec(const Frame& frame, const TrainOptions& options) {
  const bool other = IsOtherKind(options.kind);
  if (options.kind != "ols" && !other)
    return Status::InvalidArgument(
        "unknown model kind '" + options.kind +
        "' (expected ols, logistic, ridge, lasso, elasticnet or kmeans)");
  OlsOptions ols_options;
  if (other) {
    MLPROD_RETURN_IF_ERROR(CheckKindParams(options));
  } else {
    MLPROD_ASSIGN_OR_RETURN(ols_options, ParseOlsParams(options.params));
  }
  if (!(options.test_fraction >= 0 && options.test_fraction < 1))
    return Status::InvalidArgument("test fraction must be in [0, 1)");

  std::vector<std::string> available;
  for (const Column& c : frame.columns) available.push_back(c.name);
  const bool one_sided = KindIsOneSided(options.kind);
  MLPROD_ASSIGN_OR_RETURN(ParsedFormula parsed,
                          ParseModelFormula(options.formula, available, one_sided));
  const Column* response = one_sided ? nullptr : frame.Find(parsed.response);
  if (other) {
    if (response != nullptr) MLPROD_RETURN_IF_ERROR(CheckKindResponse(options.kind, *response));
  } else if (response->type != ColumnType::kNumeric) {
    return Status::FailedPrecondition("response '" + parsed.response + "' is " +
                                      std::string(ColumnTypeName(response->type)) +
                                      "; ols needs a numeric response");
  }
  if (parsed.terms.empty() && !parsed.intercept)
    return Status::FailedPrecondition("the formula has no terms and no intercept");
  std::vector<InputColumn> signature = SignatureOf(frame, parsed);
  MLPROD_ASSIGN_OR_RETURN(Design design, Design::Create(std::move(parsed), signature));
  return CheckedSpec{ols_options, response, std::move(design)};
}

}  // namespace

std::string_view MissingStrategyName(MissingStrategy s) {
  switch (s) {
    case MissingStrategy::kDrop:
      return "drop";
    case MissingStrategy::kMean:
      return "mean";
    case MissingStrategy::kMedian:
      return "median";
  }
  return "drop";
}

Result<MissingStrategy> ParseMissingStrategy(std::string_view text) {
  if (text == "drop") return MissingStrategy::kDrop;
  if (text == "mean") return MissingStrategy::kMean;
  if (text == "median") return MissingStrategy::kMedian;
  return Status::InvalidArgument("unknown missing-data strategy '" + std::string(text) +
                                 "' (expected drop, mean or median)");
}

Status ValidateTrainOptions(const Frame& frame, const TrainOptions& options) {
  return CheckSpec(frame, options).status();
}

Result<TrainOutput> Train(const Frame& frame, const TrainOptions& options,
                          const ProgressFn& progress) {
  FitReport report;
  auto emit = [&](double fraction, const std::string& line) {
    if (!line.empty()) report.log.push_back(line);
    return !progress || progress(fraction, line);
  };
  const Status cancelled = Status::Cancelled("training cancelled");

  MLPROD_ASSIGN_OR_RETURN(CheckedSpec spec, CheckSpec(frame, options));
  if (IsOtherKind(options.kind))
    return TrainOtherKind(frame, options, spec.response, std::move(spec.design), progress);
  const OlsOptions& ols_options = spec.ols;
  const Column* response = spec.response;
  Design& design = spec.design;
  const std::vector<InputColumn>& signature = design.signature();
  if (!emit(0.1, "parsed formula: " + options.formula + " (" + std::to_string(design.cols()) +
                     " design columns)"))
    return cancelled;

  std::vector<size_t> train_rows, test_rows;
  SplitRows(frame.rows, options.test_fraction, options.seed, &train_rows, &test_rows);

  InputTable train;
  std::vector<double> y_train;
  MLPROD_ASSIGN_OR_RETURN(report.rows_dropped,
                          ReadRows(frame, *response, design.signature(), train_rows,
                                   options.missing, &train, &y_train));
  if (train.rows == 0)
    return Status::FailedPrecondition("every training row was dropped by missing-data handling (" +
                                      std::to_string(report.rows_dropped) + " rows)");
  std::vector<double> imputation(signature.size(), NAN);
  if (options.missing != MissingStrategy::kDrop)
    imputation = ComputeImputation(train, design.signature(), options.missing);
  MLPROD_RETURN_IF_ERROR(FillMissing(design.signature(), options.missing, imputation, &train));
  MLPROD_RETURN_IF_ERROR(design.Fit(train));  // poly() coefficients, ns() knots

  MLPROD_ASSIGN_OR_RETURN(Eigen::MatrixXd x, design.Build(train));
  Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(y_train.data(), y_train.size());
  if (!emit(0.3, "design matrix " + std::to_string(x.rows()) + " x " + std::to_string(x.cols()) +
                     " (" + std::to_string(report.rows_dropped) + " rows dropped)"))
    return cancelled;

  MLPROD_ASSIGN_OR_RETURN(OlsFit fit, FitOls(x, y, ols_options));
  std::string qr_line =
      "QR done: rank " + std::to_string(fit.rank) + " of " + std::to_string(x.cols());
  for (size_t j = 0; j < fit.aliased.size(); ++j)
    if (fit.aliased[j]) qr_line += "; aliased " + design.column_names()[j];
  if (fit.covariance != CovarianceType::kClassic)
    qr_line += "; standard errors " + std::string(CovarianceTypeName(fit.covariance)) +
               " (heteroskedasticity-consistent sandwich, t on " +
               FormatG(fit.df_residual) + " df)";
  if (!emit(0.7, qr_line)) return cancelled;

  auto model = std::make_shared<OlsModel>(design, options.missing, imputation, fit);
  MLPROD_ASSIGN_OR_RETURN(std::vector<double> fitted, model->PredictDesign(x));
  report.coefficients = OlsCoefficientTable(fit, design.column_names());
  report.metrics = OlsMetrics(fit, design.intercept(), y, fitted);
  SamplePlotPoints(fitted, y_train, &report);
  report.sigma = fit.sigma;
  report.df_residual = fit.df_residual;
  report.n_obs = fit.n;

  if (!test_rows.empty()) {
    InputTable test;
    std::vector<double> y_test;
    MLPROD_ASSIGN_OR_RETURN(size_t skipped, ReadRows(frame, *response, design.signature(),
                                                     test_rows, options.missing, &test, &y_test));
    (void)skipped;
    MLPROD_RETURN_IF_ERROR(model->Impute(&test));
    MLPROD_ASSIGN_OR_RETURN(std::vector<double> pred, model->PredictInputs(test));
    report.n_test = test.rows;
    if (test.rows > 0) {
      long double mean = 0, sse = 0, sae = 0, sst = 0;
      for (double v : y_test) mean += v;
      mean /= test.rows;
      for (size_t i = 0; i < test.rows; ++i) {
        long double e = static_cast<long double>(y_test[i]) - pred[i];
        sse += e * e;
        sae += std::fabs(e);
        sst += (y_test[i] - mean) * (y_test[i] - mean);
      }
      report.metrics["test_rmse"] = static_cast<double>(std::sqrt(sse / test.rows));
      report.metrics["test_mae"] = static_cast<double>(sae / test.rows);
      report.metrics["test_r_squared"] = sst > 0 ? static_cast<double>(1 - sse / sst) : NAN;
    }
  }
  std::string summary = "fit: n=" + std::to_string(fit.n) + " rank=" + std::to_string(fit.rank) +
                        " sigma=" + FormatG(fit.sigma) +
                        " R2=" + FormatG(report.metrics["r_squared"]);
  if (report.metrics.count("test_rmse"))
    summary += " test_rmse=" + FormatG(report.metrics["test_rmse"]) +
               " (n_test=" + std::to_string(report.n_test) + ")";
  if (!emit(1.0, summary)) return cancelled;
  return TrainOutput{std::move(model), std::move(report)};
}

Result<std::shared_ptr<const Model>> DeserializeModel(std::string_view bytes) {
  // Dispatch on "kind"; OLS's own reader handles "ols" and every malformed document.
  nlohmann::json j =
      nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("kind") || !j["kind"].is_string() ||
      j.value("format", "") != "mlprod-model")
    return DeserializeOlsModel(bytes);
  const std::string kind = j["kind"].get<std::string>();
  if (kind == "ols") return DeserializeOlsModel(bytes);
  try {
    if (kind == "kmeans") return DeserializeKMeansModel(j);
    if (kind == "logistic" || kind == "ridge" || kind == "lasso" || kind == "elasticnet")
      return DeserializeLinearModel(j);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("malformed model: ") + e.what());
  }
  return Status::InvalidArgument("unknown model kind " + j["kind"].dump());
}

Result<Frame> FrameFromRecords(const std::vector<InputColumn>& signature,
                               const std::vector<std::map<std::string, std::string>>& records) {
  Frame frame;
  frame.rows = records.size();
  for (const InputColumn& in : signature) {
    Column c;
    c.name = in.name;
    c.type = in.type;
    c.levels = in.levels;
    frame.columns.push_back(std::move(c));
  }
  for (size_t r = 0; r < records.size(); ++r) {
    const auto& record = records[r];
    auto where = [&](const std::string& column) {
      return "row " + std::to_string(r + 1) + ", column '" + column + "': ";
    };
    for (const auto& [key, value] : record) {
      bool known = std::any_of(signature.begin(), signature.end(),
                               [&](const InputColumn& in) { return in.name == key; });
      if (!known) return Status::InvalidArgument(where(key) + "not an input of the model");
    }
    for (size_t c = 0; c < signature.size(); ++c) {
      const InputColumn& in = signature[c];
      Column& col = frame.columns[c];
      auto it = record.find(in.name);
      if (it == record.end()) return Status::InvalidArgument(where(in.name) + "value is absent");
      const std::string& text = it->second;
      if (text.empty()) return Status::InvalidArgument(where(in.name) + "empty value");
      if (in.type == ColumnType::kNumeric) {
        char* end = nullptr;
        errno = 0;
        double v = std::strtod(text.c_str(), &end);
        while (*end == ' ' || *end == '\t') ++end;
        if (end == text.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
          return Status::InvalidArgument(where(in.name) + "'" + text + "' is not a finite number");
        col.values.push_back(v);
      } else {
        auto level = std::find(in.levels.begin(), in.levels.end(), text);
        if (level == in.levels.end()) {
          std::string known;
          for (const auto& l : in.levels) known += (known.empty() ? "" : ", ") + l;
          return Status::InvalidArgument(where(in.name) + "'" + text +
                                         "' is not a training level (" + known + ")");
        }
        col.codes.push_back(static_cast<int32_t>(level - in.levels.begin()));
      }
    }
  }
  return frame;
}

}  // namespace mlprod::ml
