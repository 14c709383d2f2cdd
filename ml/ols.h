// Ordinary least squares with R's summary(lm) statistics.
//
// The fit scales every design column to unit Euclidean norm and reduces [X S^-1, y] in one pass
// over the rows to its (p+1) x (p+1) triangular factor (streaming TSQR: blocks of rows that fit
// in cache, each factored under the running R by Householder QR in double with SIMD kernels; see
// ml/ols_tsqr.h). X is read where it lies (a ColumnMatrix), never copied. On that small R it
// decides the aliased (collinear) columns as R's dqrdc2 does (in column order, a column whose
// norm after projection on the columns kept before it is below `tolerance` times its own norm is
// aliased; Q is orthonormal, so these norms are those of X) and factors the kept columns in the
// same pass. When the 1-norm condition number of that R is at most 1e5 the solution is refined by
// the corrected seminormal equations with e = y - Xb and X'e computed in double-double
// arithmetic (error-free products and sums, O(n·p); FMA kernels when the CPU has them; the
// pass confirming a correction is skipped when cond^2·eps bounds the next one far below double
// and e'e cannot move); above it the kept columns are factored again with a pivoted QR in long
// double and refined by Björck's augmented-system method with the same double-double residuals.
// Either way the refinement stops once the correction stops shrinking or falls below 2^-60 of
// the solution. The unscaled
// covariance (X'X)^-1 comes from R^-1 of the factorization used, never from inverting X'X.
// The same R and R^-1 give the condition number of the design (always, O(p^3)) and, only when
// asked for, the HC0-HC3 sandwich covariance (O(n p^2); see ml/ols_diagnostics.h).
// Plain functions on values; thread-compatible.
#pragma once

#include <Eigen/Dense>
#include <map>
#include <string>
#include <vector>

#include "ml/column_matrix.h"
#include "ml/keep_going.h"
#include "ml/model.h"
#include "ml/ols_diagnostics.h"
#include "ml/status.h"

namespace mlprod::ml {

struct OlsOptions {
  // Relative column-norm threshold for aliasing (see above). R's lm uses 1e-7, which aliases a
  // term of NIST's Filip (its x^10 keeps a relative norm between 1e-8 and 1e-7); 1e-10 keeps
  // Filip whole while staying five orders above double rounding noise for exact collinearity.
  double tolerance = 1e-10;
  int max_refinement_steps = 4;  // cap on the iterative refinement steps after the QR solve
  // Standard errors of the coefficient table (param `se`): classic, or a robust sandwich
  // computed during the fit (fills OlsFit::cov_robust; O(n p^2) extra work only then).
  CovarianceType covariance = CovarianceType::kClassic;
};

struct OlsFit {
  size_t n = 0;
  size_t rank = 0;
  std::vector<bool> aliased;     // one per design column
  std::vector<double> coef;      // one per design column, NaN when aliased
  std::vector<int> kept;         // indices of the non-aliased columns
  Eigen::MatrixXd cov_unscaled;  // (X'X)^-1 over the kept columns, in `kept` order
  double rss = NAN;
  double df_residual = NAN;
  double sigma = NAN;  // NaN when df_residual == 0
  // Ratio of the largest to the smallest singular value of the unscaled kept columns (as
  // statsmodels' condition_number; NaN when nothing is kept). Not serialised with a model.
  double condition_number = NAN;
  // The standard errors' kind and, unless kClassic, the coefficients' covariance over the kept
  // columns in `kept` order (already scaled: SE = sqrt of its diagonal). Not serialised.
  CovarianceType covariance = CovarianceType::kClassic;
  Eigen::MatrixXd cov_robust;
};

// Fits y ~ X (y: x.rows() values). FAILED_PRECONDITION when X has more columns than rows or no
// rows; CANCELLED when `keep_going` (asked during the pass over the rows) says stop.
Result<OlsFit> FitOls(const ColumnMatrix& x, const double* y, const OlsOptions& options = {},
                      const KeepGoing& keep_going = nullptr);
Result<OlsFit> FitOls(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                      const OlsOptions& options = {});

// Sequential x·beta over the kept columns: the one prediction routine (bit-reproducible).
double OlsPredictRow(const OlsFit& fit, const double* x_row);

// OlsPredictRow of every row of `x` into out[0..x.rows()), column by column (blocks of rows at a
// time): each row's value is the same sequence of double operations, so it has the same bits.
void OlsPredictColumns(const OlsFit& fit, const ColumnMatrix& x, double* out);

// x' (X'X)^-1 x over the kept columns of a design row.
double OlsLeverage(const OlsFit& fit, const double* x_row);

// Quantile of Student's t with `df` degrees of freedom (NaN when df <= 0).
double StudentQuantile(double df, double p);

// R's coefficient table (95% CI) for a fit whose design columns are named `names`. With a robust
// fit.covariance the standard errors come from fit.cov_robust; t, p and the CI then use them with
// Student's t on df_residual, as R's lmtest::coeftest(fit, vcovHC(fit, type)) does (statsmodels
// uses the normal unless use_t=True).
std::vector<CoefficientRow> OlsCoefficientTable(const OlsFit& fit,
                                                const std::vector<std::string>& names);

// r_squared adj_r_squared f_statistic f_p_value log_likelihood aic bic rmse mae, from the
// response and the fitted values (fit.n of each; R's conventions; uncentred R² without
// intercept); and, as statsmodels' OLS summary, durbin_watson jarque_bera jarque_bera_p_value
// omnibus omnibus_p_value skew kurtosis (of the residuals y - fitted, in row order; O(n)) and
// condition_number (fit.condition_number). The F test and R² stay classic under a robust se.
std::map<std::string, double> OlsMetrics(const OlsFit& fit, bool intercept, const double* y,
                                         const double* fitted);

}  // namespace mlprod::ml
