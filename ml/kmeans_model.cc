#include "ml/kmeans_model.h"

#include "ml/kmeans.h"

namespace mlprod::ml {

using nlohmann::json;

std::vector<std::string> KMeansFeatureNames(const Design& design) {
  std::vector<std::string> names = design.column_names();
  if (design.intercept()) names.erase(names.begin());
  return names;
}

Result<Eigen::MatrixXd> KMeansModel::Features(const InputTable& table) const {
  MLPROD_ASSIGN_OR_RETURN(Eigen::MatrixXd x, pipeline_.design.Build(table));
  if (pipeline_.design.intercept()) return Eigen::MatrixXd(x.rightCols(x.cols() - 1));
  return x;
}

Result<std::vector<double>> KMeansModel::PredictInputs(const InputTable& table) const {
  MLPROD_ASSIGN_OR_RETURN(Eigen::MatrixXd x, Features(table));
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> xr = x;
  std::vector<double> out(table.rows);
  for (size_t r = 0; r < table.rows; ++r) out[r] = NearestCenter(centers_, xr.row(r).data());
  return out;
}

Result<std::vector<Prediction>> KMeansModel::Predict(const Frame& rows,
                                                     const PredictOptions& options) const {
  if (options.intervals)
    return Status::FailedPrecondition("prediction intervals are not defined for kmeans models");
  MLPROD_ASSIGN_OR_RETURN(InputTable table, PipelineInputs(pipeline_, rows));
  MLPROD_ASSIGN_OR_RETURN(std::vector<double> labels, PredictInputs(table));
  std::vector<Prediction> out(rows.rows);
  for (size_t r = 0; r < rows.rows; ++r) out[r].value = labels[r];
  return out;
}

std::string KMeansModel::Serialize() const {
  json j = PipelineToJson("kmeans", pipeline_.design, pipeline_.formula_text, pipeline_.missing,
                          pipeline_.imputation);
  j["features"] = KMeansFeatureNames(pipeline_.design);
  json centers = json::array();
  for (Eigen::Index c = 0; c < centers_.rows(); ++c) {
    json row = json::array();
    for (Eigen::Index f = 0; f < centers_.cols(); ++f) row.push_back(centers_(c, f));
    centers.push_back(row);
  }
  j["centers"] = centers;
  return j.dump();
}

Result<std::shared_ptr<const Model>> DeserializeKMeansModel(const json& j) {
  MLPROD_ASSIGN_OR_RETURN(Pipeline pipeline, PipelineFromJson(j, /*one_sided=*/true));
  const std::vector<std::string> features = KMeansFeatureNames(pipeline.design);
  if (features != j.at("features").get<std::vector<std::string>>())
    return Status::InvalidArgument("model features do not match its formula");
  const json& centers = j.at("centers");
  if (centers.empty()) return Status::InvalidArgument("model has no cluster centres");
  Eigen::MatrixXd m(centers.size(), features.size());
  for (size_t c = 0; c < centers.size(); ++c) {
    if (centers[c].size() != features.size())
      return Status::InvalidArgument("model centre " + std::to_string(c) +
                                     " does not match its features");
    for (size_t f = 0; f < features.size(); ++f) m(c, f) = centers[c][f].get<double>();
  }
  return std::shared_ptr<const Model>(std::make_shared<KMeansModel>(std::move(pipeline), m));
}

}  // namespace mlprod::ml
