#include "ml/cross_validation.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "ml/glmnet.h"
#include "ml/split.h"

namespace mlprod::ml {

std::vector<int> AssignFolds(size_t n, int k, uint64_t seed) {
  std::mt19937_64 engine(seed);
  const std::vector<size_t> perm = SeededPermutation(n, engine);
  std::vector<int> fold(n);
  for (size_t i = 0; i < n; ++i) fold[perm[i]] = static_cast<int>(i % k);
  return fold;
}

Result<LambdaCv> CrossValidateLambda(const Eigen::MatrixXd& x, const Eigen::VectorXd& y,
                                     bool intercept, double alpha, int folds, uint64_t seed,
                                     const KeepGoing& keep_going) {
  const size_t n = static_cast<size_t>(x.rows());
  if (folds < 2 || static_cast<size_t>(folds) > n)
    return Status::FailedPrecondition("cannot cross-validate " + std::to_string(n) + " rows in " +
                                      std::to_string(folds) + " folds");
  MLPROD_ASSIGN_OR_RETURN(ElasticNet full, ElasticNet::Create(x, y, intercept, alpha));
  LambdaCv cv;
  cv.lambdas = full.LambdaPath();
  const size_t m = cv.lambdas.size();
  const std::vector<int> fold = AssignFolds(n, folds, seed);
  std::vector<std::vector<double>> mse(folds, std::vector<double>(m, 0));
  std::vector<double> size(folds, 0);
  for (int f = 0; f < folds; ++f) {
    std::vector<Eigen::Index> in, out;
    for (size_t i = 0; i < n; ++i)
      (fold[i] == f ? out : in).push_back(static_cast<Eigen::Index>(i));
    Eigen::MatrixXd xt = x(in, Eigen::all);
    Eigen::VectorXd yt = y(in);
    Result<ElasticNet> net = ElasticNet::Create(xt, yt, intercept, alpha);
    if (!net.ok())
      return Status::FailedPrecondition("fold " + std::to_string(f + 1) + ": " +
                                        net.status().message());
    std::vector<ElasticNetCoef> path = net->Fit(cv.lambdas);
    size[f] = static_cast<double>(out.size());
    for (size_t l = 0; l < m; ++l) {
      long double sse = 0;
      for (Eigen::Index i : out) {
        double pred = path[l].intercept;
        for (Eigen::Index j = 0; j < x.cols(); ++j) pred += x(i, j) * path[l].beta[j];
        const long double e = y(i) - pred;
        sse += e * e;
      }
      mse[f][l] = static_cast<double>(sse / out.size());
    }
    if (!ShouldContinue(keep_going, static_cast<double>(f + 1) / folds))
      return Status::Cancelled("training cancelled");
  }
  cv.cvm.assign(m, 0);
  cv.cvsd.assign(m, 0);
  const double total = static_cast<double>(n);
  for (size_t l = 0; l < m; ++l) {
    double mean = 0;
    for (int f = 0; f < folds; ++f) mean += size[f] * mse[f][l];
    mean /= total;
    double var = 0;
    for (int f = 0; f < folds; ++f) var += size[f] * (mse[f][l] - mean) * (mse[f][l] - mean);
    cv.cvm[l] = mean;
    cv.cvsd[l] = std::sqrt(var / total / (folds - 1));
  }
  // Largest lambda attaining the minimum (lambdas decrease, so the first index).
  const double best = *std::min_element(cv.cvm.begin(), cv.cvm.end());
  for (size_t l = 0; l < m; ++l)
    if (cv.cvm[l] <= best) {
      cv.index_min = l;
      break;
    }
  const double bound = best + cv.cvsd[cv.index_min];
  for (size_t l = 0; l < m; ++l)
    if (cv.cvm[l] <= bound) {
      cv.index_1se = l;
      break;
    }
  cv.lambda_min = cv.lambdas[cv.index_min];
  cv.lambda_1se = cv.lambdas[cv.index_1se];
  return cv;
}

}  // namespace mlprod::ml
