// KMeansModel: a fitted k-means clustering with its pipeline (one-sided formula, signature,
// missing strategy, imputation values) and its centres over the design columns (the intercept
// column of the formula, if any, is not a clustering feature). Predict returns the 0-based index
// of the nearest centre as the value; intervals are not defined (FAILED_PRECONDITION). Immutable
// and thread-safe once constructed. Serialised as JSON with the pipeline fields (fit_data.h) plus
// "features" (design columns clustered) and "centers" (k rows).
#pragma once

#include <Eigen/Dense>
#include <memory>
#include <string>
#include <vector>

#include "ml/fit_data.h"
#include "ml/model.h"

namespace mlprod::ml {

class KMeansModel final : public Model {
 public:
  KMeansModel(Pipeline pipeline, Eigen::MatrixXd centers)
      : pipeline_(std::move(pipeline)), centers_(std::move(centers)) {}

  std::string_view kind() const override { return "kmeans"; }
  const std::string& formula() const override { return pipeline_.formula_text; }
  const std::string& response() const override { return no_response_; }
  const std::vector<InputColumn>& signature() const override {
    return pipeline_.design.signature();
  }
  Result<std::vector<Prediction>> Predict(const Frame& rows,
                                          const PredictOptions& options) const override;
  std::string Serialize() const override;

  const Eigen::MatrixXd& centers() const { return centers_; }
  // The clustering features of complete (imputed) inputs: the design without its intercept.
  Result<Eigen::MatrixXd> Features(const InputTable& table) const;
  // Cluster index per row of complete inputs: the one path training and serving share.
  Result<std::vector<double>> PredictInputs(const InputTable& table) const;

 private:
  Pipeline pipeline_;
  Eigen::MatrixXd centers_;  // k x features
  std::string no_response_;
};

// The features of a design: its column names minus "(Intercept)".
std::vector<std::string> KMeansFeatureNames(const Design& design);

Result<std::shared_ptr<const Model>> DeserializeKMeansModel(const nlohmann::json& j);

}  // namespace mlprod::ml
