// Train, DeserializeModel, FrameFromRecords and the missing-strategy names (see model.h).
#include "ml/model.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "ml/cross_validation.h"
#include "ml/design_matrix.h"
#include "ml/fit_data.h"
#include "ml/formula.h"
#include "ml/kmeans_model.h"
#include "ml/linear_model.h"
#include "ml/logistic.h"
#include "ml/ols.h"
#include "ml/ols_model.h"
#include "ml/split.h"
#include "ml/stepwise.h"
#include "ml/stored_json.h"
#include "ml/train_kinds.h"

namespace mlprod::ml {

// The rows of `frame` a fit can use: response present (when there is one) and, under kDrop,
// every signature column present. Ascending.
std::vector<size_t> UsableRows(const Frame& frame, const Column* response,
                               const std::vector<InputColumn>& signature,
                               MissingStrategy missing) {
  std::vector<const Column*> inputs;
  for (const InputColumn& in : signature) inputs.push_back(frame.Find(in.name));
  std::vector<size_t> rows;
  for (size_t r = 0; r < frame.rows; ++r) {
    if (response != nullptr && response->IsMissing(r)) continue;
    bool ok = true;
    if (missing == MissingStrategy::kDrop)
      for (const Column* c : inputs)
        if (c != nullptr && c->IsMissing(r)) ok = false;
    if (ok) rows.push_back(r);
  }
  return rows;
}

Frame SubFrame(const Frame& frame, const std::vector<size_t>& rows) {
  Frame out;
  out.rows = rows.size();
  for (const Column& c : frame.columns) {
    Column s;
    s.name = c.name;
    s.type = c.type;
    s.levels = c.levels;  // the same levels in every fold, so every fold has one signature
    if (c.type == ColumnType::kNumeric) {
      s.values.reserve(rows.size());
      for (size_t r : rows) s.values.push_back(c.values[r]);
    } else {
      s.codes.reserve(rows.size());
      for (size_t r : rows) s.codes.push_back(c.codes[r]);
    }
    for (size_t i = 0; i < rows.size(); ++i) s.missing += s.IsMissing(i) ? 1 : 0;
    out.columns.push_back(std::move(s));
  }
  return out;
}

namespace {

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
  if (options.folds != 0) {
    if (options.folds < 2)
      return Status::InvalidArgument("folds must be at least 2, not " +
                                     std::to_string(options.folds));
    if (static_cast<size_t>(options.folds) > frame.rows)
      return Status::InvalidArgument("folds (" + std::to_string(options.folds) +
                                     ") exceeds the number of rows (" +
                                     std::to_string(frame.rows) + ")");
    if (options.test_fraction > 0)
      return Status::InvalidArgument(
          "folds and test fraction are mutually exclusive: choose k-fold CV or a held-out split");
  }
  if (!options.select.empty() || !options.criterion.empty()) {
    if (options.select != "forward" && options.select != "backward")
      return Status::InvalidArgument("unknown selection '" + options.select +
                                     "' (expected forward or backward)");
    if (!options.criterion.empty() && options.criterion != "aic" && options.criterion != "bic")
      return Status::InvalidArgument("unknown criterion '" + options.criterion +
                                     "' (expected aic or bic)");
    if (options.kind != "ols")
      return Status::InvalidArgument("stepwise selection is only available for model kind ols, not " +
                                     options.kind);
  }

  std::vector<std::string> available;
  for (const Column& c : frame.columns) available.push_back(c.name);
  const bool one_sided = KindIsOneSided(options.kind);
  MLPROD_ASSIGN_OR_RETURN(
      ParsedFormula parsed,
      ParseModelFormula(options.formula, available, one_sided, options.formula_limits));
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

// Held-out metrics of `model` on `rows` (a frame of usable rows), without a prefix: rmse, mae,
// r_squared (regression kinds); accuracy, log_loss, auc (logistic); inertia (kmeans).
Status ScoreHeldOut(const Model& model, const Frame& rows, const Column* response,
                    std::map<std::string, double>* metrics) {
  if (model.kind() == "kmeans") {
    nlohmann::json j = nlohmann::json::parse(model.Serialize());
    Result<Pipeline> pipeline = Status::Internal("unreadable pipeline");
    try {
      pipeline = PipelineFromJson(j, /*one_sided=*/true);
    } catch (const nlohmann::json::exception& e) {
      return Status::Internal(std::string("kmeans pipeline: ") + e.what());
    }
    if (!pipeline.ok()) return pipeline.status();
    MLPROD_ASSIGN_OR_RETURN(InputTable table, PipelineInputs(*pipeline, rows));
    const auto& km = static_cast<const KMeansModel&>(model);
    MLPROD_ASSIGN_OR_RETURN(Eigen::MatrixXd x, km.Features(table));
    MLPROD_ASSIGN_OR_RETURN(std::vector<double> labels, km.PredictInputs(table));
    long double inertia = 0;
    for (Eigen::Index i = 0; i < x.rows(); ++i)
      inertia += (x.row(i) - km.centers().row(static_cast<Eigen::Index>(labels[i]))).squaredNorm();
    (*metrics)["inertia"] = static_cast<double>(inertia);
    return Status::Ok();
  }
  MLPROD_ASSIGN_OR_RETURN(std::vector<Prediction> pred, model.Predict(rows, PredictOptions{}));
  const Column* y_col = rows.Find(response->name);
  std::vector<double> y(rows.rows), value(rows.rows);
  for (size_t i = 0; i < rows.rows; ++i) {
    y[i] = y_col->type == ColumnType::kNumeric ? y_col->values[i] : y_col->codes[i];
    value[i] = pred[i].value;
  }
  if (model.kind() == "logistic")
    AddClassificationMetrics(y, value, "", metrics);
  else
    AddRegressionMetrics(y, value, "", metrics);
  return Status::Ok();
}

Result<TrainOutput> TrainCrossValidated(const Frame& frame, const TrainOptions& options,
                                        const CheckedSpec& spec, const ProgressFn& progress) {
  const Status cancelled = Status::Cancelled("training cancelled");
  const int k = options.folds;
  const std::vector<size_t> usable =
      UsableRows(frame, spec.response, spec.design.signature(), options.missing);
  if (usable.size() < static_cast<size_t>(k))
    return Status::FailedPrecondition(
        "folds (" + std::to_string(k) + ") exceeds the number of usable rows (" +
        std::to_string(usable.size()) + " after missing-data handling)");
  const std::vector<int> fold = AssignFolds(usable.size(), k, options.seed);
  TrainOptions inner = options;
  inner.folds = 0;
  inner.test_fraction = 0;
  std::vector<std::string> lines;
  auto emit = [&](double fraction, const std::string& line) {
    if (!line.empty()) lines.push_back(line);
    return !progress || progress(fraction, line);
  };
  const double span = 0.9 / (k + 1);
  std::map<std::string, std::vector<double>> per_fold;
  for (int f = 0; f < k; ++f) {
    if (!emit(f * span, "")) return cancelled;
    std::vector<size_t> train_rows, test_rows;
    for (size_t i = 0; i < usable.size(); ++i)
      (fold[i] == f ? test_rows : train_rows).push_back(usable[i]);
    const Frame train = SubFrame(frame, train_rows), test = SubFrame(frame, test_rows);
    Result<TrainOutput> fit = Train(train, inner, [&](double p, const std::string&) {
      return !progress || progress((f + p) * span, "");
    });
    const std::string where =
        "fold " + std::to_string(f + 1) + " of " + std::to_string(k) + ": ";
    if (!fit.ok()) {
      if (fit.status().code() == StatusCode::kCancelled) return cancelled;
      return Status(fit.status().code(), where + fit.status().message());
    }
    std::map<std::string, double> m;
    Status scored = ScoreHeldOut(*fit->model, test, spec.response, &m);
    if (!scored.ok()) return Status(scored.code(), where + scored.message());
    std::string line = where + "trained on " + std::to_string(fit->report.n_obs) +
                       " rows, held out " + std::to_string(test.rows);
    for (const auto& [key, value] : m) {
      per_fold[key].push_back(value);
      line += " " + key + "=" + FormatG(value);
    }
    if (!emit((f + 1) * span, line)) return cancelled;
  }
  Result<TrainOutput> final_fit = Train(frame, inner, [&](double p, const std::string& line) {
    return !progress || progress(k * span + p * (1 - k * span), line);
  });
  if (!final_fit.ok()) return final_fit.status();
  TrainOutput out = std::move(final_fit).value();
  std::string summary = std::to_string(k) + "-fold CV (seed " + std::to_string(options.seed) +
                        ", " + std::to_string(usable.size()) +
                        " usable rows; mean over folds of finite fold values):";
  for (const auto& [key, values] : per_fold) {
    long double sum = 0;
    size_t count = 0;
    for (double v : values)
      if (std::isfinite(v)) sum += v, ++count;
    const double mean = count ? static_cast<double>(sum / count) : NAN;
    out.report.metrics["cv_" + key] = mean;
    summary += " cv_" + key + "=" + FormatG(mean);
  }
  lines.push_back(summary);
  out.report.log.insert(out.report.log.begin(), lines.begin(), lines.end());
  if (progress && !progress(1.0, summary)) return cancelled;
  return out;
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

Status TakePlanParams(TrainOptions* options) {
  auto& params = options->params;
  if (auto it = params.find(kFoldsParam); it != params.end()) {
    MLPROD_ASSIGN_OR_RETURN(long long k, ParseIntParam(kFoldsParam, it->second, 0, 1LL << 30));
    options->folds = static_cast<int>(k);
    params.erase(it);
  }
  if (auto it = params.find(kSelectParam); it != params.end()) {
    options->select = it->second;
    params.erase(it);
  }
  if (auto it = params.find(kCriterionParam); it != params.end()) {
    options->criterion = it->second;
    params.erase(it);
  }
  return Status::Ok();
}

Status ValidateTrainOptions(const Frame& frame, const TrainOptions& options) {
  return CheckSpec(frame, options).status();
}

Result<TrainOutput> Train(const Frame& frame, const TrainOptions& options,
                          const ProgressFn& progress) {
  FitReport report;
  const Emitter emit{&report, &progress};
  const Status cancelled = Status::Cancelled("training cancelled");

  MLPROD_ASSIGN_OR_RETURN(CheckedSpec spec, CheckSpec(frame, options));
  if (!options.select.empty()) return TrainStepwise(frame, options, progress);
  if (options.folds > 0) return TrainCrossValidated(frame, options, spec, progress);
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
                          ReadRows(frame, response, design.signature(), train_rows,
                                   options.missing, &train, &y_train));
  if (train.rows == 0) return NoTrainingRows(train_rows.size(), report.rows_dropped);
  std::vector<double> imputation(signature.size(), NAN);
  if (options.missing != MissingStrategy::kDrop) {  // under kDrop ReadRows left no missing cell
    imputation = ComputeImputation(train, design.signature(), options.missing);
    MLPROD_RETURN_IF_ERROR(FillMissing(design.signature(), options.missing, imputation, &train));
  }
  MLPROD_RETURN_IF_ERROR(design.Fit(train));  // poly() coefficients, ns() knots

  // The design's bare numeric columns are the frame's own (read in place, not copied).
  MLPROD_ASSIGN_OR_RETURN(ColumnMatrix x, design.BuildColumns(train));
  if (!emit(0.3, "design matrix " + std::to_string(x.rows()) + " x " + std::to_string(x.cols()) +
                     " (" + std::to_string(report.rows_dropped) + " rows dropped)"))
    return cancelled;

  MLPROD_ASSIGN_OR_RETURN(OlsFit fit,
                          FitOls(x, y_train.data(), ols_options, emit.Span(0.3, 0.7)));
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
  const DoubleBuffer fitted = AllocateDoubles(x.rows());
  OlsPredictColumns(fit, x, fitted.get());
  report.coefficients = OlsCoefficientTable(fit, design.column_names());
  report.metrics = OlsMetrics(fit, design.intercept(), y_train.data(), fitted.get());
  SamplePlotPoints(fitted.get(), y_train.data(), fit.n, &report);
  report.sigma = fit.sigma;
  report.df_residual = fit.df_residual;
  report.n_obs = fit.n;

  if (!test_rows.empty()) {
    InputTable test;
    std::vector<double> y_test;
    MLPROD_ASSIGN_OR_RETURN(size_t skipped, ReadRows(frame, response, design.signature(),
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
  if (JsonNestedDeeperThan(bytes, kMaxStoredJsonDepth))
    return Status::DataLoss("not an mlprod model: JSON nested deeper than " +
                            std::to_string(kMaxStoredJsonDepth) + " levels");
  // Dispatch on "kind"; OLS's own reader handles "ols" and every malformed document.
  nlohmann::json j =
      nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  // Comparisons, not j.value("format", ""): value() throws when the key holds another type.
  if (j.is_discarded() || !j.is_object() || !j.contains("kind") || !j["kind"].is_string() ||
      !j.contains("format") || j["format"] != "mlprod-model")
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

bool IsMissingCell(std::string_view text) {
  return text.empty() || text == "NA" || text == "N/A" || text == "null";
}

Result<Frame> FrameFromRecords(const std::vector<InputColumn>& signature,
                               const std::vector<TextRecord>& records) {
  Frame frame;
  frame.rows = records.size();
  frame.columns.reserve(signature.size());
  for (const InputColumn& in : signature) {
    Column c;
    c.name = in.name;
    c.type = in.type;
    c.levels = in.levels;
    if (in.type == ColumnType::kNumeric) {
      c.values.reserve(records.size());
    } else {
      c.codes.reserve(records.size());
    }
    frame.columns.push_back(std::move(c));
  }
  std::string number;  // strtod needs a terminated string; a short number stays in place
  for (size_t r = 0; r < records.size(); ++r) {
    const TextRecord& record = records[r];
    auto where = [&](std::string_view column) {
      return "row " + std::to_string(r + 1) + ", column '" + std::string(column) + "': ";
    };
    for (const auto& field : record) {
      const std::string_view key = field.first;  // clang 14 cannot capture a structured binding
      bool known = std::any_of(signature.begin(), signature.end(),
                               [&](const InputColumn& in) { return in.name == key; });
      if (!known) return Status::InvalidArgument(where(key) + "not an input of the model");
    }
    for (size_t c = 0; c < signature.size(); ++c) {
      const InputColumn& in = signature[c];
      Column& col = frame.columns[c];
      auto it = std::find_if(record.begin(), record.end(),
                             [&](const auto& field) { return field.first == in.name; });
      if (it == record.end()) return Status::InvalidArgument(where(in.name) + "value is absent");
      const std::string_view text = it->second;
      if (IsMissingCell(text)) {  // the model imputes it, or names it if it cannot
        if (in.type == ColumnType::kNumeric) {
          col.values.push_back(NAN);
        } else {
          col.codes.push_back(-1);
        }
        ++col.missing;
        continue;
      }
      if (in.type == ColumnType::kNumeric) {
        number.assign(text);
        char* end = nullptr;
        errno = 0;
        double v = std::strtod(number.c_str(), &end);
        while (*end == ' ' || *end == '\t') ++end;
        // The whole cell, so "1\0x" (a NUL inside) is refused, not read as 1.
        if (end == number.c_str() || end != number.c_str() + number.size() || errno == ERANGE ||
            !std::isfinite(v))
          return Status::InvalidArgument(where(in.name) + "'" + number +
                                         "' is not a finite number");
        col.values.push_back(v);
      } else {
        auto level = std::find(in.levels.begin(), in.levels.end(), text);
        if (level == in.levels.end()) {
          std::string known;
          for (const auto& l : in.levels) known += (known.empty() ? "" : ", ") + l;
          return Status::InvalidArgument(where(in.name) + "'" + std::string(text) +
                                         "' is not a training level (" + known + ")");
        }
        col.codes.push_back(static_cast<int32_t>(level - in.levels.begin()));
      }
    }
  }
  return frame;
}

}  // namespace mlprod::ml
