#include "ml/basis.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace mlprod::ml {
namespace {

// R's mean(): a long double sum, then one correction pass.
double RMean(const std::vector<double>& x) {
  long double s = 0;
  for (double v : x) s += v;
  s /= static_cast<long double>(x.size());
  long double t = 0;
  for (double v : x) t += v - s;
  s += t / static_cast<long double>(x.size());
  return static_cast<double>(s);
}

constexpr int kOrder = 4;  // cubic B-splines

// Values (deriv = 0) or derivatives (deriv = 1, 2) at x of the knots.size() - 4 cubic B-splines
// on `knots`, written to out. x must lie within the boundary knots; at the right boundary the
// last non-empty interval is used, as R's splineDesign does.
void BSplines(const std::vector<double>& knots, double x, int deriv, double* out) {
  const int nk = static_cast<int>(knots.size());
  const double upper = knots[nk - kOrder];
  int mu;
  if (x >= upper) {
    mu = nk - kOrder - 1;
    while (mu > 0 && !(knots[mu] < knots[mu + 1])) --mu;
  } else {
    mu = static_cast<int>(std::upper_bound(knots.begin(), knots.end(), x) - knots.begin()) - 1;
  }
  double stack[64];
  std::vector<double> heap;
  double* b = stack;
  if (nk > 64) {
    heap.resize(nk);
    b = heap.data();
  }
  std::fill(b, b + nk, 0.0);
  b[mu] = 1.0;
  // Cox-de Boor up to order kOrder - deriv.
  for (int k = 2; k <= kOrder - deriv; ++k) {
    for (int i = 0; i + k < nk; ++i) {
      double v = 0;
      double d1 = knots[i + k - 1] - knots[i];
      if (d1 > 0) v += (x - knots[i]) / d1 * b[i];
      double d2 = knots[i + k] - knots[i + 1];
      if (d2 > 0) v += (knots[i + k] - x) / d2 * b[i + 1];
      b[i] = v;
    }
    for (int i = std::max(0, nk - k); i < nk; ++i) b[i] = 0;
  }
  // Each derivative raises the order by one: B'_{i,k} = (k-1)(B_{i,k-1}/d1 - B_{i+1,k-1}/d2).
  for (int k = kOrder - deriv + 1; k <= kOrder; ++k) {
    for (int i = 0; i + k < nk; ++i) {
      double v = 0;
      double d1 = knots[i + k - 1] - knots[i];
      if (d1 > 0) v += (k - 1) * b[i] / d1;
      double d2 = knots[i + k] - knots[i + 1];
      if (d2 > 0) v -= (k - 1) * b[i + 1] / d2;
      b[i] = v;
    }
    for (int i = std::max(0, nk - k); i < nk; ++i) b[i] = 0;
  }
  for (int i = 0; i < nk - kOrder; ++i) out[i] = b[i];
}

// R's seq.int(0, 1, length.out = n), element i.
double SeqUnit(int n, int i) {
  if (i == 0) return 0.0;
  if (i == n - 1) return 1.0;
  double by = 1.0 / static_cast<double>(n - 1);
  return i < n / 2 ? static_cast<double>(i) * by : 1.0 - static_cast<double>(n - 1 - i) * by;
}

}  // namespace

Result<PolyCoefs> FitPoly(const std::vector<double>& x, int degree) {
  if (degree < 1) return Status::InvalidArgument("poly() degree must be at least 1");
  std::vector<double> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  const size_t unique =
      static_cast<size_t>(std::unique(sorted.begin(), sorted.end()) - sorted.begin());
  if (static_cast<size_t>(degree) >= unique)
    return Status::FailedPrecondition("poly() degree " + std::to_string(degree) +
                                      " must be less than the number of unique points (" +
                                      std::to_string(unique) + ")");
  const Eigen::Index n = static_cast<Eigen::Index>(x.size());
  const Eigen::Index k = degree + 1;
  const double xbar = RMean(x);
  Eigen::VectorXd xc(n);
  for (Eigen::Index i = 0; i < n; ++i) xc(i) = x[i] - xbar;
  Eigen::MatrixXd vander(n, k);
  for (Eigen::Index i = 0; i < n; ++i) {
    vander(i, 0) = 1.0;
    for (Eigen::Index j = 1; j < k; ++j)
      vander(i, j) = j == 2 ? xc(i) * xc(i) : std::pow(xc(i), static_cast<double>(j));
  }
  Eigen::VectorXd col_norm = vander.colwise().norm();
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(vander);
  Eigen::MatrixXd z = qr.householderQ() * Eigen::MatrixXd::Identity(n, k);
  const Eigen::MatrixXd& r = qr.matrixQR();
  for (Eigen::Index j = 0; j < k; ++j) {
    // LINPACK's rank test (tol 1e-7 relative to the column's norm), as R's qr().
    if (!(std::abs(r(j, j)) > 1e-7 * col_norm(j)))
      return Status::FailedPrecondition("poly() degree " + std::to_string(degree) +
                                        " must be less than the number of unique points");
    z.col(j) *= r(j, j);
  }
  PolyCoefs coefs;
  coefs.norm2.push_back(1.0);
  for (Eigen::Index j = 0; j < k; ++j) {
    long double norm2 = 0, weighted = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      double z2 = z(i, j) * z(i, j);
      norm2 += z2;
      weighted += xc(i) * z2;
    }
    coefs.norm2.push_back(static_cast<double>(norm2));
    if (j < degree)
      coefs.alpha.push_back(static_cast<double>(weighted) / static_cast<double>(norm2) + xbar);
  }
  return coefs;
}

void PolyBasis(const PolyCoefs& coefs, double x, double* out) {
  const std::vector<double>& alpha = coefs.alpha;
  const std::vector<double>& norm2 = coefs.norm2;
  double prev = 1.0;
  double cur = x - alpha[0];
  out[0] = cur / std::sqrt(norm2[2]);
  for (int k = 2; k <= coefs.degree(); ++k) {
    double next = (x - alpha[k - 1]) * cur - (norm2[k] / norm2[k - 1]) * prev;
    prev = cur;
    cur = next;
    out[k - 1] = cur / std::sqrt(norm2[k + 1]);
  }
}

double QuantileType7(const std::vector<double>& sorted, double p) {
  const double index = 1 + static_cast<double>(sorted.size() - 1) * p;  // 1-based
  const size_t lo = static_cast<size_t>(std::floor(index));
  const size_t hi = static_cast<size_t>(std::ceil(index));
  double q = sorted[lo - 1];
  if (index > static_cast<double>(lo) && sorted[hi - 1] != q) {
    double h = index - static_cast<double>(lo);
    q = (1 - h) * q + h * sorted[hi - 1];
  }
  return q;
}

Result<NaturalSpline> NaturalSpline::Fit(const std::vector<double>& x, int df) {
  if (df < 1) return Status::InvalidArgument("ns() df must be at least 1");
  if (x.empty()) return Status::FailedPrecondition("ns() needs at least one value");
  std::vector<double> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  const int n_interior = df - 1;
  std::vector<double> interior;
  for (int i = 1; i <= n_interior; ++i)
    interior.push_back(QuantileType7(sorted, SeqUnit(n_interior + 2, i)));
  return FromKnots(std::move(interior), sorted.front(), sorted.back());
}

Result<NaturalSpline> NaturalSpline::FromKnots(std::vector<double> interior, double lower,
                                               double upper) {
  if (!std::isfinite(lower) || !std::isfinite(upper) || !(lower < upper))
    return Status::FailedPrecondition("ns() needs at least two distinct values");
  for (double k : interior)
    if (!std::isfinite(k) || k < lower || k > upper)
      return Status::InvalidArgument("ns() knot outside the boundary knots");
  if (!std::is_sorted(interior.begin(), interior.end()))
    return Status::InvalidArgument("ns() knots are not sorted");
  NaturalSpline s;
  s.interior_ = std::move(interior);
  s.lower_ = lower;
  s.upper_ = upper;
  s.knots_.assign(kOrder, lower);
  s.knots_.insert(s.knots_.end(), s.interior_.begin(), s.interior_.end());
  s.knots_.insert(s.knots_.end(), kOrder, upper);
  const int nb = static_cast<int>(s.knots_.size()) - kOrder;  // B-splines; df + 3

  // t(const) without the first B-spline: second derivatives at the boundaries, (nb - 1) x 2.
  std::vector<double> d2(nb);
  const int n = nb - 1;
  s.qr_.resize(n, 2);
  for (int c = 0; c < 2; ++c) {
    BSplines(s.knots_, c == 0 ? lower : upper, 2, d2.data());
    for (int i = 0; i < n; ++i) s.qr_(i, c) = d2[i + 1];
  }
  // LINPACK dqrdc2 (the two columns are never negligible, so it does not pivot).
  for (int l = 0; l < 2; ++l) {
    double nrmxl = s.qr_.col(l).tail(n - l).norm();
    if (nrmxl == 0) continue;
    if (s.qr_(l, l) != 0) nrmxl = std::copysign(nrmxl, s.qr_(l, l));
    s.qr_.col(l).tail(n - l) *= 1.0 / nrmxl;
    s.qr_(l, l) += 1.0;
    for (int j = l + 1; j < 2; ++j) {
      double t = -s.qr_.col(l).tail(n - l).dot(s.qr_.col(j).tail(n - l)) / s.qr_(l, l);
      s.qr_.col(j).tail(n - l) += t * s.qr_.col(l).tail(n - l);
    }
    s.qraux_[l] = s.qr_(l, l);
    s.qr_(l, l) = -nrmxl;
  }
  s.left_value_.resize(nb);
  s.left_slope_.resize(nb);
  s.right_value_.resize(nb);
  s.right_slope_.resize(nb);
  BSplines(s.knots_, lower, 0, s.left_value_.data());
  BSplines(s.knots_, lower, 1, s.left_slope_.data());
  BSplines(s.knots_, upper, 0, s.right_value_.data());
  BSplines(s.knots_, upper, 1, s.right_slope_.data());
  return s;
}

void NaturalSpline::Basis(double x, double* out) const {
  const int nb = static_cast<int>(knots_.size()) - kOrder;
  const int n = nb - 1;
  double b[64];
  std::vector<double> big;
  double* all = b;
  if (nb > 64) {
    big.resize(nb);
    all = big.data();
  }
  if (x < lower_) {
    const double dx = x - lower_;
    for (int i = 0; i < nb; ++i) all[i] = left_value_(i) + dx * left_slope_(i);
  } else if (x > upper_) {
    const double dx = x - upper_;
    for (int i = 0; i < nb; ++i) all[i] = right_value_(i) + dx * right_slope_(i);
  } else {
    BSplines(knots_, x, 0, all);
  }
  double* y = all + 1;  // the first B-spline is dropped (intercept = FALSE)
  // qr.qty: apply the two Householder reflections (LINPACK dqrsl).
  for (int j = 0; j < std::min(2, n - 1); ++j) {
    if (qraux_[j] == 0) continue;
    double dot = qraux_[j] * y[j];
    for (int i = j + 1; i < n; ++i) dot += qr_(i, j) * y[i];
    const double t = -dot / qraux_[j];
    y[j] += t * qraux_[j];
    for (int i = j + 1; i < n; ++i) y[i] += t * qr_(i, j);
  }
  for (int i = 2; i < n; ++i) out[i - 2] = y[i];
}

}  // namespace mlprod::ml
