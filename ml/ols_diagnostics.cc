#include "ml/ols_diagnostics.h"

#include <Eigen/SVD>
#include <algorithm>
#include <boost/math/distributions/chi_squared.hpp>

namespace mlprod::ml {
namespace {

// Upper tail of chi-squared with `df` degrees of freedom.
double ChiSquaredUpperP(double df, double x) {
  if (std::isnan(x) || !(df > 0)) return NAN;
  if (std::isinf(x)) return 0.0;
  if (x < 0) return 1.0;
  try {
    return boost::math::cdf(boost::math::complement(boost::math::chi_squared(df), x));
  } catch (...) {
    return NAN;
  }
}

// D'Agostino's z for the sample skewness b (scipy.stats.skewtest), n >= 8.
double SkewZ(double b, double n) {
  double y = b * std::sqrt(((n + 1) * (n + 3)) / (6.0 * (n - 2)));
  const double beta2 =
      3.0 * (n * n + 27 * n - 70) * (n + 1) * (n + 3) / ((n - 2.0) * (n + 5) * (n + 7) * (n + 9));
  const double w2 = -1 + std::sqrt(2 * (beta2 - 1));
  const double delta = 1 / std::sqrt(0.5 * std::log(w2));
  const double alpha = std::sqrt(2.0 / (w2 - 1));
  if (y == 0) y = 1;  // scipy's own substitution, kept so the numbers agree
  return delta * std::log(y / alpha + std::sqrt((y / alpha) * (y / alpha) + 1));
}

// Anscombe and Glynn's z for the sample kurtosis b2 (not excess; scipy.stats.kurtosistest).
double KurtosisZ(double b2, double n) {
  const double e = 3.0 * (n - 1) / (n + 1);
  const double var_b2 = 24.0 * n * (n - 2) * (n - 3) / ((n + 1) * (n + 1) * (n + 3) * (n + 5));
  const double x = (b2 - e) / std::sqrt(var_b2);
  const double sqrt_beta1 = 6.0 * (n * n - 5 * n + 2) / ((n + 7) * (n + 9)) *
                            std::sqrt((6.0 * (n + 3) * (n + 5)) / (n * (n - 2) * (n - 3)));
  const double a =
      6.0 + 8.0 / sqrt_beta1 * (2.0 / sqrt_beta1 + std::sqrt(1 + 4.0 / (sqrt_beta1 * sqrt_beta1)));
  const double term1 = 1 - 2 / (9.0 * a);
  const double denom = 1 + x * std::sqrt(2 / (a - 4.0));
  if (denom == 0) return NAN;
  const double term2 = std::copysign(std::cbrt((1 - 2.0 / a) / std::fabs(denom)), denom);
  return (term1 - term2) / std::sqrt(2 / (9.0 * a));
}

// Rows of Q = X_kept R^-1 formed per block.
constexpr Eigen::Index kRowBlock = 512;

}  // namespace

std::string_view CovarianceTypeName(CovarianceType type) {
  switch (type) {
    case CovarianceType::kClassic:
      return "classic";
    case CovarianceType::kHC0:
      return "HC0";
    case CovarianceType::kHC1:
      return "HC1";
    case CovarianceType::kHC2:
      return "HC2";
    case CovarianceType::kHC3:
      return "HC3";
  }
  return "classic";
}

Result<CovarianceType> ParseCovarianceType(std::string_view text) {
  if (text == "classic") return CovarianceType::kClassic;
  if (text == "HC0" || text == "hc0") return CovarianceType::kHC0;
  if (text == "HC1" || text == "hc1") return CovarianceType::kHC1;
  if (text == "HC2" || text == "hc2") return CovarianceType::kHC2;
  if (text == "HC3" || text == "hc3") return CovarianceType::kHC3;
  return Status::InvalidArgument("param se must be classic, HC0, HC1, HC2 or HC3, not '" +
                                 std::string(text) + "'");
}

ResidualDiagnostics DiagnoseResiduals(const Eigen::Ref<const Eigen::VectorXd>& e) {
  ResidualDiagnostics d;
  const Eigen::Index n_rows = e.size();
  if (n_rows < 2) return d;
  const double n = static_cast<double>(n_rows);
  long double ss = 0, dd = 0, sum = 0;
  for (Eigen::Index i = 0; i < n_rows; ++i) {
    ss += static_cast<long double>(e(i)) * e(i);
    sum += e(i);
    if (i > 0) {
      const long double diff = static_cast<long double>(e(i)) - e(i - 1);
      dd += diff * diff;
    }
  }
  d.durbin_watson = ss > 0 ? static_cast<double>(dd / ss) : NAN;
  const long double mean = sum / n;
  long double m2 = 0, m3 = 0, m4 = 0;
  for (Eigen::Index i = 0; i < n_rows; ++i) {
    const long double c = e(i) - mean, c2 = c * c;
    m2 += c2;
    m3 += c2 * c;
    m4 += c2 * c2;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  // scipy's test for a constant sample: m2 at or below (float64 resolution 1e-15 * mean)^2.
  const long double zero = 1e-15L * mean;
  if (!(m2 > zero * zero)) return d;
  d.skew = static_cast<double>(m3 / std::pow(m2, 1.5L));
  d.kurtosis = static_cast<double>(m4 / (m2 * m2));
  d.jarque_bera = n / 6 * (d.skew * d.skew + (d.kurtosis - 3) * (d.kurtosis - 3) / 4);
  d.jarque_bera_p_value = ChiSquaredUpperP(2, d.jarque_bera);
  if (n_rows >= 8) {
    const double zs = SkewZ(d.skew, n), zk = KurtosisZ(d.kurtosis, n);
    d.omnibus = zs * zs + zk * zk;
    d.omnibus_p_value = ChiSquaredUpperP(2, d.omnibus);
  }
  return d;
}

double ConditionNumber(const Eigen::MatrixXd& r, const Eigen::MatrixXd& r_inverse) {
  if (r.size() == 0 || r_inverse.size() == 0) return NAN;
  const double top = Eigen::BDCSVD<Eigen::MatrixXd>(r).singularValues()(0);
  const double top_inverse = Eigen::BDCSVD<Eigen::MatrixXd>(r_inverse).singularValues()(0);
  return top * top_inverse;
}

Eigen::MatrixXd RobustCovariance(const ColumnMatrix& x, const std::vector<int>& kept,
                                 const Eigen::MatrixXd& r_inverse, const Eigen::VectorXd& e,
                                 CovarianceType type) {
  const Eigen::Index n = static_cast<Eigen::Index>(x.rows());
  const Eigen::Index r = static_cast<Eigen::Index>(kept.size());
  Eigen::MatrixXd meat = Eigen::MatrixXd::Zero(r, r);  // Q' diag(w) Q, lower triangle
  Eigen::MatrixXd xb(std::min(kRowBlock, n), r), qb;
  const bool leverage = type == CovarianceType::kHC2 || type == CovarianceType::kHC3;
  for (Eigen::Index i0 = 0; i0 < n; i0 += kRowBlock) {
    const Eigen::Index m = std::min(kRowBlock, n - i0);
    for (Eigen::Index c = 0; c < r; ++c)
      xb.col(c).head(m) = Eigen::Map<const Eigen::VectorXd>(x.col(kept[c]) + i0, m);
    qb.noalias() = xb.topRows(m) * r_inverse;
    // Scale row i of Q by sqrt(w_i) = |e_i| / (1 - h_ii)^a, a = 0, 1/2, 1 for HC0/1, HC2, HC3.
    for (Eigen::Index i = 0; i < m; ++i) {
      double s = std::fabs(e(i0 + i));
      if (leverage) {
        const double one_minus_h = 1 - qb.row(i).squaredNorm();
        s /= type == CovarianceType::kHC2 ? std::sqrt(one_minus_h) : one_minus_h;
      }
      qb.row(i) *= s;
    }
    meat.selfadjointView<Eigen::Lower>().rankUpdate(qb.topRows(m).transpose());
  }
  Eigen::MatrixXd cov = r_inverse * meat.selfadjointView<Eigen::Lower>() * r_inverse.transpose();
  if (type == CovarianceType::kHC1) cov *= static_cast<double>(n) / static_cast<double>(n - r);
  return cov;
}

}  // namespace mlprod::ml
