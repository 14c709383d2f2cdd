// k-fold cross-validation of the elastic-net lambda, as R's cv.glmnet does it (grouped mean
// squared error): the same lambda path as the full fit, each fold fitted on the other folds,
// cvm = the mean over folds of the fold MSE weighted by fold size, cvsd its standard error;
// lambda_min = the largest lambda with the smallest cvm, lambda_1se = the largest lambda whose cvm
// is within one cvsd of it. Folds are portable and deterministic: rows permuted by the same
// mt19937_64 Fisher-Yates as ml/split.h, row perm[i] going to fold i mod k.
// Plain functions; thread-compatible.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "ml/keep_going.h"
#include "ml/status.h"

namespace mlprod::ml {

// Fold index in [0, k) of each of n rows. REQUIRES: 1 <= k <= n.
std::vector<int> AssignFolds(size_t n, int k, uint64_t seed);

struct LambdaCv {
  std::vector<double> lambdas;  // decreasing
  std::vector<double> cvm, cvsd;
  double lambda_min = 0, lambda_1se = 0;
  size_t index_min = 0, index_1se = 0;
};

// Cross-validates the elastic net of y on x (no intercept column) over glmnet's lambda path.
// `keep_going(fraction)` is called after each fold; returning false stops with CANCELLED.
// FAILED_PRECONDITION when folds > rows or a training fold has a constant response.
Result<LambdaCv> CrossValidateLambda(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                     bool intercept, double alpha, int folds, uint64_t seed,
                                     const KeepGoing& keep_going);

}  // namespace mlprod::ml
