// Elastic-net linear regression by coordinate descent, as R's glmnet(family = "gaussian",
// standardize = TRUE) computes it.
//
// The columns are standardised (centred when there is an intercept, scaled by their 1/n standard
// deviation) and so is the response, as glmnet does internally: with ys the 1/n standard
// deviation of y (root mean square without intercept), the problem solved for a user lambda is
//   min 1/(2n)·‖y/ys − a − Z b‖² + (λ/ys)·[(1−α)/2·‖b‖² + α·‖b‖₁]
// over the standardised coefficients b, and β_j = ys·b_j / sd_j on the original scale, the
// intercept unpenalised. For the lasso (α = 1) this is exactly
//   1/(2n)·RSS + λ·α·‖β_s‖₁,  β_s = β·sd  (the penalty on standardised coefficients);
// for α < 1 glmnet's ridge term is effectively λ(1−α)/(2·ys)·‖β_s‖², and we reproduce that, not
// the textbook objective (they agree when sd(y) = 1). Constant columns get coefficient 0.
// Convergence: a full sweep in which no coefficient moves by more than kTolerance in
// mean-square-weighted units (glmnet's criterion, far tighter than its default 1e-7).
// Plain values; thread-compatible.
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "ml/status.h"

namespace mlprod::ml {

struct ElasticNetCoef {
  double lambda = 0;
  double intercept = 0;      // 0 without intercept
  std::vector<double> beta;  // original scale, one per column of x
  int nonzero = 0;
  int sweeps = 0;  // coordinate sweeps this lambda took
};

class ElasticNet {
 public:
  static constexpr double kTolerance = 1e-14;
  static constexpr int kMaxSweeps = 100000;

  // Standardises `x` (no intercept column: the intercept is `intercept`) and `y`.
  // REQUIRES: 0 <= alpha <= 1, x.rows() == y.size() > 0.
  // FAILED_PRECONDITION when y is constant (glmnet fails at standardisation the same way).
  static Result<ElasticNet> Create(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                   bool intercept, double alpha);

  // glmnet's default path: lambda_max (the smallest lambda at which every coefficient is 0, with
  // alpha floored at 1e-3 for ridge) down to ratio·lambda_max, ratio = 1e-4 if n > p else 1e-2,
  // `count` values evenly spaced on the log scale. glmnet's early path truncation is not applied.
  std::vector<double> LambdaPath(int count = 100) const;

  // Fits at each of `lambdas` (in the order given; decreasing is fastest) with warm starts.
  std::vector<ElasticNetCoef> Fit(const std::vector<double>& lambdas) const;

  size_t rows() const { return static_cast<size_t>(z_.rows()); }

 private:
  ElasticNet() = default;

  Eigen::MatrixXd z_;                 // standardised columns
  Eigen::VectorXd r0_;                // standardised response
  std::vector<double> xm_, xs_, xv_;  // column means, sds, mean squares of z
  std::vector<bool> usable_;          // sd > 0
  double ym_ = 0, ys_ = 1, alpha_ = 1;
  bool intercept_ = true;
};

}  // namespace mlprod::ml
