#include "ml/ols.h"

#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

namespace mlprod::ml {
namespace {

// Two-sided p-value of a t statistic.
double StudentTwoSidedP(double df, double t) {
  if (!(df > 0) || std::isnan(t)) return NAN;
  if (std::isinf(t)) return 0.0;
  try {
    return 2 * boost::math::cdf(boost::math::complement(boost::math::students_t(df), std::fabs(t)));
  } catch (...) {
    return NAN;
  }
}

double FisherUpperP(double df1, double df2, double f) {
  if (!(df1 > 0) || !(df2 > 0) || std::isnan(f)) return NAN;
  if (std::isinf(f)) return 0.0;
  try {
    return boost::math::cdf(boost::math::complement(boost::math::fisher_f(df1, df2), f));
  } catch (...) {
    return NAN;
  }
}

using LMatrix = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;
using LVector = Eigen::Matrix<long double, Eigen::Dynamic, 1>;
using Wide = __float128;  // the residuals of the refinement are accumulated in quad precision

// Björck's iterative refinement of the augmented system [I X; X' 0][r; b] = [y; 0], reusing the
// QR of the scaled kept columns (X S^-1 P = Q R), with the residuals f = y - r - X b and
// g = -X' r accumulated in quad precision. Unlike refining b alone, this also corrects the
// error that a large residual feeds through cond(X)^2 (Wampler4/5, Filip).
void RefineAugmented(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                     const std::vector<int>& kept, const LVector& sk,
                     const Eigen::ColPivHouseholderQR<LMatrix>& qr, int steps, LVector* beta,
                     LVector* resid) {
  const Eigen::Index n = x.rows(), r = static_cast<Eigen::Index>(kept.size());
  const auto& perm = qr.colsPermutation();
  const auto rr = qr.matrixR().topLeftCorner(r, r).template triangularView<Eigen::Upper>();
  LVector f(n), g(r);
  for (int step = 0; step < steps; ++step) {
    for (Eigen::Index i = 0; i < n; ++i) {
      Wide e = static_cast<Wide>(y(i)) - static_cast<Wide>((*resid)(i));
      for (Eigen::Index c = 0; c < r; ++c)
        e -= static_cast<Wide>(x(i, kept[c])) * static_cast<Wide>((*beta)(c));
      f(i) = static_cast<long double>(e);
    }
    for (Eigen::Index c = 0; c < r; ++c) {
      Wide sum = 0;
      for (Eigen::Index i = 0; i < n; ++i)
        sum += static_cast<Wide>(x(i, kept[c])) * static_cast<Wide>((*resid)(i));
      g(c) = -static_cast<long double>(sum / static_cast<Wide>(sk(c)));
    }
    // In pivoted coordinates: R' h = P' g; d = Q' f; dw = R^-1 (d1 - h); dr = Q [h; d2].
    LVector h = rr.transpose().solve(perm.transpose() * g);
    LVector d = qr.householderQ().transpose() * f;
    LVector dw = rr.solve(d.head(r) - h);
    d.head(r) = h;
    LVector dr = qr.householderQ() * d;
    *beta += (perm * dw).cwiseQuotient(sk);
    *resid += dr;
  }
}

}  // namespace

double StudentQuantile(double df, double p) {
  if (!(df > 0) || !(p > 0 && p < 1)) return NAN;
  try {
    return boost::math::quantile(boost::math::students_t(df), p);
  } catch (...) {
    return NAN;
  }
}

Result<OlsFit> FitOls(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                      const OlsOptions& options) {
  const Eigen::Index n = x.rows(), p = x.cols();
  if (n == 0) return Status::FailedPrecondition("no rows to fit");
  if (p > n)
    return Status::FailedPrecondition("more parameters (" + std::to_string(p) + ") than rows (" +
                                      std::to_string(n) + ")");
  OlsFit fit;
  fit.n = static_cast<size_t>(n);
  fit.aliased.assign(p, false);
  fit.coef.assign(p, NAN);

  // Unit-norm scaling; an all-zero column is aliased outright.
  Eigen::VectorXd scale(p);
  Eigen::MatrixXd xs = x;
  for (Eigen::Index j = 0; j < p; ++j) {
    scale(j) = x.col(j).norm();
    if (scale(j) > 0 && std::isfinite(scale(j))) {
      xs.col(j) /= scale(j);
    } else {
      fit.aliased[j] = true;
      scale(j) = 1;
    }
  }

  // Aliasing in column order (dqrdc2's rule): Householder steps on the columns kept so far.
  {
    Eigen::MatrixXd a = xs;
    Eigen::Index k = 0;
    Eigen::VectorXd essential;
    std::vector<double> workspace(p);
    for (Eigen::Index j = 0; j < p; ++j) {
      if (fit.aliased[j]) continue;
      double norm = k < n ? a.col(j).tail(n - k).norm() : 0.0;
      if (!(norm > options.tolerance)) {
        fit.aliased[j] = true;
        continue;
      }
      double tau, beta;
      essential.resize(n - k - 1);
      a.col(j).tail(n - k).makeHouseholder(essential, tau, beta);
      for (Eigen::Index jj = j + 1; jj < p; ++jj)
        a.col(jj).tail(n - k).applyHouseholderOnTheLeft(essential, tau, workspace.data());
      ++k;
    }
  }
  for (Eigen::Index j = 0; j < p; ++j)
    if (!fit.aliased[j]) fit.kept.push_back(static_cast<int>(j));
  const Eigen::Index r = static_cast<Eigen::Index>(fit.kept.size());
  fit.rank = static_cast<size_t>(r);

  // The kept columns are factored in long double (64-bit mantissa) for ill-conditioned designs.
  LMatrix xk(n, r);
  LVector sk(r);
  for (Eigen::Index c = 0; c < r; ++c) {
    sk(c) = scale(fit.kept[c]);
    for (Eigen::Index i = 0; i < n; ++i)
      xk(i, c) = static_cast<long double>(x(i, fit.kept[c])) / sk(c);
  }
  LVector beta = LVector::Zero(r);
  LVector resid(n);
  auto residuals = [&](long double* rss) {
    long double sum = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      long double e = y(i);
      for (Eigen::Index c = 0; c < r; ++c)
        e -= static_cast<long double>(x(i, fit.kept[c])) * beta(c);
      resid(i) = e;
      sum += e * e;
    }
    *rss = sum;
  };
  long double rss = 0;
  if (r > 0) {
    Eigen::ColPivHouseholderQR<LMatrix> qr(xk);
    LVector yl = y.cast<long double>();
    beta = qr.solve(yl).cwiseQuotient(sk);
    residuals(&rss);
    RefineAugmented(x, y, fit.kept, sk, qr, options.refinement_steps, &beta, &resid);
    LMatrix rr = qr.matrixR().topLeftCorner(r, r).template triangularView<Eigen::Upper>();
    LMatrix rinv_p = rr.triangularView<Eigen::Upper>().solve(LMatrix::Identity(r, r));
    LMatrix cov_p = rinv_p * rinv_p.transpose();
    // Undo the pivoting: cov = P cov_p P'.
    const auto& perm = qr.colsPermutation();
    LMatrix cov = perm * cov_p * perm.transpose();
    for (Eigen::Index i = 0; i < r; ++i)
      for (Eigen::Index j = 0; j < r; ++j) cov(i, j) /= sk(i) * sk(j);
    fit.cov_unscaled = cov.cast<double>();
  } else {
    fit.cov_unscaled.resize(0, 0);
  }
  residuals(&rss);
  for (Eigen::Index c = 0; c < r; ++c) fit.coef[fit.kept[c]] = static_cast<double>(beta(c));
  fit.rss = static_cast<double>(rss);
  fit.df_residual = static_cast<double>(n - r);
  if (n > r) fit.sigma = std::sqrt(static_cast<double>(rss / (n - r)));
  return fit;
}

double OlsPredictRow(const OlsFit& fit, const double* x_row) {
  double value = 0;
  for (int j : fit.kept) value += x_row[j] * fit.coef[j];
  return value;
}

double OlsLeverage(const OlsFit& fit, const double* x_row) {
  double q = 0;
  const size_t r = fit.kept.size();
  for (size_t a = 0; a < r; ++a) {
    double row = 0;
    for (size_t b = 0; b < r; ++b) row += fit.cov_unscaled(a, b) * x_row[fit.kept[b]];
    q += x_row[fit.kept[a]] * row;
  }
  return q;
}

std::vector<CoefficientRow> OlsCoefficientTable(const OlsFit& fit,
                                                const std::vector<std::string>& names) {
  std::vector<CoefficientRow> rows;
  double q = StudentQuantile(fit.df_residual, 0.975);
  size_t k = 0;
  for (size_t j = 0; j < names.size(); ++j) {
    CoefficientRow row;
    row.term = names[j];
    if (fit.aliased[j]) {
      row.aliased = true;
    } else {
      row.estimate = fit.coef[j];
      row.std_error = fit.sigma * std::sqrt(fit.cov_unscaled(k, k));
      row.t_value = row.estimate / row.std_error;
      row.p_value = StudentTwoSidedP(fit.df_residual, row.t_value);
      row.ci_lower = row.estimate - q * row.std_error;
      row.ci_upper = row.estimate + q * row.std_error;
      ++k;
    }
    rows.push_back(row);
  }
  return rows;
}

std::map<std::string, double> OlsMetrics(const OlsFit& fit, bool intercept,
                                         const Eigen::VectorXd& y,
                                         const std::vector<double>& fitted) {
  std::map<std::string, double> m;
  const double n = static_cast<double>(fit.n);
  long double mean_f = 0, abs_sum = 0, sq_sum = 0;
  for (size_t i = 0; i < fit.n; ++i) {
    mean_f += fitted[i];
    long double e = static_cast<long double>(y(i)) - fitted[i];
    abs_sum += std::fabs(e);
    sq_sum += e * e;
  }
  mean_f /= n;
  long double mss = 0;
  for (size_t i = 0; i < fit.n; ++i) {
    long double d = intercept ? fitted[i] - mean_f : static_cast<long double>(fitted[i]);
    mss += d * d;
  }
  const double rss = fit.rss;
  const double df_int = intercept ? 1 : 0;
  const double r2 = static_cast<double>(mss / (mss + rss));
  m["r_squared"] = r2;
  m["adj_r_squared"] = fit.df_residual > 0 ? 1 - (1 - r2) * ((n - df_int) / fit.df_residual) : NAN;
  const double numdf = static_cast<double>(fit.rank) - df_int;
  double f = NAN;
  if (numdf > 0 && fit.df_residual > 0)
    f = static_cast<double>(mss / numdf) / (rss / fit.df_residual);
  m["f_statistic"] = f;
  m["f_p_value"] = FisherUpperP(numdf, fit.df_residual, f);
  const double ll = 0.5 * (-n * (std::log(2 * M_PI) + 1 - std::log(n) + std::log(rss)));
  const double k = static_cast<double>(fit.rank) + 1;
  m["log_likelihood"] = ll;
  m["aic"] = -2 * ll + 2 * k;
  m["bic"] = -2 * ll + std::log(n) * k;
  m["rmse"] = static_cast<double>(std::sqrt(sq_sum / n));
  m["mae"] = static_cast<double>(abs_sum / n);
  return m;
}

}  // namespace mlprod::ml
