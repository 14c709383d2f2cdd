// Data-dependent bases of model formulas, computed as R computes them: the orthogonal polynomials
// of stats::poly() and the natural cubic splines of splines::ns(). Each is fitted once on the
// training values and then evaluated one value at a time by the same code for training rows and
// new rows, so a refit model and a reloaded one produce the same bits. Plain values, immutable
// after construction, safe to share between threads.
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "ml/status.h"

namespace mlprod::ml {

// R's attr(poly(x, degree), "coefs").
struct PolyCoefs {
  std::vector<double> alpha;  // `degree` centres of the three-term recurrence
  std::vector<double> norm2;  // degree + 2 squared norms; norm2[0] = 1, norm2[1] = n
  int degree() const { return static_cast<int>(alpha.size()); }
};

// Fits poly(x, degree) on finite `x` (mean-centred Vandermonde matrix, Householder QR, as R).
// FAILED_PRECONDITION when degree >= the number of unique values of `x` or the polynomials are
// numerically dependent.
Result<PolyCoefs> FitPoly(const std::vector<double>& x, int degree);

// Writes the `degree` basis values at `x` to out[0..degree): R's predict(poly, x), by the
// three-term recurrence on alpha and norm2, with R's operation order.
void PolyBasis(const PolyCoefs& coefs, double x, double* out);

// R's type-7 quantile of ascending `sorted` (non-empty) at probability p.
double QuantileType7(const std::vector<double>& sorted, double p);

// splines::ns(x, df, intercept = FALSE): B-spline basis of order 4 on the boundary knots (the
// training range) and interior knots, constrained to zero second derivative at both boundaries
// through the LINPACK QR of the constraint matrix, as R. Linear beyond the boundary knots.
class NaturalSpline {
 public:
  // Knots of ns(x, df) from finite `x`: df - 1 interior knots at the type-7 quantiles
  // seq(0, 1, length = df + 1) without the ends, boundary knots at min and max.
  // INVALID_ARGUMENT for df < 1; FAILED_PRECONDITION when x is empty or constant.
  static Result<NaturalSpline> Fit(const std::vector<double>& x, int df);
  // The same basis from stored knots (a reloaded model). INVALID_ARGUMENT when lower >= upper
  // or a knot is not finite.
  static Result<NaturalSpline> FromKnots(std::vector<double> interior, double lower, double upper);

  int df() const { return static_cast<int>(interior_.size()) + 1; }
  const std::vector<double>& interior_knots() const { return interior_; }
  double lower() const { return lower_; }
  double upper() const { return upper_; }

  // Writes the df() basis values at x to out[0..df()).
  void Basis(double x, double* out) const;

 private:
  NaturalSpline() = default;

  std::vector<double> interior_;
  double lower_ = 0, upper_ = 0;
  std::vector<double> knots_;  // 4 x lower, interior, 4 x upper
  Eigen::MatrixXd qr_;         // LINPACK dqrdc2 compact form of t(const), (df + 2) x 2
  double qraux_[2] = {0, 0};
  Eigen::VectorXd left_value_, left_slope_, right_value_, right_slope_;  // B-splines at pivots
};

}  // namespace mlprod::ml
