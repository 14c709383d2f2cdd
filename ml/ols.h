// Ordinary least squares with R's summary(lm) statistics.
//
// The fit scales every design column to unit Euclidean norm, decides the aliased (collinear)
// columns as R's dqrdc2 does (in column order, a column whose norm after projection on the
// columns kept before it is below `tolerance` times its own norm is aliased), factors the kept
// columns with Eigen's ColPivHouseholderQR in long double, and refines the solution with residuals
// computed in long double. The unscaled covariance (X'X)^-1 comes from R^-1, never from inverting
// X'X. Plain functions on values; thread-compatible.
#pragma once

#include <Eigen/Dense>
#include <map>
#include <string>
#include <vector>

#include "ml/model.h"
#include "ml/status.h"

namespace mlprod::ml {

struct OlsOptions {
  // Relative column-norm threshold for aliasing (see above). R's lm uses 1e-7, which aliases a
  // term of NIST's Filip (its x^10 keeps a relative norm between 1e-8 and 1e-7); 1e-10 keeps
  // Filip whole while staying five orders above double rounding noise for exact collinearity.
  double tolerance = 1e-10;
  int refinement_steps = 2;  // iterative refinement steps after the QR solve
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
};

// Fits y ~ X. FAILED_PRECONDITION when X has more columns than rows or no rows.
Result<OlsFit> FitOls(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                      const OlsOptions& options = {});

// Sequential x·beta over the kept columns: the one prediction routine (bit-reproducible).
double OlsPredictRow(const OlsFit& fit, const double* x_row);

// x' (X'X)^-1 x over the kept columns of a design row.
double OlsLeverage(const OlsFit& fit, const double* x_row);

// Quantile of Student's t with `df` degrees of freedom (NaN when df <= 0).
double StudentQuantile(double df, double p);

// R's coefficient table (95% CI) for a fit whose design columns are named `names`.
std::vector<CoefficientRow> OlsCoefficientTable(const OlsFit& fit,
                                                const std::vector<std::string>& names);

// r_squared adj_r_squared f_statistic f_p_value log_likelihood aic bic rmse mae, from the
// response and the fitted values (R's conventions; uncentred R² without intercept).
std::map<std::string, double> OlsMetrics(const OlsFit& fit, bool intercept,
                                         const Eigen::VectorXd& y,
                                         const std::vector<double>& fitted);

}  // namespace mlprod::ml
