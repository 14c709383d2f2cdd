// ridge / lasso / elasticnet kinds through ml/model.h, against sklearn's coordinate descent on
// glmnet's standardised problem (tests/reference/kinds_refs.json; see its generator).
#include "ml/glmnet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ml/cross_validation.h"
#include "ml/model.h"
#include "tests/ml/test_columns.h"

namespace mlprod::ml {
namespace {

using testing::CodedColumn;
using testing::NumericColumn;
using testing::ReadReference;

using nlohmann::json;

Frame NetFrame(const json& r) {
  Frame f;
  Column y;
  y.name = "y";
  y.values = r["y"].get<std::vector<double>>();
  f.columns.push_back(y);
  for (int j = 0; j < 4; ++j) {
    Column c;
    c.name = "x" + std::to_string(j + 1);
    c.values = r["x"][j].get<std::vector<double>>();
    f.columns.push_back(c);
  }
  f.rows = y.values.size();
  return f;
}

TrainOptions Net(std::string kind, std::map<std::string, std::string> params) {
  TrainOptions o;
  o.formula = "y ~ x1 + x2 + x3 + x4";
  o.kind = std::move(kind);
  o.params = std::move(params);
  return o;
}

std::string Text(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

bool BitEqual(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(ElasticNet, FixedLambdaMatchesReferenceToSixDigits) {
  const json r = ReadReference("kinds_refs.json")["elasticnet"];
  const Frame f = NetFrame(r);
  for (const json& fit : r["fits"]) {
    std::map<std::string, std::string> params = {{"lambda", Text(fit["lambda"])}};
    const std::string kind = fit["kind"];
    if (kind == "elasticnet") params["alpha"] = Text(fit["alpha"]);
    auto out = Train(f, Net(kind, params));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    const auto& coef = out->report.coefficients;
    ASSERT_EQ(coef.size(), 5u);
    const std::string label = kind + " lambda=" + Text(fit["lambda"]);
    const double b0 = fit["intercept"];
    EXPECT_LE(std::fabs(coef[0].estimate - b0), 1e-6 * std::fabs(b0)) << label;
    for (int j = 0; j < 4; ++j) {
      const double want = fit["beta"][j];
      if (want == 0) {
        EXPECT_EQ(coef[j + 1].estimate, 0) << label << " x" << j + 1;
      } else {
        EXPECT_LE(std::fabs(coef[j + 1].estimate - want), 1e-6 * std::fabs(want))
            << label << " x" << j + 1 << ": got " << coef[j + 1].estimate << " want " << want;
      }
      EXPECT_TRUE(std::isnan(coef[j + 1].std_error));
      EXPECT_TRUE(std::isnan(coef[j + 1].p_value));
    }
    for (const char* key : {"rmse", "mae", "r_squared", "lambda"})
      EXPECT_TRUE(out->report.metrics.count(key)) << key;
  }
}

TEST(ElasticNet, LambdaCvIsDeterministicAndOneSeIsLarger) {
  const Frame f = NetFrame(ReadReference("kinds_refs.json")["elasticnet"]);
  TrainOptions o = Net("lasso", {{"lambda", "cv"}, {"folds", "5"}});
  o.seed = 42;
  auto a = Train(f, o);
  auto b = Train(f, o);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString();
  const auto& m = a->report.metrics;
  EXPECT_TRUE(BitEqual(m.at("lambda_min"), b->report.metrics.at("lambda_min")));
  EXPECT_GE(m.at("lambda_1se"), m.at("lambda_min"));
  EXPECT_TRUE(BitEqual(m.at("lambda"), m.at("lambda_min")));
  o.params["lambda"] = "cv1se";
  auto one_se = Train(f, o);
  ASSERT_TRUE(one_se.ok());
  EXPECT_TRUE(BitEqual(one_se->report.metrics.at("lambda"), m.at("lambda_1se")));
  // The path starts where every coefficient is zero.
  Eigen::MatrixXd x(f.rows, 4);
  for (int j = 0; j < 4; ++j)
    for (size_t i = 0; i < f.rows; ++i) x(i, j) = f.columns[j + 1].values[i];
  Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(f.columns[0].values.data(), f.rows);
  auto net = ElasticNet::Create(x, y, true, 1.0);
  ASSERT_TRUE(net.ok());
  auto path = net->LambdaPath();
  ASSERT_EQ(path.size(), 100u);
  EXPECT_NEAR(path.back() / path.front(), 1e-4, 1e-12);
  auto fits = net->Fit({path[0], path[0] * 0.99});
  EXPECT_EQ(fits[0].nonzero, 0);
  EXPECT_EQ(fits[1].nonzero, 1);
}

TEST(ElasticNet, FoldsArePortable) {
  std::vector<int> folds = AssignFolds(10, 3, 7);
  std::vector<int> count(3, 0);
  for (int k : folds) ++count[k];
  EXPECT_EQ(count, (std::vector<int>{4, 3, 3}));
  EXPECT_EQ(folds, AssignFolds(10, 3, 7));
}

TEST(ElasticNet, RoundTripPredictsBitForBit) {
  const Frame f = NetFrame(ReadReference("kinds_refs.json")["elasticnet"]);
  TrainOptions o = Net("elasticnet", {{"lambda", "0.2"}, {"alpha", "0.4"}});
  o.formula = "y ~ x1 + I(x2^2) + x3:x4";
  o.test_fraction = 0.2;
  auto out = Train(f, o);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->report.metrics.count("test_rmse"));
  auto back = DeserializeModel(out->model->Serialize());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ((*back)->kind(), "elasticnet");
  auto a = out->model->Predict(f, {});
  auto b = (*back)->Predict(f, {});
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t i = 0; i < f.rows; ++i) EXPECT_TRUE(BitEqual((*a)[i].value, (*b)[i].value));
  EXPECT_EQ(out->model->Predict(f, {true, 0.95}).status().code(), StatusCode::kFailedPrecondition);
}

TEST(ElasticNet, BadParamsAndResponsesAreRefused) {
  Frame f = NetFrame(ReadReference("kinds_refs.json")["elasticnet"]);
  EXPECT_EQ(ValidateTrainOptions(f, Net("lasso", {{"alpha", "0.5"}})).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTrainOptions(f, Net("elasticnet", {{"alpha", "2"}})).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTrainOptions(f, Net("ridge", {{"lambda", "-1"}})).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTrainOptions(f, Net("ridge", {{"lambda", "1"}, {"folds", "5"}})).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTrainOptions(f, Net("ridge", {{"lambda", "cv"}, {"folds", "1"}})).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateTrainOptions(f, Net("ridge", {{"lambda", "cv"}, {"folds", "5"}})).ok());
  Column g;
  g.name = "g";
  g.type = ColumnType::kCategorical;
  g.levels = {"a", "b"};
  g.codes.assign(f.rows, 0);
  f.columns.push_back(g);
  TrainOptions o = Net("lasso", {{"lambda", "1"}});
  o.formula = "g ~ x1";
  EXPECT_EQ(ValidateTrainOptions(f, o).code(), StatusCode::kFailedPrecondition);
  for (double& v : f.columns[0].values) v = 3;
  EXPECT_EQ(Train(f, Net("lasso", {{"lambda", "1"}})).status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace mlprod::ml
