// PrintRunSummary (client/cli_output.h): each model kind prints the summary its users know — R's
// summary(lm) for ols, summary(glm) for logistic, glmnet-style estimates, k-means clusters — and
// never another kind's statistics as NA.
#include "client/cli_output.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>
#include <string>

namespace mlprod::client {
namespace {

v1::Run BaseRun(const std::string& kind) {
  v1::Run run;
  run.set_id("r7");
  run.set_status(v1::RUN_STATUS_SUCCEEDED);
  run.set_experiment("Default");
  run.mutable_dataset()->set_name("d");
  run.mutable_dataset()->set_version(1);
  run.set_model(kind);
  run.set_formula("y ~ x");
  run.set_missing("drop");
  run.set_n_obs(300);
  return run;
}

void AddCoefficient(v1::Run* run, const std::string& term, double estimate, double se = NAN,
                    double stat = NAN, double p = NAN) {
  v1::Coefficient* c = run->add_coefficients();
  c->set_term(term);
  c->set_estimate(estimate);
  c->set_std_error(se);
  c->set_t_value(stat);
  c->set_p_value(p);
}

std::string Summary(const v1::Run& run) {
  std::ostringstream out;
  PrintRunSummary(run, out);
  return out.str();
}

void ExpectHas(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "missing \"" << part << "\" in:\n" << text;
}

void ExpectLacks(const std::string& text, const std::string& part) {
  EXPECT_EQ(text.find(part), std::string::npos) << "unexpected \"" << part << "\" in:\n" << text;
}

TEST(PrintRunSummary, OlsAsSummaryLm) {
  v1::Run run = BaseRun("ols");
  AddCoefficient(&run, "(Intercept)", 1.5, 0.25, 6, 1e-8);
  AddCoefficient(&run, "x", 2, 0.5, 4, 0.0001);
  run.set_df_residual(298);
  run.set_sigma(1.25);
  (*run.mutable_metrics())["r_squared"] = 0.5;
  (*run.mutable_metrics())["f_statistic"] = 16;
  (*run.mutable_metrics())["f_p_value"] = 0.0001;
  (*run.mutable_params())["cv_folds"] = "5";
  (*run.mutable_metrics())["cv_rmse"] = 1.3;
  (*run.mutable_params())["se"] = "HC3";
  for (const auto& [key, value] : std::map<std::string, double>{
           {"durbin_watson", 1.98}, {"jarque_bera", 2.5}, {"jarque_bera_p_value", 0.29},
           {"omnibus", 2.25}, {"omnibus_p_value", 0.32}, {"skew", 0.01}, {"kurtosis", 3.05},
           {"condition_number", 45.25}}) {
    (*run.mutable_metrics())[key] = value;
  }
  const std::string text = Summary(run);
  ExpectHas(text, "Standard errors: HC3 (heteroskedasticity-consistent sandwich)");
  ExpectHas(text, "Durbin-Watson: 1.98,  Jarque-Bera: 2.5 (p 0.29),  Omnibus: 2.25 (p 0.32)\n");
  ExpectHas(text, "Skew: 0.01,  Kurtosis: 3.05,  Cond. No.: 45.25\n");
  ExpectHas(text, "t value");
  ExpectHas(text, "Pr(>|t|)");
  ExpectHas(text, "Residual standard error: 1.25 on 298 degrees of freedom");
  ExpectHas(text, "F-statistic: 16 on 1 and 298 DF,  p-value: 1e-04");
  ExpectHas(text, "Cross-validated RMSE: 1.3,");
  ExpectHas(text, "(mean over 5 folds)");
  ExpectLacks(text, "Test RMSE");
}

TEST(PrintRunSummary, LogisticAsSummaryGlm) {
  v1::Run run = BaseRun("logistic");
  AddCoefficient(&run, "(Intercept)", -0.004, 0.25, -0.016, 0.987);
  AddCoefficient(&run, "x", 1.4, 0.19, 7.35, 1.9e-13);
  run.set_df_residual(298);
  run.set_n_test(60);
  auto& m = *run.mutable_metrics();
  m["null_deviance"] = 402.98216811494774;
  m["deviance"] = 289.07500862611886;
  m["aic"] = 293.07500862611886;
  m["bic"] = 300.48;
  m["log_likelihood"] = -144.5375;
  m["accuracy"] = 0.7666666666666667;
  m["auc"] = 0.8380147639166163;
  m["log_loss"] = 0.48179168104353143;
  m["test_accuracy"] = 0.75;
  m["test_auc"] = 0.8;
  m["test_log_loss"] = 0.5;
  const std::string text = Summary(run);
  ExpectHas(text, "z value");
  ExpectHas(text, "Pr(>|z|)");
  ExpectHas(text, "(Dispersion parameter for binomial family taken to be 1)");
  ExpectHas(text, "    Null deviance: 402.98  on 299  degrees of freedom");
  ExpectHas(text, "Residual deviance: 289.08  on 298  degrees of freedom");
  ExpectHas(text, "AIC: 293.08");
  ExpectHas(text, "Log-likelihood: -144.5375,  BIC: 300.48");
  ExpectHas(text, "Training accuracy: 0.7667,  log-loss: 0.481792,  AUC: 0.838");
  ExpectHas(text, "Test accuracy: 0.75,  log-loss: 0.5,  AUC: 0.8  (60 rows)");
  ExpectLacks(text, "Residual standard error");
  ExpectLacks(text, "NA");
}

TEST(PrintRunSummary, PenalisedShowsEstimatesZerosAsDotsAndLambda) {
  v1::Run run = BaseRun("lasso");
  AddCoefficient(&run, "(Intercept)", 0.45);
  AddCoefficient(&run, "x", 0.21);
  AddCoefficient(&run, "z", 0);
  auto& m = *run.mutable_metrics();
  m["alpha"] = 1;
  m["lambda"] = 0.0005;
  m["lambda_min"] = 0.0005;
  m["lambda_1se"] = 0.05;
  m["rmse"] = 0.4;
  m["mae"] = 0.35;
  m["r_squared"] = 0.32;
  const std::string text = Summary(run);
  ExpectHas(text, "alpha = 1, lambda = 5e-04");
  ExpectHas(text, "1 of 2 penalised coefficients are nonzero");
  ExpectHas(text, "lambda.min = 5e-04,  lambda.1se = 0.05");
  ExpectHas(text, "Training RMSE: 0.4,  MAE: 0.35,  R-squared: 0.32");
  EXPECT_NE(text.find("z  "), std::string::npos) << text;  // the zero as "."
  ExpectHas(text, ".\n");
  ExpectLacks(text, "Std. Error");
  ExpectLacks(text, "NA");
}

TEST(PrintRunSummary, KMeansShowsClustersInertiaAndSilhouette) {
  v1::Run run = BaseRun("kmeans");
  run.set_formula("~ x1 + x2");
  run.add_log("feature matrix 300 x 2 (0 rows dropped)");
  run.add_log("cluster 0 (100 rows): centre x1=0, x2=1");
  run.add_log("cluster 1 (200 rows): centre x1=5, x2=6");
  (*run.mutable_metrics())["inertia"] = 120038.39;
  (*run.mutable_metrics())["silhouette"] = 0.44186;
  const std::string text = Summary(run);
  ExpectHas(text, "Clusters:\n  cluster 0 (100 rows): centre x1=0, x2=1\n"
                  "  cluster 1 (200 rows): centre x1=5, x2=6\n");
  ExpectLacks(text, "feature matrix");
  ExpectHas(text, "Inertia (within-cluster sum of squares): 120038,  silhouette: 0.4419");
  ExpectLacks(text, "Coefficients");
  ExpectLacks(text, "NA");
}

TEST(PrintRunSummary, AStepwiseRunShowsTheFormulaItSelected) {
  v1::Run run = BaseRun("ols");
  run.set_formula("y ~ a + b + c");
  run.add_log("Start: AIC=12.5");
  run.add_log("selected_formula: y ~ a + c  (AIC=10.25)");
  ExpectHas(Summary(run), "Formula: y ~ a + b + c\nSelected: y ~ a + c  (AIC=10.25)\n");
}

TEST(PrintRunSummary, AFailedRunShowsItsErrorOnly) {
  v1::Run run = BaseRun("ols");
  run.set_status(v1::RUN_STATUS_FAILED);
  run.set_error("interrupted");
  const std::string text = Summary(run);
  ExpectHas(text, "Error: interrupted");
  ExpectLacks(text, "Coefficients");
}

}  // namespace
}  // namespace mlprod::client
