// LinearModel: a fitted logistic, ridge, lasso or elastic-net model with its whole pipeline
// (formula, signature with levels, missing strategy and imputation values) and its coefficients
// (one per design column; NaN for a column aliased in a logistic fit). Immutable and thread-safe
// once constructed. Serialised as JSON with the OLS format's pipeline fields (see fit_data.h)
// plus "coefficients", "cov" (logistic) and "lambda"/"alpha" (penalised).
//
// Predict: logistic returns the probability of the positive class; with intervals, the Wald
// interval of the linear predictor (eta ± z·se(eta), se from (X'WX)^-1) transformed by the
// inverse link, so it always lies in (0, 1) — a confidence interval for the probability, not a
// prediction interval for a 0/1 outcome. Penalised kinds return the fitted value; intervals are
// not defined for them (FAILED_PRECONDITION).
#pragma once

#include <Eigen/Dense>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ml/fit_data.h"
#include "ml/logistic.h"
#include "ml/model.h"

namespace mlprod::ml {

class LinearModel final : public Model {
 public:
  // `fit.cov` is used for logistic only; for penalised kinds pass a fit with coef and kept only.
  LinearModel(std::string kind, Pipeline pipeline, LogisticFit fit, double lambda, double alpha)
      : kind_(std::move(kind)),
        pipeline_(std::move(pipeline)),
        fit_(std::move(fit)),
        lambda_(lambda),
        alpha_(alpha) {}

  std::string_view kind() const override { return kind_; }
  const std::string& formula() const override { return pipeline_.formula_text; }
  const std::string& response() const override { return pipeline_.design.formula().response; }
  const std::vector<InputColumn>& signature() const override {
    return pipeline_.design.signature();
  }
  Result<std::vector<Prediction>> Predict(const Frame& rows,
                                          const PredictOptions& options) const override;
  std::string Serialize() const override;

  bool logistic() const { return kind_ == "logistic"; }
  // Predictions for complete (imputed) inputs: the one path training and serving share.
  Result<std::vector<double>> PredictInputs(const InputTable& table) const;

 private:
  std::string kind_;
  Pipeline pipeline_;
  LogisticFit fit_;
  double lambda_, alpha_;  // penalised kinds; NaN for logistic
};

// Restores a LinearModel from Serialize()'s JSON; see DeserializeModel.
Result<std::shared_ptr<const Model>> DeserializeLinearModel(const nlohmann::json& j);

}  // namespace mlprod::ml
