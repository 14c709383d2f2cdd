#include "ml/glmnet.h"

#include <algorithm>
#include <cmath>

namespace mlprod::ml {

Result<ElasticNet> ElasticNet::Create(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                      bool intercept, double alpha) {
  ElasticNet e;
  const Eigen::Index n = x.rows(), p = x.cols();
  const double dn = static_cast<double>(n);
  e.intercept_ = intercept;
  e.alpha_ = alpha;
  if (intercept) {
    e.ym_ = y.mean();
    e.ys_ = std::sqrt((y.array() - e.ym_).square().sum() / dn);
  } else {
    e.ym_ = 0;
    e.ys_ = std::sqrt(y.squaredNorm() / dn);
  }
  if (!(e.ys_ > 0) || !std::isfinite(e.ys_))
    return Status::FailedPrecondition("the response is constant; a penalised fit is not defined");
  e.r0_ = (y.array() - e.ym_) / e.ys_;
  e.z_.resize(n, p);
  e.xm_.assign(p, 0);
  e.xs_.assign(p, 0);
  e.xv_.assign(p, 0);
  e.usable_.assign(p, false);
  for (Eigen::Index j = 0; j < p; ++j) {
    const double mean = x.col(j).mean();
    const double var = (x.col(j).array() - mean).square().sum() / dn;
    // glmnet: scale by the centred sd even without intercept, but centre only with one.
    e.xm_[j] = intercept ? mean : 0;
    e.xs_[j] = std::sqrt(var);
    if (!(e.xs_[j] > 1e-12 * (std::fabs(mean) + 1e-300)) || var <= 0) continue;
    e.usable_[j] = true;
    e.z_.col(j) = (x.col(j).array() - e.xm_[j]) / e.xs_[j];
    e.xv_[j] = e.z_.col(j).squaredNorm() / dn;
  }
  return e;
}

std::vector<double> ElasticNet::LambdaPath(int count) const {
  const Eigen::Index n = z_.rows(), p = z_.cols();
  double gmax = 0;
  for (Eigen::Index j = 0; j < p; ++j)
    if (usable_[j]) gmax = std::max(gmax, std::fabs(z_.col(j).dot(r0_)) / n);
  const double lambda_max = gmax / std::max(alpha_, 1e-3) * ys_;
  const double ratio = n > p ? 1e-4 : 1e-2;
  std::vector<double> out(count);
  for (int k = 0; k < count; ++k)
    out[k] = count == 1 ? lambda_max : lambda_max * std::exp(std::log(ratio) * k / (count - 1));
  return out;
}

std::vector<ElasticNetCoef> ElasticNet::Fit(const std::vector<double>& lambdas) const {
  const Eigen::Index n = z_.rows(), p = z_.cols();
  const double dn = static_cast<double>(n);
  std::vector<double> b(p, 0.0);
  Eigen::VectorXd r = r0_;
  std::vector<ElasticNetCoef> out;
  std::vector<bool> active(p, false);

  // One sweep over the columns in `active_only` mode or all; returns the largest xv·Δb².
  auto sweep = [&](double l1, double l2, bool active_only) {
    double dmax = 0;
    for (Eigen::Index j = 0; j < p; ++j) {
      if (!usable_[j] || (active_only && !active[j])) continue;
      const double old = b[j];
      const double g = z_.col(j).dot(r) / dn + xv_[j] * old;
      const double a = std::fabs(g) - l1;
      const double nb = a > 0 ? std::copysign(a, g) / (xv_[j] + l2) : 0.0;
      if (nb == old) continue;
      b[j] = nb;
      if (nb != 0) active[j] = true;
      r -= (nb - old) * z_.col(j);
      const double d = nb - old;
      dmax = std::max(dmax, xv_[j] * d * d);
    }
    return dmax;
  };

  for (double lambda : lambdas) {
    const double lam = lambda / ys_;
    const double l1 = lam * alpha_, l2 = lam * (1 - alpha_);
    int sweeps = 0;
    while (sweeps < kMaxSweeps) {
      ++sweeps;
      if (sweep(l1, l2, false) < kTolerance) break;
      while (sweeps < kMaxSweeps) {
        ++sweeps;
        if (sweep(l1, l2, true) < kTolerance) break;
      }
    }
    // Exact residual, so rounding does not accumulate along a long path.
    r = r0_;
    for (Eigen::Index j = 0; j < p; ++j)
      if (b[j] != 0) r -= b[j] * z_.col(j);
    ElasticNetCoef c;
    c.lambda = lambda;
    c.sweeps = sweeps;
    c.beta.assign(p, 0.0);
    double shift = 0;
    for (Eigen::Index j = 0; j < p; ++j) {
      if (b[j] == 0) continue;
      c.beta[j] = ys_ * b[j] / xs_[j];
      shift += c.beta[j] * xm_[j];
      ++c.nonzero;
    }
    c.intercept = intercept_ ? ym_ - shift : 0;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace mlprod::ml
