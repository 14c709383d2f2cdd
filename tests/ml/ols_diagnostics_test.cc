// The OLS summary diagnostics and HC0-HC3 standard errors against statsmodels
// (tests/reference/ols_refs.json, from tests/reference/generate_ols_refs.py), to 6 digits.
#include "ml/ols_diagnostics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ml/model.h"
#include "ml/ols.h"

namespace mlprod::ml {
namespace {

using nlohmann::json;

const json& Refs() {
  static const json refs = [] {
    std::ifstream in(std::string(MLPROD_REFERENCE_DIR) + "/ols_refs.json");
    return json::parse(in, nullptr, /*allow_exceptions=*/false);
  }();
  return refs;
}

// Agreement to `digits` significant digits: within half a unit of the last one of `want`.
::testing::AssertionResult SameDigits(double got, double want, int digits = 6) {
  const double unit = std::pow(10.0, std::floor(std::log10(std::fabs(want))) - digits + 1);
  if (std::fabs(got - want) <= 0.5 * unit) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "got " << ::testing::PrintToString(got) << ", want " << want << " to " << digits
         << " digits (relative error " << std::fabs(got - want) / std::fabs(want) << ")";
}

Frame FrameOf(const json& c) {
  Frame f;
  for (const auto& [name, values] : c.at("columns").items()) {
    Column col;
    col.name = name;
    col.values = values.get<std::vector<double>>();
    f.rows = col.values.size();
    f.columns.push_back(std::move(col));
  }
  return f;
}

TrainOutput TrainCase(const json& c, const std::string& se = "") {
  TrainOptions options;
  options.formula = c.at("formula").get<std::string>();
  if (!se.empty()) options.params["se"] = se;
  auto out = Train(FrameOf(c), options);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? std::move(*out) : TrainOutput{};
}

TEST(OlsDiagnostics, ReferenceFileReadable) {
  ASSERT_FALSE(Refs().is_discarded()) << "cannot read " MLPROD_REFERENCE_DIR "/ols_refs.json";
  EXPECT_EQ(Refs().at("cases").size(), 2u);
}

TEST(OlsDiagnostics, SummaryMetricsMatchStatsmodels) {
  ASSERT_FALSE(Refs().is_discarded());
  for (const json& c : Refs().at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const auto& m = TrainCase(c).report.metrics;
    for (const char* key : {"durbin_watson", "jarque_bera", "jarque_bera_p_value", "omnibus",
                            "omnibus_p_value", "skew", "kurtosis"}) {
      ASSERT_TRUE(m.count(key)) << key;
      EXPECT_TRUE(SameDigits(m.at(key), c.at(key).get<double>())) << key;
    }
    // Held to the 50-digit value; statsmodels' own double SVD agrees with it to 6 digits too.
    ASSERT_TRUE(m.count("condition_number"));
    EXPECT_TRUE(SameDigits(m.at("condition_number"), c.at("condition_number_exact"), 10));
    EXPECT_TRUE(SameDigits(m.at("condition_number"), c.at("condition_number")));
  }
}

TEST(OlsRobust, StandardErrorsMatchStatsmodels) {
  ASSERT_FALSE(Refs().is_discarded());
  for (const json& c : Refs().at("cases")) {
    for (const auto& [se, want] : c.at("std_error").items()) {
      SCOPED_TRACE(c.at("name").get<std::string>() + " se=" + se);
      TrainOutput out = TrainCase(c, se);
      const auto& rows = out.report.coefficients;
      ASSERT_EQ(rows.size(), want.size());
      for (size_t k = 0; k < rows.size(); ++k) {
        EXPECT_EQ(rows[k].term, c.at("terms")[k].get<std::string>());
        EXPECT_TRUE(SameDigits(rows[k].estimate, c.at("estimate")[k])) << rows[k].term;
        EXPECT_TRUE(SameDigits(rows[k].std_error, want[k])) << rows[k].term;
      }
    }
  }
}

// Filip (condition number 1.8e15) goes through the long double, pivoted factorization; its
// condition number and HC3 errors are checked against 60-digit values (statsmodels' double
// pinv cannot produce them).
TEST(OlsRobust, FilipHc3MatchesExtendedPrecision) {
  ASSERT_FALSE(Refs().is_discarded());
  const json& want = Refs().at("filip_exact");
  std::ifstream in(std::string(MLPROD_NIST_DIR) + "/Filip.dat");
  ASSERT_TRUE(in.good());
  Frame f;
  f.columns.resize(2);
  f.columns[0].name = "y";
  f.columns[1].name = "x";
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    double y, x;
    if (number < 61 || std::sscanf(line.c_str(), "%lf %lf", &y, &x) != 2) continue;
    f.columns[0].values.push_back(y);
    f.columns[1].values.push_back(x);
    ++f.rows;
  }
  ASSERT_EQ(f.rows, want.at("n").get<size_t>());
  TrainOptions options;
  options.formula = "y ~ x";
  for (int d = 2; d <= 10; ++d) options.formula += " + I(x^" + std::to_string(d) + ")";
  options.params["se"] = "HC3";
  auto out = Train(f, options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(SameDigits(out->report.metrics.at("condition_number"), want.at("condition_number")));
  const auto& rows = out->report.coefficients;
  ASSERT_EQ(rows.size(), want.at("hc3_std_error").size());
  for (size_t k = 0; k < rows.size(); ++k)
    EXPECT_TRUE(SameDigits(rows[k].std_error, want.at("hc3_std_error")[k])) << rows[k].term;
}

TEST(OlsRobust, TableAndLogUseTheRobustErrors) {
  ASSERT_FALSE(Refs().is_discarded());
  const json& c = Refs().at("cases")[1];
  TrainOutput out = TrainCase(c, "HC2");
  const FitReport& rep = out.report;
  const double q = StudentQuantile(rep.df_residual, 0.975);
  for (const CoefficientRow& row : rep.coefficients) {
    EXPECT_DOUBLE_EQ(row.t_value, row.estimate / row.std_error) << row.term;
    EXPECT_NEAR(row.ci_upper, row.estimate + q * row.std_error, 1e-12) << row.term;
    EXPECT_GT(row.p_value, 0);
    EXPECT_LT(row.p_value, 1);
  }
  bool logged = false;
  for (const std::string& line : rep.log) logged |= line.find("HC2") != std::string::npos;
  EXPECT_TRUE(logged);
  // The classic fit's log does not mention a sandwich.
  for (const std::string& line : TrainCase(c).report.log)
    EXPECT_EQ(line.find("HC"), std::string::npos) << line;
}

TEST(OlsRobust, UnknownSeIsInvalidArgument) {
  ASSERT_FALSE(Refs().is_discarded());
  TrainOptions options;
  options.formula = "y ~ x1";
  options.params["se"] = "HC4";
  auto out = Train(FrameOf(Refs().at("cases")[1]), options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("HC4"), std::string::npos);
  EXPECT_EQ(ValidateTrainOptions(FrameOf(Refs().at("cases")[1]), options).code(),
            StatusCode::kInvalidArgument);
}

TEST(OlsRobust, RankDeficientDesignUsesKeptColumns) {
  // x2 = 2 x1 is aliased; HC0 over the kept columns equals HC0 of the design without x2.
  const int n = 12;
  Eigen::MatrixXd x(n, 3), x_kept(n, 2);
  Eigen::VectorXd y(n);
  for (int i = 0; i < n; ++i) {
    x(i, 0) = x_kept(i, 0) = 1;
    x(i, 1) = x_kept(i, 1) = i;
    x(i, 2) = 2.0 * i;
    y(i) = 1 + 0.5 * i + (i % 3 == 0 ? 0.4 * i : -0.2);
  }
  OlsOptions options;
  options.covariance = CovarianceType::kHC0;
  auto full = FitOls(x, y, options), kept = FitOls(x_kept, y, options);
  ASSERT_TRUE(full.ok() && kept.ok());
  EXPECT_TRUE(full->aliased[2]);
  ASSERT_EQ(full->cov_robust.rows(), 2);
  EXPECT_TRUE(full->cov_robust.isApprox(kept->cov_robust, 1e-12));
  EXPECT_NEAR(full->condition_number, kept->condition_number, 1e-9 * kept->condition_number);
}

TEST(OlsDiagnostics, ClassicFitDoesNoSandwichWork) {
  Eigen::MatrixXd x(4, 2);
  Eigen::VectorXd y(4);
  y << 1, 3, 2, 5;
  for (int i = 0; i < 4; ++i) x(i, 0) = 1, x(i, 1) = i + 1;
  auto fit = FitOls(x, y);
  ASSERT_TRUE(fit.ok());
  EXPECT_EQ(fit->covariance, CovarianceType::kClassic);
  EXPECT_EQ(fit->cov_robust.size(), 0);
  // X = [1 1; 1 2; 1 3; 1 4]: X'X = [4 10; 10 30], eigenvalues 17 +- sqrt(269).
  EXPECT_NEAR(fit->condition_number, std::sqrt((17 + std::sqrt(269.0)) / (17 - std::sqrt(269.0))),
              1e-12);
}

TEST(OlsDiagnostics, FewOrConstantResidualsGiveNaN) {
  Eigen::VectorXd few(5);
  few << 1, -2, 0.5, 3, -2.5;
  ResidualDiagnostics d = DiagnoseResiduals(few);
  EXPECT_FALSE(std::isnan(d.jarque_bera));
  EXPECT_FALSE(std::isnan(d.durbin_watson));
  EXPECT_TRUE(std::isnan(d.omnibus));  // D'Agostino's test needs n >= 8, as statsmodels
  EXPECT_TRUE(std::isnan(d.omnibus_p_value));
  ResidualDiagnostics zero = DiagnoseResiduals(Eigen::VectorXd::Zero(10));
  EXPECT_TRUE(std::isnan(zero.skew));
  EXPECT_TRUE(std::isnan(zero.jarque_bera));
  EXPECT_TRUE(std::isnan(zero.durbin_watson));
}

TEST(OlsDiagnostics, CovarianceTypeNamesRoundTrip) {
  for (CovarianceType t : {CovarianceType::kClassic, CovarianceType::kHC0, CovarianceType::kHC1,
                           CovarianceType::kHC2, CovarianceType::kHC3}) {
    auto parsed = ParseCovarianceType(CovarianceTypeName(t));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, t);
  }
  EXPECT_TRUE(ParseCovarianceType("hc3").ok());
  EXPECT_FALSE(ParseCovarianceType("").ok());
}

}  // namespace
}  // namespace mlprod::ml
