#include "ml/train_kinds.h"

#include <cmath>

#include "ml/cross_validation.h"
#include "ml/glmnet.h"
#include "ml/kmeans.h"
#include "ml/kmeans_model.h"
#include "ml/linear_model.h"
#include "ml/logistic.h"

namespace mlprod::ml {
namespace {

constexpr size_t kSilhouetteRows = 5000;

bool IsPenalized(const std::string& kind) {
  return kind == "ridge" || kind == "lasso" || kind == "elasticnet";
}

struct PenalizedParams {
  double alpha = 1;
  double lambda = NAN;  // NaN: cross-validated
  bool one_se = false;
  int folds = 10;
  uint64_t cv_seed = 0;
};

Result<PenalizedParams> ParsePenalized(const TrainOptions& o) {
  PenalizedParams p;
  p.alpha = o.kind == "ridge" ? 0.0 : o.kind == "lasso" ? 1.0 : 0.5;
  p.cv_seed = o.seed;
  bool folds_given = false;
  for (const auto& [key, value] : o.params) {
    if (key == "alpha" && o.kind == "elasticnet") {
      MLPROD_ASSIGN_OR_RETURN(p.alpha, ParseNumberParam(key, value, 0, 1));
    } else if (key == "lambda") {
      if (value == "cv") continue;
      if (value == "cv1se") {
        p.one_se = true;
        continue;
      }
      Result<double> v = ParseNumberParam(key, value, 0, HUGE_VAL);
      if (!v.ok())
        return Status::InvalidArgument("param lambda must be a number >= 0, cv or cv1se, not '" +
                                       value + "'");
      p.lambda = *v;
    } else if (key == "folds") {
      MLPROD_ASSIGN_OR_RETURN(long long f, ParseIntParam(key, value, 2, 1000));
      p.folds = static_cast<int>(f);
      folds_given = true;
    } else if (key == "cv_seed") {
      MLPROD_ASSIGN_OR_RETURN(long long s, ParseIntParam(key, value, 0, INT64_MAX));
      p.cv_seed = static_cast<uint64_t>(s);
    } else {
      return Status::InvalidArgument("unknown parameter '" + key + "' for model kind " + o.kind);
    }
  }
  if (folds_given && !std::isnan(p.lambda))
    return Status::InvalidArgument("param folds applies only to lambda=cv or lambda=cv1se");
  return p;
}

Result<KMeansOptions> ParseKMeans(const TrainOptions& o) {
  KMeansOptions k;
  k.seed = o.seed;
  bool have_k = false;
  for (const auto& [key, value] : o.params) {
    if (key == "k") {
      MLPROD_ASSIGN_OR_RETURN(long long v, ParseIntParam(key, value, 1, 100000));
      k.k = static_cast<int>(v);
      have_k = true;
    } else if (key == "n_init") {
      MLPROD_ASSIGN_OR_RETURN(long long v, ParseIntParam(key, value, 1, 1000));
      k.n_init = static_cast<int>(v);
    } else if (key == "tol") {
      MLPROD_ASSIGN_OR_RETURN(k.tol, ParseNumberParam(key, value, 0, 1));
    } else if (key == "max_iter") {
      MLPROD_ASSIGN_OR_RETURN(long long v, ParseIntParam(key, value, 1, 1000000));
      k.max_iter = static_cast<int>(v);
    } else if (key == "seed") {
      MLPROD_ASSIGN_OR_RETURN(long long v, ParseIntParam(key, value, 0, INT64_MAX));
      k.seed = static_cast<uint64_t>(v);
    } else {
      return Status::InvalidArgument("unknown parameter '" + key + "' for model kind kmeans");
    }
  }
  if (!have_k)
    return Status::InvalidArgument("param k (the number of clusters) is required for kmeans");
  return k;
}

Pipeline MakePipeline(Design design, const TrainOptions& o, std::vector<double> imputation) {
  Pipeline p;
  p.design = std::move(design);
  p.formula_text = o.formula;
  p.missing = o.missing;
  p.imputation = std::move(imputation);
  return p;
}

// Logistic targets as 0/1; FAILED_PRECONDITION naming the row for a numeric value not 0 or 1.
Status ToBinary(const Column& response, const InputTable& t, std::vector<double>* y) {
  if (response.type != ColumnType::kNumeric) return Status::Ok();  // codes 0/1 already
  for (size_t i = 0; i < y->size(); ++i)
    if ((*y)[i] != 0 && (*y)[i] != 1)
      return Status::FailedPrecondition("row " + std::to_string(t.RowNumber(i)) + ", column '" +
                                        response.name + "': logistic needs a 0/1 response, not " +
                                        FormatG((*y)[i]));
  return Status::Ok();
}

Result<TrainOutput> TrainLogistic(const Frame& frame, const TrainOptions& options,
                                  const Column& response, Design design, const Emitter& emit) {
  const Status cancelled = Status::Cancelled("training cancelled");
  MLPROD_ASSIGN_OR_RETURN(FitData data, PrepareFitData(frame, &response, design, options));
  MLPROD_RETURN_IF_ERROR(design.Fit(data.train));  // poly() coefficients, ns() knots
  MLPROD_RETURN_IF_ERROR(ToBinary(response, data.train, &data.y_train));
  MLPROD_RETURN_IF_ERROR(ToBinary(response, data.test, &data.y_test));
  TrainOutput out;
  FitReport& report = out.report;
  report.log.swap(emit.report->log);
  Emitter e{&report, emit.progress};
  MLPROD_ASSIGN_OR_RETURN(Eigen::MatrixXd x, design.Build(data.train));
  Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(data.y_train.data(), data.y_train.size());
  const std::string positive = response.type == ColumnType::kNumeric ? "1" : response.levels[1];
  if (!e(0.3, "design matrix " + std::to_string(x.rows()) + " x " + std::to_string(x.cols()) +
                  " (" + std::to_string(data.rows_dropped) + " rows dropped); modelling P(" +
                  response.name + " = " + positive + ")"))
    return cancelled;
  MLPROD_ASSIGN_OR_RETURN(LogisticFit fit,
                          FitLogistic(x, y, design.intercept(), design.column_names(),
                                      e.Span(0.3, 0.8)));
  std::string line = "IRLS converged in " + std::to_string(fit.iterations) + " iterations: rank " +
                     std::to_string(fit.rank) + " of " + std::to_string(x.cols());
  for (size_t j = 0; j < fit.aliased.size(); ++j)
    if (fit.aliased[j]) line += "; aliased " + design.column_names()[j];
  if (!e(0.8, line)) return cancelled;

  report.coefficients = LogisticCoefficientTable(fit, design.column_names());
  report.n_obs = fit.n;
  report.rows_dropped = data.rows_dropped;
  report.df_residual = static_cast<double>(fit.n - fit.rank);
  auto& m = report.metrics;
  const double k = static_cast<double>(fit.rank);
  m["deviance"] = fit.deviance;
  m["null_deviance"] = fit.null_deviance;
  m["log_likelihood"] = -fit.deviance / 2;
  m["aic"] = fit.deviance + 2 * k;
  m["bic"] = fit.deviance + std::log(static_cast<double>(fit.n)) * k;
  auto model = std::make_shared<LinearModel>(
      "logistic", MakePipeline(std::move(design), options, data.imputation), fit, NAN, NAN);
  MLPROD_ASSIGN_OR_RETURN(std::vector<double> prob, model->PredictInputs(data.train));
  AddClassificationMetrics(data.y_train, prob, "", &m);
  SamplePlotPoints(prob.data(), data.y_train.data(), prob.size(), &report);
  if (data.test.rows > 0) {
    MLPROD_ASSIGN_OR_RETURN(std::vector<double> tp, model->PredictInputs(data.test));
    AddClassificationMetrics(data.y_test, tp, "test_", &m);
  }
  report.n_test = data.test.rows;
  std::string summary = "fit: n=" + std::to_string(fit.n) + " deviance=" + FormatG(fit.deviance) +
                        " AIC=" + FormatG(m["aic"]) + " accuracy=" + FormatG(m["accuracy"]) +
                        " AUC=" + FormatG(m["auc"]);
  if (m.count("test_auc"))
    summary +=
        " test_auc=" + FormatG(m["test_auc"]) + " (n_test=" + std::to_string(report.n_test) + ")";
  report.log.push_back(
      "z values are Wald's; confidence intervals are Wald intervals "
      "(estimate ± 1.96·SE), as R's confint.default");
  if (!e(1.0, summary)) return cancelled;
  out.model = std::move(model);
  return out;
}

Result<TrainOutput> TrainPenalized(const Frame& frame, const TrainOptions& options,
                                   const Column& response, Design design, const Emitter& emit) {
  const Status cancelled = Status::Cancelled("training cancelled");
  MLPROD_ASSIGN_OR_RETURN(PenalizedParams params, ParsePenalized(options));
  MLPROD_ASSIGN_OR_RETURN(FitData data, PrepareFitData(frame, &response, design, options));
  MLPROD_RETURN_IF_ERROR(design.Fit(data.train));  // poly() coefficients, ns() knots
  TrainOutput out;
  FitReport& report = out.report;
  report.log.swap(emit.report->log);
  Emitter e{&report, emit.progress};
  MLPROD_ASSIGN_OR_RETURN(Eigen::MatrixXd full, design.Build(data.train));
  const bool intercept = design.intercept();
  Eigen::MatrixXd x = intercept ? Eigen::MatrixXd(full.rightCols(full.cols() - 1)) : full;
  Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(data.y_train.data(), data.y_train.size());
  if (!e(0.2, "design matrix " + std::to_string(full.rows()) + " x " + std::to_string(full.cols()) +
                  " (" + std::to_string(data.rows_dropped) +
                  " rows dropped); alpha=" + FormatG(params.alpha)))
    return cancelled;
  MLPROD_ASSIGN_OR_RETURN(ElasticNet net, ElasticNet::Create(x, y, intercept, params.alpha));
  auto& m = report.metrics;
  std::vector<double> lambdas;
  if (std::isnan(params.lambda)) {
    MLPROD_ASSIGN_OR_RETURN(LambdaCv cv,
                            CrossValidateLambda(x, y, intercept, params.alpha, params.folds,
                                                params.cv_seed, e.Span(0.2, 0.8)));
    m["lambda_min"] = cv.lambda_min;
    m["lambda_1se"] = cv.lambda_1se;
    const size_t idx = params.one_se ? cv.index_1se : cv.index_min;
    lambdas.assign(cv.lambdas.begin(), cv.lambdas.begin() + idx + 1);
    if (!e(0.8, std::to_string(params.folds) + "-fold CV over " +
                    std::to_string(cv.lambdas.size()) + " lambdas (" + FormatG(cv.lambdas.front()) +
                    " .. " + FormatG(cv.lambdas.back()) +
                    "): lambda_min=" + FormatG(cv.lambda_min) + " (cv mse " +
                    FormatG(cv.cvm[cv.index_min]) + "), lambda_1se=" + FormatG(cv.lambda_1se) +
                    "; fitting at " + (params.one_se ? "lambda_1se" : "lambda_min")))
      return cancelled;
  } else {
    lambdas = {params.lambda};
  }
  const ElasticNetCoef c = net.Fit(lambdas).back();
  m["lambda"] = c.lambda;
  m["alpha"] = params.alpha;

  LogisticFit fit;  // coefficients only: penalised fits have no covariance
  fit.n = data.train.rows;
  if (intercept) fit.coef.push_back(c.intercept);
  fit.coef.insert(fit.coef.end(), c.beta.begin(), c.beta.end());
  fit.aliased.assign(fit.coef.size(), false);
  for (size_t j = 0; j < fit.coef.size(); ++j) fit.kept.push_back(static_cast<int>(j));
  fit.rank = fit.kept.size();
  const auto& names = design.column_names();
  for (size_t j = 0; j < names.size(); ++j) {
    CoefficientRow row;
    row.term = names[j];
    row.estimate = fit.coef[j];
    report.coefficients.push_back(row);
  }
  report.n_obs = fit.n;
  report.rows_dropped = data.rows_dropped;
  auto model = std::make_shared<LinearModel>(
      options.kind, MakePipeline(std::move(design), options, data.imputation), fit, c.lambda,
      params.alpha);
  MLPROD_ASSIGN_OR_RETURN(std::vector<double> fitted, model->PredictInputs(data.train));
  AddRegressionMetrics(data.y_train, fitted, "", &m);
  SamplePlotPoints(fitted.data(), data.y_train.data(), fitted.size(), &report);
  if (data.test.rows > 0) {
    MLPROD_ASSIGN_OR_RETURN(std::vector<double> tp, model->PredictInputs(data.test));
    AddRegressionMetrics(data.y_test, tp, "test_", &m);
  }
  report.n_test = data.test.rows;
  report.log.push_back(
      "standard errors, t, p and confidence intervals are not defined for penalised fits "
      "(reported as NA); coefficients are on the original scale, fitted on columns "
      "standardised as glmnet does");
  std::string summary = "fit: n=" + std::to_string(fit.n) + " lambda=" + FormatG(c.lambda) +
                        " nonzero=" + std::to_string(c.nonzero) + " of " +
                        std::to_string(c.beta.size()) + " R2=" + FormatG(m["r_squared"]);
  if (m.count("test_rmse"))
    summary +=
        " test_rmse=" + FormatG(m["test_rmse"]) + " (n_test=" + std::to_string(report.n_test) + ")";
  if (!e(1.0, summary)) return cancelled;
  out.model = std::move(model);
  return out;
}

Result<TrainOutput> TrainKMeans(const Frame& frame, const TrainOptions& options, Design design,
                                const Emitter& emit) {
  const Status cancelled = Status::Cancelled("training cancelled");
  MLPROD_ASSIGN_OR_RETURN(KMeansOptions params, ParseKMeans(options));
  MLPROD_ASSIGN_OR_RETURN(FitData data, PrepareFitData(frame, nullptr, design, options));
  MLPROD_RETURN_IF_ERROR(design.Fit(data.train));  // poly() coefficients, ns() knots
  TrainOutput out;
  FitReport& report = out.report;
  report.log.swap(emit.report->log);
  Emitter e{&report, emit.progress};
  const std::vector<std::string> features = KMeansFeatureNames(design);
  if (features.empty())
    return Status::FailedPrecondition("the kmeans formula has no feature columns");
  // The model computes features the same way at serving time.
  auto probe = std::make_shared<KMeansModel>(MakePipeline(design, options, data.imputation),
                                             Eigen::MatrixXd());
  MLPROD_ASSIGN_OR_RETURN(Eigen::MatrixXd x, probe->Features(data.train));
  if (!e(0.2, "feature matrix " + std::to_string(x.rows()) + " x " + std::to_string(x.cols()) +
                  " (" + std::to_string(data.rows_dropped) +
                  " rows dropped); columns are used as given, not standardised"))
    return cancelled;
  MLPROD_ASSIGN_OR_RETURN(KMeansFit fit, FitKMeans(x, params, e.Span(0.2, 0.7)));
  if (!e(0.7, "best of " + std::to_string(params.n_init) + " k-means++ runs: inertia " +
                  FormatG(fit.inertia) + " after " + std::to_string(fit.iterations) +
                  " Lloyd iterations" + (fit.converged ? "" : " (max_iter reached)")))
    return cancelled;
  for (int c = 0; c < params.k; ++c) {
    std::string line =
        "cluster " + std::to_string(c) + " (" + std::to_string(fit.sizes[c]) + " rows): centre";
    for (size_t f = 0; f < features.size(); ++f)
      line += (f ? ", " : " ") + features[f] + "=" + FormatG(fit.centers(c, f));
    report.log.push_back(line);
  }
  auto& m = report.metrics;
  m["inertia"] = fit.inertia;
  m["silhouette"] = Silhouette(x, fit.labels, params.k, kSilhouetteRows, params.seed);
  if (x.rows() > static_cast<Eigen::Index>(kSilhouetteRows))
    report.log.push_back("silhouette computed on a seeded sample of " +
                         std::to_string(kSilhouetteRows) + " of " + std::to_string(x.rows()) +
                         " rows");
  report.n_obs = data.train.rows;
  report.rows_dropped = data.rows_dropped;
  auto model = std::make_shared<KMeansModel>(
      MakePipeline(std::move(design), options, data.imputation), fit.centers);
  if (data.test.rows > 0) {
    MLPROD_ASSIGN_OR_RETURN(Eigen::MatrixXd xt, model->Features(data.test));
    MLPROD_ASSIGN_OR_RETURN(std::vector<double> labels, model->PredictInputs(data.test));
    long double inertia = 0;
    std::vector<int> lab(labels.begin(), labels.end());
    for (Eigen::Index i = 0; i < xt.rows(); ++i)
      inertia += (xt.row(i) - fit.centers.row(lab[i])).squaredNorm();
    m["test_inertia"] = static_cast<double>(inertia);
    m["test_silhouette"] = Silhouette(xt, lab, params.k, kSilhouetteRows, params.seed);
  }
  report.n_test = data.test.rows;
  if (!e(1.0, "fit: n=" + std::to_string(x.rows()) + " k=" + std::to_string(params.k) +
                  " inertia=" + FormatG(m["inertia"]) + " silhouette=" + FormatG(m["silhouette"])))
    return cancelled;
  out.model = std::move(model);
  return out;
}

}  // namespace

bool IsOtherKind(const std::string& kind) {
  return kind == "logistic" || kind == "kmeans" || IsPenalized(kind);
}

bool KindIsOneSided(const std::string& kind) { return kind == "kmeans"; }

Status CheckKindParams(const TrainOptions& options) {
  if (options.kind == "logistic") {
    for (const auto& kv : options.params)
      return Status::InvalidArgument("unknown parameter '" + kv.first +
                                     "' for model kind logistic");
    return Status::Ok();
  }
  if (options.kind == "kmeans") return ParseKMeans(options).status();
  return ParsePenalized(options).status();
}

Status CheckKindResponse(const std::string& kind, const Column& response) {
  if (kind == "logistic") {
    if (response.type == ColumnType::kCategorical && response.levels.size() != 2)
      return Status::FailedPrecondition(
          "response '" + response.name + "' has " + std::to_string(response.levels.size()) +
          " levels; logistic needs a binary response (boolean, 0/1, or two levels)");
    if (response.type == ColumnType::kNumeric) {  // refused at submit, not after a queue wait
      for (size_t i = 0; i < response.values.size(); ++i) {
        const double v = response.values[i];
        if (!std::isnan(v) && v != 0 && v != 1)
          return Status::FailedPrecondition("row " + std::to_string(i + 1) + ", column '" +
                                            response.name +
                                            "': logistic needs a 0/1 response, not " + FormatG(v));
      }
    }
    return Status::Ok();
  }
  if (response.type != ColumnType::kNumeric)
    return Status::FailedPrecondition("response '" + response.name + "' is " +
                                      std::string(ColumnTypeName(response.type)) + "; " + kind +
                                      " needs a numeric response");
  return Status::Ok();
}

Result<TrainOutput> TrainOtherKind(const Frame& frame, const TrainOptions& options,
                                   const Column* response, Design design,
                                   const ProgressFn& progress) {
  FitReport pre;  // lines logged before the report of the fit exists
  Emitter emit{&pre, &progress};
  if (!emit(0.1, "parsed formula: " + options.formula + " (" + std::to_string(design.cols()) +
                     " design columns)"))
    return Status::Cancelled("training cancelled");
  if (options.kind == "logistic")
    return TrainLogistic(frame, options, *response, std::move(design), emit);
  if (options.kind == "kmeans") return TrainKMeans(frame, options, std::move(design), emit);
  return TrainPenalized(frame, options, *response, std::move(design), emit);
}

}  // namespace mlprod::ml
