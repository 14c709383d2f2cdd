// Binary logistic regression by iteratively reweighted least squares, as R's
// glm(family = binomial) fits it: start from mu = (y + 1/2)/2, each step a weighted least-squares
// fit of the working response z = eta + (y - mu)/mu' with weights mu(1 - mu), solved by FitOls
// (ml/ols.h: column-pivoted QR, aliased columns reported as R does). R's logit link with its
// clamping at |eta| > 30. Convergence: |dev - dev_old| / (|dev| + 0.1) < kEpsilon (R uses 1e-8;
// IRLS converges quadratically, so the tighter value costs one step at most and makes the
// estimates stable to the last digits). Standard errors come from the weighted QR of the last
// step ((X'WX)^-1 from R^-1), as summary.glm takes them.
//
// Separation: after convergence IRLS is run kSeparationProbe more steps; at a finite maximum
// nothing moves, whereas under complete or quasi-complete separation the linear predictor of the
// separated rows keeps growing by O(1) per step. That is reported as FAILED_PRECONDITION naming
// the terms whose coefficients diverge and the number of rows fitted to probability 0 or 1.
// Plain functions; thread-compatible.
#pragma once

#include <Eigen/Dense>
#include <map>
#include <string>
#include <vector>

#include "ml/keep_going.h"
#include "ml/model.h"
#include "ml/status.h"

namespace mlprod::ml {

struct LogisticFit {
  size_t n = 0;
  size_t rank = 0;
  std::vector<bool> aliased;  // one per design column
  std::vector<double> coef;   // one per design column, NaN when aliased
  std::vector<int> kept;      // indices of the non-aliased columns
  Eigen::MatrixXd cov;        // (X'WX)^-1 over the kept columns, in `kept` order
  double deviance = NAN, null_deviance = NAN;
  int iterations = 0;
};

constexpr double kLogisticEpsilon = 1e-10;
constexpr int kLogisticMaxIterations = 25;  // R's maxit
constexpr int kSeparationProbe = 3;

// R's binomial()$linkinv: 1/(1 + exp(-eta)), clamped to [eps, 1 - eps] beyond |eta| > 30.
double LogisticLinkInverse(double eta);

// Fits y (0/1) ~ x; `names` are the design column names (for messages). FAILED_PRECONDITION for
// more columns than rows, a constant response, separation (naming the terms), or no convergence;
// CANCELLED when `keep_going` (asked every IRLS iteration) says stop.
Result<LogisticFit> FitLogistic(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, bool intercept,
                                const std::vector<std::string>& names,
                                const KeepGoing& keep_going = nullptr);

// Sequential x·beta over the kept columns: the one linear-predictor routine (bit-reproducible).
double LogisticLinearPredictor(const std::vector<double>& coef, const std::vector<int>& kept,
                               const double* x_row);

// x' cov x over the kept columns of a design row (the variance of the linear predictor).
double LogisticEtaVariance(const LogisticFit& fit, const double* x_row);

// Estimate, SE, Wald z (in t_value), normal p-value and 95% Wald CI per design column.
std::vector<CoefficientRow> LogisticCoefficientTable(const LogisticFit& fit,
                                                     const std::vector<std::string>& names);

// accuracy (threshold 0.5), log_loss (probabilities clipped to [1e-15, 1 - 1e-15], as sklearn),
// auc (Mann-Whitney, ties counted one half; NaN with one class) under `prefix`.
void AddClassificationMetrics(const std::vector<double>& y, const std::vector<double>& prob,
                              const std::string& prefix, std::map<std::string, double>* metrics);

// Normal quantile and two-sided p of a z statistic (Boost.Math).
double NormalQuantile(double p);

}  // namespace mlprod::ml
