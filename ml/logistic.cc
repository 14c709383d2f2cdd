#include "ml/logistic.h"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cfloat>
#include <cmath>
#include <numeric>

#include "ml/ols.h"

namespace mlprod::ml {
namespace {

constexpr double kThresh = 30, kMThresh = -30;

double MuEta(double eta) {  // R's logit_mu_eta
  if (eta > kThresh || eta < kMThresh) return DBL_EPSILON;
  const double opexp = 1 + std::exp(eta);
  return std::exp(eta) / (opexp * opexp);
}

double Deviance(const Eigen::VectorXd& y, const Eigen::VectorXd& mu) {
  long double d = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i)
    d += y(i) > 0.5 ? -2.0L * std::log(static_cast<long double>(mu(i)))
                    : -2.0L * std::log1p(-static_cast<long double>(mu(i)));
  return static_cast<double>(d);
}

struct Step {
  OlsFit wls;
  Eigen::VectorXd eta, mu;
  double deviance = NAN;
};

// One IRLS step from `eta`/`mu`.
Result<Step> IrlsStep(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                      const Eigen::VectorXd& eta, const Eigen::VectorXd& mu) {
  const Eigen::Index n = x.rows();
  Eigen::VectorXd w(n), z(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double me = MuEta(eta(i));
    z(i) = eta(i) + (y(i) - mu(i)) / me;
    w(i) = std::sqrt(me * me / (mu(i) * (1 - mu(i))));
  }
  Eigen::MatrixXd xw = x.array().colwise() * w.array();
  Eigen::VectorXd zw = z.array() * w.array();
  Step s;
  MLPROD_ASSIGN_OR_RETURN(s.wls, FitOls(xw, zw));
  s.eta.resize(n);
  s.mu.resize(n);
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> xr = x;
  for (Eigen::Index i = 0; i < n; ++i) {
    s.eta(i) = LogisticLinearPredictor(s.wls.coef, s.wls.kept, xr.row(i).data());
    s.mu(i) = LogisticLinkInverse(s.eta(i));
  }
  s.deviance = Deviance(y, s.mu);
  return s;
}

}  // namespace

double LogisticLinkInverse(double eta) {
  const double tmp =
      eta < kMThresh ? DBL_EPSILON : (eta > kThresh ? 1 / DBL_EPSILON : std::exp(eta));
  return tmp / (1 + tmp);
}

double NormalQuantile(double p) { return boost::math::quantile(boost::math::normal(), p); }

double LogisticLinearPredictor(const std::vector<double>& coef, const std::vector<int>& kept,
                               const double* x_row) {
  double s = 0;
  for (int j : kept) s += x_row[j] * coef[j];
  return s;
}

double LogisticEtaVariance(const LogisticFit& fit, const double* x_row) {
  const size_t r = fit.kept.size();
  double v = 0;
  for (size_t a = 0; a < r; ++a) {
    double s = 0;
    for (size_t b = 0; b < r; ++b) s += fit.cov(a, b) * x_row[fit.kept[b]];
    v += x_row[fit.kept[a]] * s;
  }
  return v;
}

Result<LogisticFit> FitLogistic(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, bool intercept,
                                const std::vector<std::string>& names,
                                const KeepGoing& keep_going) {
  const Eigen::Index n = x.rows();
  if (x.cols() > n)
    return Status::FailedPrecondition("more parameters (" + std::to_string(x.cols()) +
                                      ") than rows (" + std::to_string(n) + ")");
  const double ones = y.sum();
  if (ones == 0 || ones == n)
    return Status::FailedPrecondition("constant target: every one of the " + std::to_string(n) +
                                      " training rows has response " + (ones == 0 ? "0" : "1") +
                                      "; logistic regression needs both classes");
  Eigen::VectorXd mu = (y.array() + 0.5) / 2;
  Eigen::VectorXd eta = (mu.array() / (1 - mu.array())).log();
  double dev_old = Deviance(y, mu);
  Step step;
  int iter = 0;
  bool converged = false;
  while (iter < kLogisticMaxIterations) {
    if (!ShouldContinue(keep_going, static_cast<double>(iter) / kLogisticMaxIterations))
      return Status::Cancelled("training cancelled");
    ++iter;
    MLPROD_ASSIGN_OR_RETURN(step, IrlsStep(x, y, eta, mu));
    eta = step.eta;
    mu = step.mu;
    if (std::fabs(step.deviance - dev_old) / (std::fabs(step.deviance) + 0.1) < kLogisticEpsilon) {
      converged = true;
      break;
    }
    dev_old = step.deviance;
  }

  // Probe: at a finite maximum further steps change nothing.
  Eigen::VectorXd eta_probe = eta, mu_probe = mu;
  std::vector<double> coef_probe = step.wls.coef;
  for (int k = 0; k < kSeparationProbe; ++k) {
    MLPROD_ASSIGN_OR_RETURN(Step more, IrlsStep(x, y, eta_probe, mu_probe));
    eta_probe = more.eta;
    mu_probe = more.mu;
    coef_probe = more.wls.coef;
  }
  const double moved = (eta_probe - eta).cwiseAbs().maxCoeff();
  if (moved > 1e-3 || !converged) {
    size_t extreme = 0;
    for (Eigen::Index i = 0; i < n; ++i)
      if (std::fabs(eta_probe(i)) > 15) ++extreme;
    std::vector<double> shift(x.cols(), 0);
    double biggest = 0;
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      if (std::isnan(coef_probe[j]) || std::isnan(step.wls.coef[j])) continue;
      shift[j] = std::fabs(coef_probe[j] - step.wls.coef[j]) * x.col(j).cwiseAbs().maxCoeff();
      biggest = std::max(biggest, shift[j]);
    }
    std::string terms;
    for (Eigen::Index j = 0; j < x.cols(); ++j)
      if (biggest > 0 && shift[j] > 0.01 * biggest) terms += (terms.empty() ? "" : ", ") + names[j];
    if (moved > 1e-3)
      return Status::FailedPrecondition(
          std::string(extreme == static_cast<size_t>(n) ? "complete" : "quasi-complete") +
          " separation: " + std::to_string(extreme) + " of " + std::to_string(n) +
          " rows are fitted to probability 0 or 1 and the coefficients of " + terms +
          " diverge; the maximum-likelihood estimates do not exist");
    return Status::FailedPrecondition("IRLS did not converge in " +
                                      std::to_string(kLogisticMaxIterations) + " iterations");
  }

  LogisticFit fit;
  fit.n = static_cast<size_t>(n);
  fit.rank = step.wls.rank;
  fit.aliased = step.wls.aliased;
  fit.coef = step.wls.coef;
  fit.kept = step.wls.kept;
  fit.cov = step.wls.cov_unscaled;
  fit.deviance = step.deviance;
  fit.iterations = iter;
  const double null_mu = intercept ? ones / n : 0.5;
  fit.null_deviance = Deviance(y, Eigen::VectorXd::Constant(n, null_mu));
  (void)names;
  return fit;
}

std::vector<CoefficientRow> LogisticCoefficientTable(const LogisticFit& fit,
                                                     const std::vector<std::string>& names) {
  std::vector<CoefficientRow> rows(names.size());
  const double zq = NormalQuantile(0.975);
  for (size_t j = 0; j < names.size(); ++j) {
    rows[j].term = names[j];
    rows[j].aliased = fit.aliased[j];
  }
  for (size_t a = 0; a < fit.kept.size(); ++a) {
    CoefficientRow& r = rows[fit.kept[a]];
    r.estimate = fit.coef[fit.kept[a]];
    r.std_error = std::sqrt(fit.cov(a, a));
    r.t_value = r.estimate / r.std_error;
    r.p_value =
        2 * boost::math::cdf(boost::math::complement(boost::math::normal(), std::fabs(r.t_value)));
    r.ci_lower = r.estimate - zq * r.std_error;
    r.ci_upper = r.estimate + zq * r.std_error;
  }
  return rows;
}

void AddClassificationMetrics(const std::vector<double>& y, const std::vector<double>& prob,
                              const std::string& prefix, std::map<std::string, double>* metrics) {
  const size_t n = y.size();
  if (n == 0) return;
  size_t correct = 0;
  long double loss = 0;
  for (size_t i = 0; i < n; ++i) {
    const bool positive = y[i] > 0.5;
    correct += (prob[i] >= 0.5) == positive;
    const double p = std::clamp(prob[i], 1e-15, 1 - 1e-15);
    loss -=
        positive ? std::log(static_cast<long double>(p)) : std::log1p(-static_cast<long double>(p));
  }
  (*metrics)[prefix + "accuracy"] = static_cast<double>(correct) / n;
  (*metrics)[prefix + "log_loss"] = static_cast<double>(loss / n);
  // AUC = (sum of positive ranks - n1(n1+1)/2) / (n1 n0), midranks for ties.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return prob[a] < prob[b]; });
  long double rank_sum = 0;
  size_t n1 = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && prob[order[j]] == prob[order[i]]) ++j;
    const long double mid = (i + 1 + j) / 2.0L;  // ranks i+1..j
    for (size_t k = i; k < j; ++k)
      if (y[order[k]] > 0.5) {
        rank_sum += mid;
        ++n1;
      }
    i = j;
  }
  const size_t n0 = n - n1;
  (*metrics)[prefix + "auc"] = n1 == 0 || n0 == 0
                                   ? NAN
                                   : static_cast<double>((rank_sum - n1 * (n1 + 1) / 2.0L) /
                                                         (static_cast<long double>(n1) * n0));
}

}  // namespace mlprod::ml
