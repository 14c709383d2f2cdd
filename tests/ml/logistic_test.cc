// logistic kind through ml/model.h, against statsmodels (tests/reference/kinds_refs.json).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ml/logistic.h"
#include "ml/model.h"
#include "tests/ml/test_columns.h"

namespace mlprod::ml {
namespace {

using testing::CodedColumn;
using testing::NumericColumn;
using testing::ReadReference;

using nlohmann::json;

// Agreement to 6 significant digits.
void ExpectDigits(double got, double want, const std::string& what) {
  EXPECT_LE(std::fabs(got - want), 1e-6 * std::fabs(want) + 1e-300)
      << what << ": got " << got << " want " << want;
}

Frame LogisticFrame(const json& r) {
  Frame f;
  f.columns.push_back(NumericColumn("y", r["y"].get<std::vector<double>>()));
  f.columns.push_back(NumericColumn("x1", r["x1"].get<std::vector<double>>()));
  f.columns.push_back(NumericColumn("x2", r["x2"].get<std::vector<double>>()));
  f.rows = f.columns[0].values.size();
  return f;
}

TrainOptions Logistic(std::string formula) {
  TrainOptions o;
  o.formula = std::move(formula);
  o.kind = "logistic";
  return o;
}

bool BitEqual(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(Logistic, MatchesStatsmodelsToSixDigits) {
  const json r = ReadReference("kinds_refs.json")["logistic"];
  auto out = Train(LogisticFrame(r), Logistic("y ~ x1 + x2"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const auto& coef = out->report.coefficients;
  ASSERT_EQ(coef.size(), 3u);
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(coef[j].term, r["terms"][j].get<std::string>());
    ExpectDigits(coef[j].estimate, r["estimate"][j], "estimate " + coef[j].term);
    ExpectDigits(coef[j].std_error, r["std_error"][j], "se " + coef[j].term);
    ExpectDigits(coef[j].t_value, r["z"][j], "z " + coef[j].term);
    ExpectDigits(coef[j].p_value, r["p"][j], "p " + coef[j].term);
    ExpectDigits(coef[j].ci_lower, coef[j].estimate - 1.959963984540054 * coef[j].std_error, "ci");
  }
  const auto& m = out->report.metrics;
  ExpectDigits(m.at("deviance"), r["deviance"], "deviance");
  ExpectDigits(m.at("null_deviance"), r["null_deviance"], "null deviance");
  ExpectDigits(m.at("log_likelihood"), r["log_likelihood"], "log L");
  ExpectDigits(m.at("aic"), r["aic"], "aic");
  ExpectDigits(m.at("auc"), r["auc"], "auc");
  ExpectDigits(m.at("accuracy"), r["accuracy"], "accuracy");
  ExpectDigits(m.at("log_loss"), r["deviance"].get<double>() / 2 / r["y"].size(), "log loss");

  auto frame = FrameFromRecords(out->model->signature(), {{{"x1", "0.3"}, {"x2", "1"}}});
  ASSERT_TRUE(frame.ok());
  auto pred = out->model->Predict(*frame, {true, 0.95});
  ASSERT_TRUE(pred.ok()) << pred.status().ToString();
  ExpectDigits((*pred)[0].value, r["new_prob"], "predicted probability");
  EXPECT_LT((*pred)[0].lower, (*pred)[0].value);
  EXPECT_GT((*pred)[0].upper, (*pred)[0].value);
  EXPECT_GT((*pred)[0].lower, 0);
  EXPECT_LT((*pred)[0].upper, 1);
}

TEST(Logistic, StopsBetweenIrlsIterationsWhenTold) {
  const json r = ReadReference("kinds_refs.json")["logistic"];
  const std::vector<double> y = r["y"], x1 = r["x1"];
  Eigen::MatrixXd x(y.size(), 2);
  for (size_t i = 0; i < y.size(); ++i) x.row(i) << 1, x1[i];
  const Eigen::VectorXd yv = Eigen::Map<const Eigen::VectorXd>(y.data(), y.size());
  const std::vector<std::string> names = {"(Intercept)", "x1"};
  int calls = 0;
  auto stopped = FitLogistic(x, yv, true, names, [&](double) { return ++calls < 2; });
  EXPECT_EQ(stopped.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(calls, 2);
  auto whole = FitLogistic(x, yv, true, names, [](double) { return true; });
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
}

TEST(Logistic, BooleanAndTwoLevelResponsesMatchZeroOne) {
  const json r = ReadReference("kinds_refs.json")["logistic"];
  Frame f = LogisticFrame(r);
  std::vector<int32_t> codes;
  for (double v : f.columns[0].values) codes.push_back(static_cast<int32_t>(v));
  f.columns.push_back(CodedColumn("won", ColumnType::kBoolean, {"false", "true"}, codes));
  f.columns.push_back(CodedColumn("grade", ColumnType::kCategorical, {"fail", "pass"}, codes));
  auto base = Train(f, Logistic("y ~ x1 + x2"));
  auto boolean = Train(f, Logistic("won ~ x1 + x2"));
  auto two = Train(f, Logistic("grade ~ x1 + x2"));
  ASSERT_TRUE(base.ok() && boolean.ok() && two.ok());
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_TRUE(
        BitEqual(base->report.coefficients[j].estimate, boolean->report.coefficients[j].estimate));
    EXPECT_TRUE(
        BitEqual(base->report.coefficients[j].estimate, two->report.coefficients[j].estimate));
  }
}

TEST(Logistic, SeparationIsFailedPreconditionNamingTheTerm) {
  Frame f;
  std::vector<double> x, z, y;
  for (int i = 0; i < 20; ++i) {
    x.push_back(i);
    z.push_back(std::sin(i * 1.7));
    y.push_back(i >= 10 ? 1 : 0);
  }
  f.columns = {NumericColumn("y", y), NumericColumn("x", x), NumericColumn("z", z)};
  f.rows = 20;
  auto complete = Train(f, Logistic("y ~ z + x"));
  EXPECT_EQ(complete.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(complete.status().message().find("separation"), std::string::npos);
  EXPECT_NE(complete.status().message().find(", x"), std::string::npos)
      << complete.status().message();

  // Quasi-complete: the rows with x >= 10 are all 1, the others are mixed.
  f.columns[0].values = y;
  for (int i = 0; i < 10; ++i) f.columns[0].values[i] = i % 3 == 0 ? 1 : 0;
  std::vector<double> big(20);
  for (int i = 0; i < 20; ++i) big[i] = i >= 10 ? 1 : 0;
  f.columns[1].values = big;
  auto quasi = Train(f, Logistic("y ~ x"));
  EXPECT_EQ(quasi.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(quasi.status().message().find("quasi-complete separation"), std::string::npos)
      << quasi.status().message();
  EXPECT_NE(quasi.status().message().find("x"), std::string::npos);
}

TEST(Logistic, ConstantTargetAndBadResponsesAreRefused) {
  const json r = ReadReference("kinds_refs.json")["logistic"];
  Frame f = LogisticFrame(r);
  Frame constant = f;
  for (double& v : constant.columns[0].values) v = 1;
  auto c = Train(constant, Logistic("y ~ x1"));
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("constant target"), std::string::npos);
  Frame counts = f;
  counts.columns[0].values[4] = 2;
  auto bad = Train(counts, Logistic("y ~ x1"));
  EXPECT_EQ(bad.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(bad.status().message().find("row 5"), std::string::npos) << bad.status().message();
  // ... and already at submit (ValidateTrainOptions), not after the run waited in the queue.
  const Status at_submit = ValidateTrainOptions(counts, Logistic("y ~ x1"));
  EXPECT_EQ(at_submit.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(at_submit.message().find("row 5, column 'y': logistic needs a 0/1 response, not 2"),
            std::string::npos)
      << at_submit.message();
  f.columns.push_back(
      CodedColumn("three", ColumnType::kCategorical, {"a", "b", "c"}, std::vector<int32_t>(f.rows, 0)));
  EXPECT_EQ(ValidateTrainOptions(f, Logistic("three ~ x1")).code(),
            StatusCode::kFailedPrecondition);
  TrainOptions o = Logistic("y ~ x1");
  o.params["lambda"] = "1";
  EXPECT_EQ(ValidateTrainOptions(f, o).code(), StatusCode::kInvalidArgument);
}

TEST(Logistic, RoundTripPredictsBitForBitAndSplitsHaveTestMetrics) {
  const json r = ReadReference("kinds_refs.json")["logistic"];
  TrainOptions o = Logistic("y ~ x1 + I(x2^2) + x2");
  o.test_fraction = 0.25;
  o.seed = 3;
  auto out = Train(LogisticFrame(r), o);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  for (const char* key : {"test_accuracy", "test_log_loss", "test_auc"})
    EXPECT_TRUE(out->report.metrics.count(key)) << key;
  EXPECT_EQ(out->report.n_test, 20u);
  auto back = DeserializeModel(out->model->Serialize());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ((*back)->kind(), "logistic");
  EXPECT_EQ((*back)->Serialize(), out->model->Serialize());
  Frame rows = LogisticFrame(r);
  auto a = out->model->Predict(rows, {true, 0.9});
  auto b = (*back)->Predict(rows, {true, 0.9});
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t i = 0; i < rows.rows; ++i) {
    EXPECT_TRUE(BitEqual((*a)[i].value, (*b)[i].value));
    EXPECT_TRUE(BitEqual((*a)[i].lower, (*b)[i].lower));
    EXPECT_TRUE(BitEqual((*a)[i].upper, (*b)[i].upper));
  }
}

}  // namespace
}  // namespace mlprod::ml
