// Stepwise selection (ml/stepwise.h) through Train, against R's step() on the same 24 rows.
// Reference (R 4.x): d <- data below; g a factor;
//   step(lm(y ~ x1 + x2 + x3 + g, d), direction = "backward")            -> y ~ x1
//   step(lm(y ~ 1, d), scope = ~ x1 + x2 + x3 + g, direction = "forward") -> y ~ x1
//   step(lm(y ~ x1 + x2 + x3 + g, d), k = log(24))                       -> y ~ x1
//   step(lm(y ~ x1 * x3 + x2, d))                                         -> y ~ x1 + x3 + x1:x3
// with the AIC column of $anova printed to 12 digits (the numbers below).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "ml/model.h"

namespace mlprod::ml {
namespace {

Frame Data() {
  const std::vector<double> y = {15.931, 10.145, 14.565, 4.446,  11.661, 11.405, 13.192, 9.51,
                                 6.983,  9.509,  20.85,  3.483,  8.153,  14.31,  18.443, 20.425,
                                 17.957, 12.422, 13.561, 14.203, 5.48,   15.687, 16.706, 21.852};
  const std::vector<double> x1 = {6.55, 3.05, 6.75, 1.07, 5.17, 4.9,  6.02, 3.7,
                                  2.57, 3.74, 8.26, 1.73, 2.98, 6.44, 7.9,  9.88,
                                  8.01, 4.64, 5.39, 6.25, 2.5,  7.04, 7.16, 9.8};
  const std::vector<double> x2 = {1.65, 2.23, 3.54, 3.7,  0.86, 0.08, 3.91, 0.21,
                                  2.99, 1.23, 2.78, 2.58, 1.99, 0.91, 3.23, 3.58,
                                  1.52, 4.86, 4.17, 1.95, 3.52, 0.63, 3.04, 2.75};
  const std::vector<double> x3 = {2.1,  2.71, 1.19, 2.5,  1.86, 0.05, 1.12, 0.33,
                                  1.68, 1.11, 0.45, 2.41, 0.22, 0.26, 0.59, 2.7,
                                  1.65, 1.47, 1.13, 0.3,  1.36, 0.93, 1.13, 0.37};
  Frame f;
  f.rows = y.size();
  for (auto [name, values] : {std::pair{"y", y}, {"x1", x1}, {"x2", x2}, {"x3", x3}}) {
    Column c;
    c.name = name;
    c.values = values;
    f.columns.push_back(std::move(c));
  }
  Column g;
  g.name = "g";
  g.type = ColumnType::kCategorical;
  g.levels = {"a", "b", "c"};
  for (size_t i = 0; i < f.rows; ++i) g.codes.push_back(static_cast<int32_t>(i % 3));
  f.columns.push_back(std::move(g));
  return f;
}

TrainOptions Step(std::string formula, std::string select, std::string criterion = "aic") {
  TrainOptions o;
  o.formula = std::move(formula);
  o.select = std::move(select);
  o.criterion = std::move(criterion);
  return o;
}

// The criterion printed on the log line that starts with `prefix`.
double CriterionOn(const FitReport& r, const std::string& prefix, const std::string& name) {
  for (const std::string& line : r.log)
    if (line.rfind(prefix, 0) == 0) {
      auto at = line.find(name + "=");
      if (at == std::string::npos) continue;
      return std::stod(line.substr(at + name.size() + 1));
    }
  ADD_FAILURE() << "no log line starting '" << prefix << "'";
  return NAN;
}

bool HasLine(const FitReport& r, const std::string& text) {
  for (const std::string& line : r.log)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

TEST(Stepwise, BackwardAicMatchesRStep) {
  auto out = Train(Data(), Step("y ~ x1 + x2 + x3 + g", "backward"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const FitReport& r = out->report;
  EXPECT_EQ(out->model->formula(), "y ~ x1");
  EXPECT_NEAR(CriterionOn(r, "Start:", "AIC"), 6.73792766643, 1e-6);
  EXPECT_NEAR(CriterionOn(r, "Step 1: - x3", "AIC"), 5.59422974041, 1e-6);
  EXPECT_NEAR(CriterionOn(r, "Step 2: - x2", "AIC"), 5.09623209748, 1e-6);
  EXPECT_NEAR(CriterionOn(r, "Step 3: - g", "AIC"), 3.49500052101, 1e-6);
  EXPECT_TRUE(HasLine(r, "Step 4: no move lowers AIC"));
  EXPECT_TRUE(HasLine(r, "selected_formula: y ~ x1"));
  EXPECT_NEAR(r.metrics.at("step_aic"), 3.49500052101, 1e-6);
  // The run itself is the fit of the selected formula on every row.
  ASSERT_EQ(r.coefficients.size(), 2u);
  EXPECT_EQ(r.coefficients[1].term, "x1");
  EXPECT_EQ(r.n_obs, 24u);
  auto direct = Train(Data(), Step("y ~ x1", "", ""));
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(r.coefficients[1].estimate, direct->report.coefficients[1].estimate);
}

TEST(Stepwise, ForwardAicMatchesRStep) {
  auto out = Train(Data(), Step("y ~ x1 + x2 + x3 + g", "forward"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->model->formula(), "y ~ x1");
  EXPECT_NEAR(CriterionOn(out->report, "Start:", "AIC"), 79.3307972711, 1e-6);
  EXPECT_NEAR(CriterionOn(out->report, "Step 1: + x1", "AIC"), 3.49500052101, 1e-6);
  // g enters as one block of two columns: its candidate is listed once.
  EXPECT_TRUE(HasLine(out->report, "+ g "));
  EXPECT_FALSE(HasLine(out->report, "gb"));
}

TEST(Stepwise, BackwardBicMatchesRStep) {
  auto out = Train(Data(), Step("y ~ x1 + x2 + x3 + g", "backward", "bic"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const FitReport& r = out->report;
  EXPECT_EQ(out->model->formula(), "y ~ x1");
  EXPECT_NEAR(CriterionOn(r, "Start:", "BIC"), 13.80625064852, 1e-6);
  EXPECT_NEAR(CriterionOn(r, "Step 1: - x3", "BIC"), 11.48449889215, 1e-6);
  EXPECT_NEAR(CriterionOn(r, "Step 2: - g", "BIC"), 8.85581934332, 1e-6);
  EXPECT_NEAR(CriterionOn(r, "Step 3: - x2", "BIC"), 5.85110818171, 1e-6);
  EXPECT_NEAR(r.metrics.at("step_bic"), 5.85110818171, 1e-6);
}

TEST(Stepwise, KeepsMainEffectsUnderAnInteraction) {
  auto out = Train(Data(), Step("y ~ x1 * x3 + x2", "backward"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const FitReport& r = out->report;
  EXPECT_EQ(out->model->formula(), "y ~ x1 + x3 + x1:x3");
  EXPECT_NEAR(CriterionOn(r, "Start:", "AIC"), 7.03284837395, 1e-6);
  EXPECT_NEAR(CriterionOn(r, "Step 1: - x2", "AIC"), 5.17004075664, 1e-6);
  // x1 and x3 are never candidates while x1:x3 is in the model.
  EXPECT_FALSE(HasLine(r, "- x1 "));
  EXPECT_FALSE(HasLine(r, "- x3 "));
  EXPECT_TRUE(HasLine(r, "- x1:x3 "));
}

TEST(Stepwise, ForwardAddsAnInteractionOnlyAfterItsMainEffects) {
  auto out = Train(Data(), Step("y ~ x1 * x3", "forward"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // At the start only main effects may enter.
  for (const std::string& line : out->report.log)
    if (line.rfind("Step 1:", 0) == 0) {
      EXPECT_EQ(line.find("x1:x3"), std::string::npos) << line;
    }
}

TEST(Stepwise, Errors) {
  auto o = Step("y ~ x1 + x2", "backward");
  o.kind = "ridge";
  EXPECT_EQ(Train(Data(), o).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTrainOptions(Data(), o).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Train(Data(), Step("y ~ x1", "sideways")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Train(Data(), Step("y ~ x1", "forward", "cp")).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(Stepwise, WithFoldsCrossValidatesTheSelectedFormula) {
  auto o = Step("y ~ x1 + x2 + x3 + g", "backward");
  o.folds = 4;
  auto out = Train(Data(), o);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->model->formula(), "y ~ x1");
  EXPECT_TRUE(out->report.metrics.count("cv_rmse"));
}

}  // namespace
}  // namespace mlprod::ml
