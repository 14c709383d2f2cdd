// StreamingR (ml/ols_tsqr.h): R'R is the Gram matrix of [X S^-1, y] (R itself is unique only up to
// row signs, and not at all once a column is zero), on shapes that reach the kernel's edges: fewer
// rows than one vector tile, a partial last block, fewer columns than one panel, panels and
// register tiles that do not divide the columns, and a zero column (inv_scale 0, as FitOls passes
// for a column aliased outright).
#include "ml/ols_tsqr.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace mlprod::ml {
namespace {

void CheckShape(Eigen::Index n, Eigen::Index p, uint64_t seed) {
  SCOPED_TRACE("n = " + std::to_string(n) + ", p = " + std::to_string(p));
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  Eigen::MatrixXd x(n, p);
  Eigen::VectorXd y(n), inv_scale(p);
  for (Eigen::Index j = 0; j < p; ++j) {
    const double mean = j, spread = 1 + j % 7;
    for (Eigen::Index i = 0; i < n; ++i) x(i, j) = j == 2 ? 0 : mean + spread * normal(rng);
    const double norm = x.col(j).norm();
    inv_scale(j) = norm > 0 ? 1 / norm : 0;
  }
  for (Eigen::Index i = 0; i < n; ++i) y(i) = normal(rng);

  const ColumnMatrix columns(x.data(), static_cast<size_t>(n), static_cast<size_t>(p));
  auto streamed = StreamingR(columns, y.data(), inv_scale);
  ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
  const Eigen::MatrixXd& r = *streamed;
  ASSERT_EQ(r.rows(), p + 1);
  ASSERT_EQ(r.cols(), p + 1);
  for (Eigen::Index j = 0; j <= p; ++j)
    for (Eigen::Index i = j + 1; i <= p; ++i) ASSERT_EQ(r(i, j), 0.0) << i << ", " << j;

  Eigen::MatrixXd a(n, p + 1);
  a << x * inv_scale.asDiagonal(), y;
  const Eigen::MatrixXd gram = a.transpose() * a;
  // Householder QR is backward stable: R'R = A'A + O(eps) relative to |A|^2 (y's norm dominates).
  const double tolerance = 1e-13 * std::max(1.0, y.squaredNorm());
  EXPECT_LE((r.transpose() * r - gram).cwiseAbs().maxCoeff(), tolerance);
  if (p > 2) {
    EXPECT_EQ(r.col(2).cwiseAbs().maxCoeff(), 0.0);  // the zero column stays zero
  }
}

TEST(StreamingR, RTransposeRIsTheGramMatrix) {
  CheckShape(1, 0, 1);
  CheckShape(3, 3, 8);  // as many columns as rows: R's last row is zero
  CheckShape(5, 3, 2);
  CheckShape(37, 4, 3);
  CheckShape(1000, 20, 4);
  CheckShape(2500, 17, 5);
  CheckShape(3001, 45, 6);
  CheckShape(900, 201, 7);
}

TEST(StreamingR, AsksToKeepGoingBetweenBlocksAndStopsWhenTold) {
  const Eigen::Index n = 200000, p = 20;  // about a hundred blocks
  Eigen::MatrixXd x = Eigen::MatrixXd::Random(n, p);
  const Eigen::VectorXd y = Eigen::VectorXd::Random(n), inv_scale = Eigen::VectorXd::Ones(p);
  const ColumnMatrix columns(x.data(), static_cast<size_t>(n), static_cast<size_t>(p));

  std::vector<double> asked;
  auto whole = StreamingR(columns, y.data(), inv_scale, [&](double f) {
    asked.push_back(f);
    return true;
  });
  ASSERT_TRUE(whole.ok());
  ASSERT_GE(asked.size(), 3u);
  for (size_t i = 0; i < asked.size(); ++i) {
    EXPECT_GT(asked[i], 0.0);
    EXPECT_LT(asked[i], 1.0);
    if (i > 0) {
      EXPECT_GT(asked[i], asked[i - 1]);
    }
  }
  // Asking changes nothing in the result.
  auto silent = StreamingR(columns, y.data(), inv_scale);
  ASSERT_TRUE(silent.ok());
  EXPECT_EQ(*whole, *silent);

  int calls = 0;
  auto stopped = StreamingR(columns, y.data(), inv_scale, [&](double) { return ++calls < 2; });
  EXPECT_EQ(stopped.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(calls, 2);  // it stopped at the first "no", long before the last block
}

}  // namespace
}  // namespace mlprod::ml
