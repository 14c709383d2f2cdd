// kmeans kind through ml/model.h, against scikit-learn (tests/reference/kinds_refs.json).
#include "ml/kmeans.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ml/model.h"
#include "tests/ml/test_columns.h"

namespace mlprod::ml {
namespace {

using testing::CodedColumn;
using testing::NumericColumn;
using testing::ReadReference;

using nlohmann::json;

Frame Blobs(const json& r) {
  Frame f;
  for (const char* name : {"x1", "x2"}) {
    Column c;
    c.name = name;
    c.values = r[name].get<std::vector<double>>();
    f.columns.push_back(c);
  }
  f.rows = f.columns[0].values.size();
  return f;
}

TrainOptions KMeans(std::string formula, std::map<std::string, std::string> params) {
  TrainOptions o;
  o.formula = std::move(formula);
  o.kind = "kmeans";
  o.params = std::move(params);
  return o;
}

TEST(KMeans, InertiaAndSilhouetteMatchSklearnToSixDigits) {
  const json r = ReadReference("kinds_refs.json")["kmeans"];
  auto out = Train(Blobs(r), KMeans("~ x1 + x2", {{"k", "3"}}));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const double inertia = r["inertia"], silhouette = r["silhouette"];
  EXPECT_LE(std::fabs(out->report.metrics.at("inertia") - inertia), 1e-6 * inertia);
  EXPECT_LE(std::fabs(out->report.metrics.at("silhouette") - silhouette), 1e-6 * silhouette);
  EXPECT_TRUE(out->report.coefficients.empty());
  EXPECT_EQ(out->model->response(), "");
  ASSERT_EQ(out->model->signature().size(), 2u);
  // Same fit with `~ .`, and the same seed gives the same bytes.
  auto dot = Train(Blobs(r), KMeans("~ .", {{"k", "3"}}));
  ASSERT_TRUE(dot.ok()) << dot.status().ToString();
  EXPECT_EQ(dot->report.metrics.at("inertia"), out->report.metrics.at("inertia"));
}

TEST(KMeans, StopsBetweenLloydIterationsWhenTold) {
  const json r = ReadReference("kinds_refs.json")["kmeans"];
  const Frame f = Blobs(r);
  Eigen::MatrixXd x(f.rows, 2);
  for (size_t i = 0; i < f.rows; ++i) x.row(i) << f.columns[0].values[i], f.columns[1].values[i];
  KMeansOptions options;
  options.k = 3;
  std::vector<double> asked;
  auto whole = FitKMeans(x, options, [&](double fraction) {
    asked.push_back(fraction);
    return true;
  });
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  ASSERT_GE(asked.size(), static_cast<size_t>(options.n_init));  // at least once per run
  for (double fraction : asked) {
    EXPECT_GE(fraction, 0.0);
    EXPECT_LT(fraction, 1.0);
  }
  int calls = 0;
  auto stopped = FitKMeans(x, options, [&](double) { return ++calls < 3; });
  EXPECT_EQ(stopped.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(calls, 3);
}

TEST(KMeans, LabelsAreServingsNearestCentreAndTheToleranceStopsEarly) {
  // No cluster structure at all: Lloyd wanders for many iterations before labels settle.
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  Eigen::MatrixXd x(4000, 3);
  for (Eigen::Index i = 0; i < x.rows(); ++i)
    for (Eigen::Index j = 0; j < x.cols(); ++j) x(i, j) = u(rng);
  KMeansOptions exact;
  exact.k = 20;
  exact.n_init = 2;
  exact.tol = 0;
  KMeansOptions sklearn_like = exact;
  sklearn_like.tol = 1e-4;
  auto settled = FitKMeans(x, exact);
  auto early = FitKMeans(x, sklearn_like);
  ASSERT_TRUE(settled.ok() && early.ok());
  for (const KMeansFit* fit : {&*settled, &*early}) {
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
      const Eigen::RowVectorXd row = x.row(i);
      ASSERT_EQ(fit->labels[i], NearestCenter(fit->centers, row.data())) << "row " << i;
    }
  }
  EXPECT_TRUE(settled->converged);
  EXPECT_LE(early->iterations, settled->iterations);
  EXPECT_LE(std::fabs(early->inertia - settled->inertia), 0.01 * settled->inertia);
}

TEST(KMeans, PredictReturnsTheClusterAndRoundTrips) {
  const json r = ReadReference("kinds_refs.json")["kmeans"];
  TrainOptions o = KMeans("~ x1 + x2", {{"k", "3"}, {"n_init", "4"}, {"seed", "9"}});
  o.test_fraction = 0.2;
  auto out = Train(Blobs(r), o);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->report.metrics.count("test_inertia"));
  auto rows = FrameFromRecords(
      out->model->signature(),
      {{{"x1", "0"}, {"x2", "0"}}, {{"x1", "8"}, {"x2", "1"}}, {{"x1", "3"}, {"x2", "9"}}});
  ASSERT_TRUE(rows.ok());
  auto a = out->model->Predict(*rows, {});
  ASSERT_TRUE(a.ok());
  EXPECT_NE((*a)[0].value, (*a)[1].value);
  EXPECT_NE((*a)[1].value, (*a)[2].value);
  EXPECT_NE((*a)[0].value, (*a)[2].value);
  auto back = DeserializeModel(out->model->Serialize());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ((*back)->kind(), "kmeans");
  EXPECT_EQ((*back)->formula(), "~ x1 + x2");
  EXPECT_EQ((*back)->Serialize(), out->model->Serialize());
  Frame all = Blobs(r);
  auto b = (*back)->Predict(all, {});
  auto c = out->model->Predict(all, {});
  ASSERT_TRUE(b.ok() && c.ok());
  for (size_t i = 0; i < all.rows; ++i) EXPECT_EQ((*b)[i].value, (*c)[i].value);
  EXPECT_EQ(out->model->Predict(all, {true, 0.95}).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(KMeans, ParamsAndFormulaErrors) {
  const Frame f = Blobs(ReadReference("kinds_refs.json")["kmeans"]);
  EXPECT_EQ(ValidateTrainOptions(f, KMeans("~ x1", {})).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTrainOptions(f, KMeans("~ x1", {{"k", "0"}})).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTrainOptions(f, KMeans("~ x1", {{"k", "2"}, {"bogus", "1"}})).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTrainOptions(f, KMeans("~ x1", {{"k", "2"}, {"tol", "-1"}})).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateTrainOptions(f, KMeans("~ x1", {{"k", "2"}, {"tol", "0"}})).ok());
  EXPECT_EQ(ValidateTrainOptions(f, KMeans("x1 ~ x2", {{"k", "2"}})).code(),
            StatusCode::kInvalidArgument);
  Status unknown = ValidateTrainOptions(f, KMeans("~ x1 + zz", {{"k", "2"}}));
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("position 8"), std::string::npos) << unknown.message();
  EXPECT_EQ(Train(f, KMeans("~ x1", {{"k", "1000"}})).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(KMeans, SilhouetteSamplesLargeInputsDeterministically) {
  Eigen::MatrixXd x(6, 1);
  x << 0, 0.1, 0.2, 5, 5.1, 5.2;
  std::vector<int> labels = {0, 0, 0, 1, 1, 1};
  const double exact = Silhouette(x, labels, 2, 5000, 0);
  EXPECT_GT(exact, 0.9);
  EXPECT_EQ(Silhouette(x, labels, 2, 4, 1), Silhouette(x, labels, 2, 4, 1));
  EXPECT_TRUE(std::isnan(Silhouette(x, labels, 1, 5000, 0)));
}

}  // namespace
}  // namespace mlprod::ml
