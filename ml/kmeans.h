// k-means clustering: greedy k-means++ seeding (as scikit-learn: 2 + floor(ln k) candidate
// centres per step, the one lowering the potential most is kept), then Lloyd iterations until no
// label changes, the centres move less than scikit-learn's tolerance, or max_iter; the best of
// n_init runs (lowest inertia) wins. Columns are used as
// given — not standardised, as scikit-learn's KMeans does not; scale them in the formula if they
// differ in units. Randomness: one mt19937_64(seed) drives every run in turn, with portable
// draws (53-bit uniforms, rejection-sampled integers), so a seed fixes the result everywhere.
// Plain functions; thread-compatible.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "ml/keep_going.h"
#include "ml/status.h"

namespace mlprod::ml {

struct KMeansOptions {
  int k = 0;           // clusters; required, 1 <= k <= rows
  int n_init = 10;     // independent seedings; the lowest inertia wins
  int max_iter = 300;  // Lloyd iterations per run
  // As scikit-learn's: a run stops when the centres' summed squared shift in one iteration is at
  // most tol times the mean of the columns' (population) variances; 0 runs until no label changes.
  double tol = 1e-4;
  uint64_t seed = 0;
};

struct KMeansFit {
  Eigen::MatrixXd centers;  // k x p
  std::vector<int> labels;  // per row, 0-based
  std::vector<size_t> sizes;
  double inertia = 0;      // sum of squared distances to the assigned centre
  int iterations = 0;      // of the winning run
  bool converged = false;  // the winning run stopped before max_iter (labels or centres settled)
};

// FAILED_PRECONDITION when k exceeds the rows; INVALID_ARGUMENT for k < 1; CANCELLED when
// `keep_going` (asked every Lloyd iteration) says stop.
Result<KMeansFit> FitKMeans(const Eigen::MatrixXd& x, const KMeansOptions& options,
                            const KeepGoing& keep_going = nullptr);

// Index of the nearest centre (squared Euclidean, ties to the lowest index) of a row of p values.
int NearestCenter(const Eigen::MatrixXd& centers, const double* row);

// Mean silhouette width (Euclidean). Exact when rows <= max_rows; otherwise computed on a
// sample of max_rows rows drawn without replacement by mt19937_64(seed). NaN for fewer than 2
// clusters. Singletons score 0, as in scikit-learn and R's cluster::silhouette.
double Silhouette(const Eigen::MatrixXd& x, const std::vector<int>& labels, int k, size_t max_rows,
                  uint64_t seed);

}  // namespace mlprod::ml
