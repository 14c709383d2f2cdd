#include "ml/ols.h"

#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <algorithm>
#include <cmath>

#include "ml/ols_tsqr.h"

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

// The double factorization serves the fit when the 1-norm condition number of the scaled kept
// columns' R is at most this: the covariance from the double R^-1 is then good to about
// 1e5·eps ≈ 1e-11 relative, and each refinement step contracts by about cond²·eps ≈ 1e-6. Above
// it (Filip: 7.8e9) the kept columns are factored again in long double. Longley: 3.4e4,
// Wampler: 3.4e3, a random N(0, 1) design with intercept: ~2.
constexpr double kDoubleConditionLimit = 1e5;

// Rows per block of the residual and prediction passes: the block's residuals (or values) stay
// in L1 while every kept column's segment is streamed over them.
constexpr Eigen::Index kRowBlock = 256;

// The aliasing pass and the double QR at once, on R = the triangular factor of the scaled design
// with y appended as its last column ([X S^-1, y] = Q0 R, Q0 orthonormal, so every norm and
// projection below equals the one on the n rows). Column j is aliased (dqrdc2's rule) when its
// norm after the Householder steps of the columns kept before it is at most `tolerance` (the
// columns have unit norm). Each kept column's reflector is applied to every later column, y
// included. On return the upper triangle of the kept columns' rows 0..k holds the R of the kept
// columns and a's last column holds their Q'y.
void AliasAndFactor(double tolerance, Eigen::MatrixXd* a, std::vector<bool>* aliased) {
  const Eigen::Index n = a->rows(), p = a->cols() - 1;
  std::vector<double> workspace(p + 1);
  Eigen::Index k = 0;
  for (Eigen::Index j = 0; j < p; ++j) {
    if ((*aliased)[j]) continue;
    double norm = k < n ? a->col(j).tail(n - k).norm() : 0.0;
    if (!(norm > tolerance)) {
      (*aliased)[j] = true;
      continue;
    }
    double tau, beta;
    a->col(j).tail(n - k).makeHouseholderInPlace(tau, beta);
    (*a)(k, j) = beta;
    a->block(k, j + 1, n - k, p - j).applyHouseholderOnTheLeft(
        a->col(j).tail(n - k - 1), tau, workspace.data());
    ++k;
  }
}

// Error-free transformations on doubles: a + b = s + e and a * b = p + e exactly.
inline void TwoSum(double a, double b, double* s, double* e) {
  *s = a + b;
  const double z = *s - a;
  *e = (a - (*s - z)) + (b - z);
}

// With kFma the caller is compiled for FMA hardware (see ResidualPass), and the error term is one
// fused multiply-add; otherwise Dekker's product. Both are exact, so both give the same bits.
template <bool kFma>
[[gnu::always_inline]] inline void TwoProduct(double a, double b, double* p, double* e) {
  *p = a * b;
  if constexpr (kFma) {
    *e = __builtin_fma(a, b, -*p);
  } else {
    // Dekker's product (valid without FMA contraction, which needs FMA hardware).
    constexpr double kSplit = 134217729.0;  // 2^27 + 1
    const double ca = kSplit * a, cb = kSplit * b;
    const double ah = ca - (ca - a), al = a - ah;
    const double bh = cb - (cb - b), bl = b - bh;
    *e = ((ah * bh - *p) + ah * bl + al * bh) + al * bl;
  }
}

// Splits a long double (64-bit mantissa) exactly into two doubles.
inline void SplitLong(long double v, double* hi, double* lo) {
  *hi = static_cast<double>(v);
  *lo = static_cast<double>(v - *hi);
}

// One pass over the kept columns in double-double arithmetic (about 100 bits; every product and
// sum error-free, so the massive cancellation in X'e when the residual is large costs nothing):
// e = y - sub - X_kept b, returning e'e. When `g` is not null, g = X_kept' v where v = *dot or,
// when `dot` is null, e. When `e_out` is not null it receives e. Blocked over rows so the block's
// residuals stay in L1 while each kept column's segment streams past; O(n·r) work.
template <bool kFma>
[[gnu::always_inline]] inline long double ResidualPassImpl(
    const ColumnMatrix& x, const double* y, const std::vector<int>& kept,
    const LVector& beta, const LVector* sub, const LVector* dot, LVector* g, LVector* e_out) {
  const Eigen::Index n = static_cast<Eigen::Index>(x.rows());
  const Eigen::Index r = static_cast<Eigen::Index>(kept.size());
  std::vector<double> bh(r), bl(r);
  for (Eigen::Index c = 0; c < r; ++c) SplitLong(beta(c), &bh[c], &bl[c]);
  double eh[kRowBlock], el[kRowBlock], vh[kRowBlock], vl[kRowBlock];
  // Per column, kLanes independent double-double accumulators for g.
  constexpr int kLanes = 4;
  std::vector<double> gh(r * kLanes, 0.0), gl(r * kLanes, 0.0);
  long double rss = 0;
  for (Eigen::Index i0 = 0; i0 < n; i0 += kRowBlock) {
    const Eigen::Index m = std::min(kRowBlock, n - i0);
    for (Eigen::Index i = 0; i < m; ++i) {
      eh[i] = y[i0 + i];
      el[i] = 0;
    }
    if (sub != nullptr) {
      for (Eigen::Index i = 0; i < m; ++i) {
        double h, l, s, se;
        SplitLong((*sub)(i0 + i), &h, &l);
        TwoSum(eh[i], -h, &s, &se);
        eh[i] = s;
        el[i] += se - l;
      }
    }
    for (Eigen::Index c = 0; c < r; ++c) {
      const double* xc = x.col(kept[c]) + i0;
      const double hc = bh[c], lc = bl[c];
      for (Eigen::Index i = 0; i < m; ++i) {
        double p, pe, s, se;
        TwoProduct<kFma>(xc[i], hc, &p, &pe);
        TwoSum(eh[i], -p, &s, &se);
        eh[i] = s;
        el[i] += (se - pe) - xc[i] * lc;
      }
    }
    for (Eigen::Index i = 0; i < m; ++i) {
      const long double e = static_cast<long double>(eh[i]) + el[i];
      rss += e * e;
      if (e_out != nullptr) (*e_out)(i0 + i) = e;
    }
    if (g == nullptr) continue;
    if (dot == nullptr) {
      for (Eigen::Index i = 0; i < m; ++i) {
        const double s = eh[i] + el[i];
        vh[i] = s;
        vl[i] = el[i] - (s - eh[i]);
      }
    } else {
      for (Eigen::Index i = 0; i < m; ++i) SplitLong((*dot)(i0 + i), &vh[i], &vl[i]);
    }
    for (Eigen::Index c = 0; c < r; ++c) {
      const double* xc = x.col(kept[c]) + i0;
      double* sh = &gh[c * kLanes];
      double* sl = &gl[c * kLanes];
      Eigen::Index i = 0;
      for (; i + kLanes <= m; i += kLanes) {
        for (int l = 0; l < kLanes; ++l) {
          double p, pe, s, se;
          TwoProduct<kFma>(xc[i + l], vh[i + l], &p, &pe);
          TwoSum(sh[l], p, &s, &se);
          sh[l] = s;
          sl[l] += (se + pe) + xc[i + l] * vl[i + l];
        }
      }
      for (; i < m; ++i) {
        double p, pe, s, se;
        TwoProduct<kFma>(xc[i], vh[i], &p, &pe);
        TwoSum(sh[0], p, &s, &se);
        sh[0] = s;
        sl[0] += (se + pe) + xc[i] * vl[i];
      }
    }
  }
  if (g != nullptr) {
    g->resize(r);
    for (Eigen::Index c = 0; c < r; ++c) {
      double hi = 0, lo = 0;
      for (int l = 0; l < kLanes; ++l) {
        double s, se;
        TwoSum(hi, gh[c * kLanes + l], &s, &se);
        hi = s;
        lo += se + gl[c * kLanes + l];
      }
      (*g)(c) = static_cast<long double>(hi) + lo;
    }
  }
  return rss;
}

// The pass compiled twice: for AVX2 with FMA (error-free products in one instruction, four lanes
// a vector), chosen at run time when the CPU has them, and for the build's baseline.
[[gnu::target("avx2,fma")]] long double ResidualPassFma(
    const ColumnMatrix& x, const double* y, const std::vector<int>& kept,
    const LVector& beta, const LVector* sub, const LVector* dot, LVector* g, LVector* e_out) {
  return ResidualPassImpl<true>(x, y, kept, beta, sub, dot, g, e_out);
}

long double ResidualPassBaseline(const ColumnMatrix& x, const double* y,
                                 const std::vector<int>& kept, const LVector& beta,
                                 const LVector* sub, const LVector* dot, LVector* g,
                                 LVector* e_out) {
  return ResidualPassImpl<false>(x, y, kept, beta, sub, dot, g, e_out);
}

long double ResidualPass(const ColumnMatrix& x, const double* y,
                         const std::vector<int>& kept, const LVector& beta, const LVector* sub,
                         const LVector* dot, LVector* g, LVector* e_out) {
  static const bool fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return fma ? ResidualPassFma(x, y, kept, beta, sub, dot, g, e_out)
             : ResidualPassBaseline(x, y, kept, beta, sub, dot, g, e_out);
}

// Corrected seminormal equations (Björck): with e = y - X b and X'e accumulated in long double,
// the correction solves R'R dw = S^-1 X'e in scaled coordinates (w = S b) with the double R.
// Each step shrinks the error by about cond(R)^2·eps, below 1e-6 under kDoubleConditionLimit;
// the steps stop once the correction no longer shrinks or falls below long double resolution.
// Returns the residual sum of squares of the final pass.
long double RefineSeminormal(const ColumnMatrix& x, const double* y,
                             const std::vector<int>& kept, const LVector& sk, const LMatrix& rl,
                             double condition, int max_steps, LVector* beta) {
  // Bound on the factor by which one step shrinks the error (Björck: c·cond²·eps, the 1-norm
  // condition overestimating the 2-norm one), with a margin of 8·(number of columns).
  const long double contraction =
      8.0L * static_cast<long double>(sk.size()) * condition * condition * 0x1p-53L;
  const auto rt = rl.triangularView<Eigen::Upper>();
  LVector g;
  long double rss = ResidualPass(x, y, kept, *beta, nullptr, nullptr, &g, nullptr);
  long double last = INFINITY;
  for (int step = 0; step < max_steps; ++step) {
    LVector gs = g.cwiseQuotient(sk);
    LVector dw = rt.solve(rt.transpose().solve(gs));
    const long double size = dw.cwiseAbs().maxCoeff();
    const long double w = beta->cwiseProduct(sk).cwiseAbs().maxCoeff();
    if (!(size < last / 2)) break;  // no longer shrinking (or NaN): keep the current solution
    *beta += dw.cwiseQuotient(sk);
    last = size;
    if (size <= 0x1p-60L * w) break;  // far below double; rss is current to O(size^2)
    // With R'R dw = gs, the new e'e is e'e - 2 dw'gs + |R dw|^2 = e'e - dw'gs.
    const long double drop = dw.dot(gs);
    if (contraction * size <= 0x1p-60L * w && std::fabs(drop) <= 0x1p-60L * rss) {
      // The next correction would be far below double, and so is this one's effect on e'e:
      // skip the O(n·p) pass that would confirm it. (An exact fit, whose e'e is all rounding,
      // fails the second test and gets its pass.)
      rss -= drop;
      break;
    }
    rss = ResidualPass(x, y, kept, *beta, nullptr, nullptr, &g, nullptr);
  }
  return rss;
}

// Björck's iterative refinement of the augmented system [I X; X' 0][r; b] = [y; 0], reusing the
// long double QR of the scaled kept columns (X S^-1 P = Q R), with the residuals f = y - r - X b
// and g = -X' r accumulated in long double. Unlike refining b alone, this also corrects the error
// that a large residual feeds through cond(X)^2 (Wampler4/5, Filip).
void RefineAugmented(const ColumnMatrix& x, const double* y,
                     const std::vector<int>& kept, const LVector& sk,
                     const Eigen::ColPivHouseholderQR<LMatrix>& qr, int max_steps, LVector* beta,
                     LVector* resid) {
  const Eigen::Index n = static_cast<Eigen::Index>(x.rows());
  const Eigen::Index r = static_cast<Eigen::Index>(kept.size());
  const auto& perm = qr.colsPermutation();
  const auto rr = qr.matrixR().topLeftCorner(r, r).template triangularView<Eigen::Upper>();
  LVector f(n), g(r);
  long double last = INFINITY;
  for (int step = 0; step < max_steps; ++step) {
    ResidualPass(x, y, kept, *beta, resid, resid, &g, &f);
    g = -g.cwiseQuotient(sk);
    // In pivoted coordinates: R' h = P' g; d = Q' f; dw = R^-1 (d1 - h); dr = Q [h; d2].
    LVector h = rr.transpose().solve(perm.transpose() * g);
    LVector d = qr.householderQ().transpose() * f;
    LVector dw = rr.solve(d.head(r) - h);
    d.head(r) = h;
    LVector dr = qr.householderQ() * d;
    const long double size = dw.cwiseAbs().maxCoeff();
    if (!(size < last / 2)) break;
    *beta += (perm * dw).cwiseQuotient(sk);
    *resid += dr;
    last = size;
  }
}

// Column j of x as an Eigen vector.
Eigen::Map<const Eigen::VectorXd> ColumnOf(const ColumnMatrix& x, Eigen::Index j) {
  return Eigen::Map<const Eigen::VectorXd>(x.col(j), static_cast<Eigen::Index>(x.rows()));
}

// 1-norm of an upper triangular matrix.
template <typename Matrix>
double UpperNorm1(const Matrix& m) {
  double best = 0;
  for (Eigen::Index j = 0; j < m.cols(); ++j)
    best = std::max(best, static_cast<double>(m.col(j).head(j + 1).cwiseAbs().sum()));
  return best;
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
  const ColumnMatrix columns(x.data(), static_cast<size_t>(x.rows()),
                             static_cast<size_t>(x.cols()));
  return FitOls(columns, y.data(), options);
}

Result<OlsFit> FitOls(const ColumnMatrix& x, const double* y, const OlsOptions& options,
                      const KeepGoing& keep_going) {
  const Eigen::Index n = static_cast<Eigen::Index>(x.rows());
  const Eigen::Index p = static_cast<Eigen::Index>(x.cols());
  if (n == 0) return Status::FailedPrecondition("no rows to fit");
  if (p > n)
    return Status::FailedPrecondition("more parameters (" + std::to_string(p) + ") than rows (" +
                                      std::to_string(n) + ")");
  OlsFit fit;
  fit.n = static_cast<size_t>(n);
  fit.aliased.assign(p, false);
  fit.coef.assign(p, NAN);

  // Unit-norm scaling; an all-zero or non-finite column is aliased outright (it enters the QR as
  // zeros). y rides along as the last column.
  Eigen::VectorXd scale(p), inv_scale(p);
  for (Eigen::Index j = 0; j < p; ++j) {
    scale(j) = ColumnOf(x, j).norm();
    if (scale(j) > 0 && std::isfinite(scale(j))) {
      inv_scale(j) = 1 / scale(j);
    } else {
      fit.aliased[j] = true;
      scale(j) = 1;
      inv_scale(j) = 0;
    }
  }
  MLPROD_ASSIGN_OR_RETURN(Eigen::MatrixXd a, StreamingR(x, y, inv_scale, keep_going));
  AliasAndFactor(options.tolerance, &a, &fit.aliased);
  for (Eigen::Index j = 0; j < p; ++j)
    if (!fit.aliased[j]) fit.kept.push_back(static_cast<int>(j));
  const Eigen::Index r = static_cast<Eigen::Index>(fit.kept.size());
  fit.rank = static_cast<size_t>(r);

  LVector beta = LVector::Zero(r);
  long double rss = 0;
  // A factor of the unscaled kept columns, X_kept = Q r_unscaled with Q orthonormal (triangular
  // unless the long double path pivoted), and its inverse.
  Eigen::MatrixXd r_unscaled, rinv_unscaled;
  if (r == 0) {
    fit.cov_unscaled.resize(0, 0);
    rss = ResidualPass(x, y, fit.kept, beta, nullptr, nullptr, nullptr, nullptr);
  } else {
    LVector sk(r);
    Eigen::MatrixXd rd = Eigen::MatrixXd::Zero(r, r);
    for (Eigen::Index c = 0; c < r; ++c) {
      sk(c) = scale(fit.kept[c]);
      rd.col(c).head(c + 1) = a.col(fit.kept[c]).head(c + 1);
    }
    Eigen::MatrixXd rinv =
        rd.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(r, r));
    const double condition = UpperNorm1(rd) * UpperNorm1(rinv);
    LMatrix cov;  // over the scaled kept columns
    if (condition <= kDoubleConditionLimit) {
      LMatrix rl = rd.cast<long double>();
      beta = rl.triangularView<Eigen::Upper>()
                 .solve(a.col(p).head(r).cast<long double>())
                 .cwiseQuotient(sk);
      rss = RefineSeminormal(x, y, fit.kept, sk, rl, condition, options.max_refinement_steps,
                             &beta);
      cov = (rinv * rinv.transpose()).cast<long double>();
      // X_kept S^-1 = Q R_d, so X_kept = Q (R_d S) and its inverse is S^-1 R_d^-1.
      const Eigen::VectorXd skd = sk.cast<double>();
      r_unscaled = rd * skd.asDiagonal();
      rinv_unscaled = skd.cwiseInverse().asDiagonal() * rinv;
    } else {
      // Ill-conditioned: factor the kept columns again in long double (64-bit mantissa).
      LMatrix xk(n, r);
      for (Eigen::Index c = 0; c < r; ++c)
        xk.col(c) = ColumnOf(x, fit.kept[c]).cast<long double>() / sk(c);
      Eigen::ColPivHouseholderQR<LMatrix> qr(xk);
      const LVector yl = Eigen::Map<const Eigen::VectorXd>(y, n).cast<long double>();
      beta = qr.solve(yl).cwiseQuotient(sk);
      LVector resid = yl;
      for (Eigen::Index c = 0; c < r; ++c)
        resid -= ColumnOf(x, fit.kept[c]).cast<long double>() * beta(c);
      RefineAugmented(x, y, fit.kept, sk, qr, options.max_refinement_steps, &beta, &resid);
      rss = ResidualPass(x, y, fit.kept, beta, nullptr, nullptr, nullptr, nullptr);
      LMatrix rr = qr.matrixR().topLeftCorner(r, r).template triangularView<Eigen::Upper>();
      LMatrix rinv_p = rr.triangularView<Eigen::Upper>().solve(LMatrix::Identity(r, r));
      // Undo the pivoting: cov = P cov_p P'.
      const auto& perm = qr.colsPermutation();
      cov = perm * (rinv_p * rinv_p.transpose()) * perm.transpose();
      // X_kept S^-1 P = Q R_p, so X_kept = Q (R_p P' S) and its inverse is S^-1 P R_p^-1.
      r_unscaled = ((rr * perm.transpose()) * sk.asDiagonal()).cast<double>();
      rinv_unscaled = (sk.cwiseInverse().asDiagonal() * (perm * rinv_p)).cast<double>();
    }
    for (Eigen::Index i = 0; i < r; ++i)
      for (Eigen::Index j = 0; j < r; ++j) cov(i, j) /= sk(i) * sk(j);
    fit.cov_unscaled = cov.cast<double>();
  }
  for (Eigen::Index c = 0; c < r; ++c) fit.coef[fit.kept[c]] = static_cast<double>(beta(c));
  fit.rss = static_cast<double>(rss);
  fit.df_residual = static_cast<double>(n - r);
  if (n > r) fit.sigma = std::sqrt(static_cast<double>(rss / (n - r)));
  if (r > 0) fit.condition_number = ConditionNumber(r_unscaled, rinv_unscaled);
  fit.covariance = options.covariance;
  if (options.covariance != CovarianceType::kClassic && r > 0) {
    LVector e(n);
    ResidualPass(x, y, fit.kept, beta, nullptr, nullptr, nullptr, &e);
    fit.cov_robust =
        RobustCovariance(x, fit.kept, rinv_unscaled, e.cast<double>(), options.covariance);
  }
  return fit;
}

double OlsPredictRow(const OlsFit& fit, const double* x_row) {
  double value = 0;
  for (int j : fit.kept) value += x_row[j] * fit.coef[j];
  return value;
}

void OlsPredictColumns(const OlsFit& fit, const ColumnMatrix& x, double* out) {
  const size_t n = x.rows();
  for (size_t i0 = 0; i0 < n; i0 += kRowBlock) {
    const size_t m = std::min<size_t>(kRowBlock, n - i0);
    double* value = out + i0;
    std::fill(value, value + m, 0.0);
    for (int j : fit.kept) {
      const double* xj = x.col(j) + i0;
      const double b = fit.coef[j];
      for (size_t i = 0; i < m; ++i) value[i] += xj[i] * b;
    }
  }
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
      row.std_error = fit.covariance == CovarianceType::kClassic
                          ? fit.sigma * std::sqrt(fit.cov_unscaled(k, k))
                          : std::sqrt(fit.cov_robust(k, k));
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

std::map<std::string, double> OlsMetrics(const OlsFit& fit, bool intercept, const double* y,
                                         const double* fitted) {
  std::map<std::string, double> m;
  const double n = static_cast<double>(fit.n);
  // The residuals y - fitted in double, as the diagnostics take them.
  const DoubleBuffer e = AllocateDoubles(fit.n);
  long double mean_f = 0, abs_sum = 0, sq_sum = 0;
  for (size_t i = 0; i < fit.n; ++i) {
    mean_f += fitted[i];
    long double ei = static_cast<long double>(y[i]) - fitted[i];
    abs_sum += std::fabs(ei);
    sq_sum += ei * ei;
    e[i] = y[i] - fitted[i];
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

  const ResidualDiagnostics d = DiagnoseResiduals(
      Eigen::Map<const Eigen::VectorXd>(e.get(), static_cast<Eigen::Index>(fit.n)));
  m["durbin_watson"] = d.durbin_watson;
  m["jarque_bera"] = d.jarque_bera;
  m["jarque_bera_p_value"] = d.jarque_bera_p_value;
  m["omnibus"] = d.omnibus;
  m["omnibus_p_value"] = d.omnibus_p_value;
  m["skew"] = d.skew;
  m["kurtosis"] = d.kurtosis;
  m["condition_number"] = fit.condition_number;
  return m;
}

}  // namespace mlprod::ml
