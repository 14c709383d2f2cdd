#include "ml/linear_model.h"

#include <cmath>
#include <cstdint>
#include <optional>

#include "ml/stored_json.h"

namespace mlprod::ml {

using nlohmann::json;

Result<std::vector<double>> LinearModel::PredictInputs(const InputTable& table) const {
  MLPROD_ASSIGN_OR_RETURN(ColumnMatrix x, pipeline_.design.BuildColumns(table));
  std::vector<double> out(table.rows);
  ForEachRow(x, [&](size_t r, const double* row) {
    const double eta = LogisticLinearPredictor(fit_.coef, fit_.kept, row);
    out[r] = logistic() ? LogisticLinkInverse(eta) : eta;
  });
  return out;
}

Result<std::vector<Prediction>> LinearModel::Predict(const Frame& rows,
                                                     const PredictOptions& options) const {
  if (options.intervals && !logistic())
    return Status::FailedPrecondition("prediction intervals are not defined for " + kind_ +
                                      " (penalised) models");
  if (options.intervals && !(options.level > 0 && options.level < 1))
    return Status::InvalidArgument("interval level must be in (0, 1)");
  std::vector<Prediction> out(rows.rows);
  const double z = options.intervals ? NormalQuantile((1 + options.level) / 2) : NAN;
  MLPROD_RETURN_IF_ERROR(ForEachDesignRow(
      pipeline_.design, rows, pipeline_.missing, pipeline_.imputation,
      [&](size_t r, const double* x) {
        const double eta = LogisticLinearPredictor(fit_.coef, fit_.kept, x);
        out[r].value = logistic() ? LogisticLinkInverse(eta) : eta;
        if (options.intervals) {
          const double half = z * std::sqrt(LogisticEtaVariance(fit_, x));
          out[r].lower = LogisticLinkInverse(eta - half);
          out[r].upper = LogisticLinkInverse(eta + half);
        }
      }));
  return out;
}

std::string LinearModel::Serialize() const {
  json j = PipelineToJson(kind_, pipeline_.design, pipeline_.formula_text, pipeline_.missing,
                          pipeline_.imputation);
  json coef = json::array();
  for (double c : fit_.coef) coef.push_back(JsonNumber(c));
  j["coefficients"] = coef;
  if (logistic()) {
    json cov = json::array();
    for (Eigen::Index a = 0; a < fit_.cov.rows(); ++a) {
      json row = json::array();
      for (Eigen::Index b = 0; b < fit_.cov.cols(); ++b) row.push_back(JsonNumber(fit_.cov(a, b)));
      cov.push_back(row);
    }
    j["cov"] = cov;
    j["n_obs"] = fit_.n;
  } else {
    j["lambda"] = JsonNumber(lambda_);
    j["alpha"] = JsonNumber(alpha_);
  }
  return j.dump();
}

Result<std::shared_ptr<const Model>> DeserializeLinearModel(const json& j) {
  const std::string kind = j.at("kind").get<std::string>();
  MLPROD_ASSIGN_OR_RETURN(Pipeline pipeline, PipelineFromJson(j, /*one_sided=*/false));
  const size_t p = pipeline.design.cols();
  LogisticFit fit;
  for (const json& v : j.at("coefficients")) fit.coef.push_back(JsonNumberOr(v));
  if (fit.coef.size() != p)
    return Status::InvalidArgument("model coefficients do not match its terms");
  for (size_t c = 0; c < p; ++c) {
    fit.aliased.push_back(std::isnan(fit.coef[c]));
    if (!fit.aliased.back()) fit.kept.push_back(static_cast<int>(c));
  }
  fit.rank = fit.kept.size();
  double lambda = NAN, alpha = NAN;
  if (kind == "logistic") {
    if (fit.rank == 0 && p > 0) return Status::InvalidArgument("model has no coefficients");
    const std::optional<int64_t> n_obs = JsonInteger(j.at("n_obs"), 0, INT64_MAX);
    if (!n_obs) return Status::InvalidArgument("model n_obs is not a count");
    fit.n = static_cast<size_t>(*n_obs);
    const json& cov = j.at("cov");
    const Eigen::Index r = static_cast<Eigen::Index>(fit.rank);
    if (cov.size() != fit.rank)
      return Status::InvalidArgument("model covariance does not match its coefficients");
    fit.cov.resize(r, r);
    for (Eigen::Index a = 0; a < r; ++a) {
      if (cov[a].size() != fit.rank)
        return Status::InvalidArgument("model covariance does not match its coefficients");
      for (Eigen::Index b = 0; b < r; ++b) fit.cov(a, b) = JsonNumberOr(cov[a][b]);
    }
  } else {
    if (fit.rank != p) return Status::InvalidArgument("model coefficient is null");
    lambda = JsonNumberOr(j.at("lambda"));
    alpha = JsonNumberOr(j.at("alpha"));
  }
  return std::shared_ptr<const Model>(
      std::make_shared<LinearModel>(kind, std::move(pipeline), std::move(fit), lambda, alpha));
}

}  // namespace mlprod::ml
