// k-fold cross-validation through Train (TrainOptions::folds): cv_ metrics against a hand-rolled
// loop over the same folds, determinism by seed, every K from 2 to 10, the other kinds, errors.
#include <gtest/gtest.h>

#include <Eigen/Dense>
#include <cmath>
#include <string>

#include "ml/cross_validation.h"
#include "ml/model.h"

namespace mlprod::ml {
namespace {

constexpr size_t kRows = 30;

// y = 2 + 1.5 x1 - 0.7 x2 + noise; x2 has two missing cells (rows 4 and 17); b is 0/1.
Frame Data() {
  Frame f;
  f.rows = kRows;
  Column y, x1, x2, b;
  y.name = "y";
  x1.name = "x1";
  x2.name = "x2";
  b.name = "b";
  for (size_t i = 0; i < kRows; ++i) {
    const double a = std::sin(1.3 * i) * 4, c = std::cos(0.7 * i * i) * 3;
    const double noise = std::sin(11.0 * i + 0.5);
    x1.values.push_back(a);
    x2.values.push_back(i == 4 || i == 17 ? NAN : c);
    y.values.push_back(2 + 1.5 * a - 0.7 * c + noise);
    b.values.push_back(a + 4 * std::sin(5.0 * i) > 0 ? 1 : 0);  // overlapping classes
  }
  x2.missing = 2;
  f.columns = {y, x1, x2, b};
  return f;
}

TrainOptions Cv(std::string formula, int folds, uint64_t seed = 7,
                MissingStrategy missing = MissingStrategy::kDrop) {
  TrainOptions o;
  o.formula = std::move(formula);
  o.folds = folds;
  o.seed = seed;
  o.missing = missing;
  return o;
}

// The same CV written out: folds over the usable rows, mean imputation of x2 from the training
// folds only, least squares, held-out RMSE, unweighted mean over folds.
double HandRolledCvRmse(const Frame& f, int k, uint64_t seed, bool impute) {
  const auto& y = f.columns[0].values;
  const auto& x1 = f.columns[1].values;
  const auto& x2 = f.columns[2].values;
  std::vector<size_t> usable;
  for (size_t i = 0; i < f.rows; ++i)
    if (impute || !std::isnan(x2[i])) usable.push_back(i);
  const std::vector<int> fold = AssignFolds(usable.size(), k, seed);
  double total = 0;
  for (int h = 0; h < k; ++h) {
    std::vector<size_t> tr, te;
    for (size_t i = 0; i < usable.size(); ++i) (fold[i] == h ? te : tr).push_back(usable[i]);
    double mean = 0;
    int count = 0;
    for (size_t r : tr)
      if (!std::isnan(x2[r])) mean += x2[r], ++count;
    mean /= count;
    auto row = [&](size_t r) {
      return Eigen::RowVector3d(1, x1[r], std::isnan(x2[r]) ? mean : x2[r]);
    };
    Eigen::MatrixXd X(tr.size(), 3);
    Eigen::VectorXd Y(tr.size());
    for (size_t i = 0; i < tr.size(); ++i) X.row(i) = row(tr[i]), Y(i) = y[tr[i]];
    Eigen::Vector3d beta = X.colPivHouseholderQr().solve(Y);
    double sse = 0;
    for (size_t r : te) {
      double e = y[r] - row(r).dot(beta);
      sse += e * e;
    }
    total += std::sqrt(sse / te.size());
  }
  return total / k;
}

TEST(CrossValidation, CvRmseEqualsAHandRolledLoop) {
  for (bool impute : {false, true}) {
    auto out = Train(Data(), Cv("y ~ x1 + x2", 5, 7,
                                impute ? MissingStrategy::kMean : MissingStrategy::kDrop));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    const auto& m = out->report.metrics;
    EXPECT_NEAR(m.at("cv_rmse"), HandRolledCvRmse(Data(), 5, 7, impute), 1e-10) << impute;
    EXPECT_TRUE(m.count("cv_mae") && m.count("cv_r_squared"));
    EXPECT_FALSE(m.count("test_rmse"));
    // The final model is the fit on every usable row, as without --folds.
    TrainOptions plain = Cv("y ~ x1 + x2", 0, 7, impute ? MissingStrategy::kMean
                                                        : MissingStrategy::kDrop);
    auto whole = Train(Data(), plain);
    ASSERT_TRUE(whole.ok());
    EXPECT_EQ(out->report.n_obs, whole->report.n_obs);
    EXPECT_EQ(out->report.n_obs, impute ? kRows : kRows - 2);
    EXPECT_EQ(out->report.coefficients[1].estimate, whole->report.coefficients[1].estimate);
    EXPECT_EQ(m.at("rmse"), whole->report.metrics.at("rmse"));
  }
}

TEST(CrossValidation, DeterministicBySeed) {
  auto a = Train(Data(), Cv("y ~ x1 + x2", 4, 1));
  auto b = Train(Data(), Cv("y ~ x1 + x2", 4, 1));
  auto c = Train(Data(), Cv("y ~ x1 + x2", 4, 2));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->report.metrics.at("cv_rmse"), b->report.metrics.at("cv_rmse"));
  EXPECT_NE(a->report.metrics.at("cv_rmse"), c->report.metrics.at("cv_rmse"));
}

TEST(CrossValidation, FoldsTwoToTenWithProgressPerFold) {
  for (int k = 2; k <= 10; ++k) {
    int fold_lines = 0;
    auto out = Train(Data(), Cv("y ~ poly(x1, 2) + x2", k), [&](double p, const std::string& l) {
      EXPECT_GE(p, 0);
      EXPECT_LE(p, 1);
      if (l.rfind("fold ", 0) == 0) ++fold_lines;
      return true;
    });
    ASSERT_TRUE(out.ok()) << k << ": " << out.status().ToString();
    EXPECT_EQ(fold_lines, k);
    EXPECT_TRUE(std::isfinite(out->report.metrics.at("cv_rmse"))) << k;
  }
}

TEST(CrossValidation, OtherKinds) {
  auto logit = Train(Data(), [] {
    auto o = Cv("b ~ x1", 3);
    o.kind = "logistic";
    return o;
  }());
  ASSERT_TRUE(logit.ok()) << logit.status().ToString();
  for (const char* key : {"cv_accuracy", "cv_log_loss", "cv_auc"})
    EXPECT_TRUE(logit->report.metrics.count(key)) << key;
  auto km = Train(Data(), [] {
    auto o = Cv("~ x1 + y", 3);
    o.kind = "kmeans";
    o.params = {{"k", "2"}};
    return o;
  }());
  ASSERT_TRUE(km.ok()) << km.status().ToString();
  EXPECT_GT(km->report.metrics.at("cv_inertia"), 0);
  auto ridge = Train(Data(), [] {
    auto o = Cv("y ~ x1 + x2", 3);
    o.kind = "ridge";
    o.params = {{"lambda", "0.1"}};
    return o;
  }());
  ASSERT_TRUE(ridge.ok()) << ridge.status().ToString();
  EXPECT_TRUE(ridge->report.metrics.count("cv_rmse"));
}

TEST(CrossValidation, Errors) {
  EXPECT_EQ(Train(Data(), Cv("y ~ x1", 1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Train(Data(), Cv("y ~ x1", -3)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Train(Data(), Cv("y ~ x1", kRows + 1)).status().code(),
            StatusCode::kInvalidArgument);
  auto both = Cv("y ~ x1", 5);
  both.test_fraction = 0.2;
  EXPECT_EQ(Train(Data(), both).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateTrainOptions(Data(), both).code(), StatusCode::kInvalidArgument);
  // 30 rows, 28 usable under drop: K = 30 passes validation but not training.
  auto st = Train(Data(), Cv("y ~ x1 + x2", kRows)).status();
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_TRUE(Train(Data(), Cv("y ~ x1 + x2", kRows - 2)).ok());  // leave-one-out
}

TEST(CrossValidation, CancelledBetweenFolds) {
  int folds_seen = 0;
  auto out = Train(Data(), Cv("y ~ x1", 5), [&](double, const std::string& line) {
    if (line.rfind("fold ", 0) == 0) ++folds_seen;
    return folds_seen < 2;
  });
  EXPECT_EQ(out.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(folds_seen, 2);
}

}  // namespace
}  // namespace mlprod::ml
