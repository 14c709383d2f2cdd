// The diagnostics of statsmodels' OLS summary and the heteroskedasticity-consistent (HC0-HC3)
// coefficient covariances, computed from what an OLS fit already holds: its residuals, the
// inverse of its triangular factor and the design. Plain functions on values; thread-compatible.
#pragma once

#include <Eigen/Dense>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "ml/column_matrix.h"
#include "ml/status.h"

namespace mlprod::ml {

// How the coefficient table's standard errors are computed (the ols param `se`).
enum class CovarianceType {
  kClassic,  // sigma^2 (X'X)^-1
  kHC0,      // White: (X'X)^-1 X' diag(e_i^2) X (X'X)^-1
  kHC1,      // HC0 * n / (n - rank)
  kHC2,      // weights e_i^2 / (1 - h_ii)
  kHC3,      // weights e_i^2 / (1 - h_ii)^2
};

// "classic", "HC0", "HC1", "HC2", "HC3".
std::string_view CovarianceTypeName(CovarianceType type);

// Reads the names above (HCk also in lower case). INVALID_ARGUMENT naming the value otherwise.
Result<CovarianceType> ParseCovarianceType(std::string_view text);

// Residual diagnostics exactly as statsmodels' OLS summary computes them.
struct ResidualDiagnostics {
  double durbin_watson = NAN;        // sum (e_i - e_{i-1})^2 / sum e_i^2; NaN when n < 2
  double skew = NAN;                 // m3 / m2^1.5 (moments about the mean, divided by n)
  double kurtosis = NAN;             // m4 / m2^2, not excess
  double jarque_bera = NAN;          // n/6 (skew^2 + (kurtosis - 3)^2 / 4); NaN when n < 2
  double jarque_bera_p_value = NAN;  // upper tail of chi-squared(2)
  double omnibus = NAN;              // D'Agostino-Pearson K^2 (scipy.stats.normaltest); n >= 8
  double omnibus_p_value = NAN;      // upper tail of chi-squared(2); NaN when n < 8
};

// Diagnostics of the residuals e (in row order: Durbin-Watson depends on it). O(n). Constant
// residuals (an exact fit) give NaN skew, kurtosis and tests, as statsmodels does.
ResidualDiagnostics DiagnoseResiduals(const Eigen::Ref<const Eigen::VectorXd>& e);

// The ratio of the largest to the smallest singular value of X, from a factor X = Q R (Q with
// orthonormal columns, R square and non-singular, not necessarily triangular) and its inverse:
// sigma_max(R) * sigma_max(R^-1). Both are the largest singular values, which a backward-stable
// SVD gets to a few ulps, so the ratio is accurate even when X'X would not be representable
// (statsmodels' sqrt(max/min eigenvalue of X'X)). O(r^3). NaN for an empty R.
double ConditionNumber(const Eigen::MatrixXd& r, const Eigen::MatrixXd& r_inverse);

// The covariance of the coefficients over the kept columns `kept` of `x`, in `kept` order, for a
// robust `type` (not kClassic): R^-1 (Q' diag(w) Q) R^-T with Q = X_kept R^-1 formed one block
// of rows at a time (never whole) and w_i from the residuals `e` and, for HC2/HC3, the leverages
// h_ii = |row i of Q|^2. `r_inverse` is the inverse of a factor X_kept = Q R as above.
// O(n r^2) time, O(r^2 + block r) memory. An observation with h_ii = 1 makes HC2/HC3 NaN or inf.
Eigen::MatrixXd RobustCovariance(const ColumnMatrix& x, const std::vector<int>& kept,
                                 const Eigen::MatrixXd& r_inverse, const Eigen::VectorXd& e,
                                 CovarianceType type);

}  // namespace mlprod::ml
