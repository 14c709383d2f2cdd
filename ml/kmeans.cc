#include "ml/kmeans.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "ml/split.h"

namespace mlprod::ml {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

double Uniform(std::mt19937_64& engine) { return (engine() >> 11) * 0x1.0p-53; }

double Dist2(const double* a, const double* b, Eigen::Index p) {
  double s = 0;
  for (Eigen::Index j = 0; j < p; ++j) {
    const double d = a[j] - b[j];
    s += d * d;
  }
  return s;
}

// Greedy k-means++ seeding; returns row indices of the initial centres.
std::vector<size_t> SeedCenters(const RowMatrix& x, int k, std::mt19937_64& engine) {
  const size_t n = static_cast<size_t>(x.rows());
  const Eigen::Index p = x.cols();
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  std::vector<size_t> chosen = {static_cast<size_t>(BoundedDraw(engine, n))};
  std::vector<double> closest(n);
  double potential = 0;
  for (size_t i = 0; i < n; ++i) {
    closest[i] = Dist2(x.row(i).data(), x.row(chosen[0]).data(), p);
    potential += closest[i];
  }
  std::vector<double> candidate(n), best_closest(n);
  while (static_cast<int>(chosen.size()) < k) {
    size_t best = n;
    double best_potential = std::numeric_limits<double>::infinity();
    for (int t = 0; t < trials; ++t) {
      size_t c = 0;
      if (potential > 0) {
        const double target = Uniform(engine) * potential;
        double acc = 0;
        c = n - 1;
        for (size_t i = 0; i < n; ++i) {
          acc += closest[i];
          if (acc > target) {
            c = i;
            break;
          }
        }
      } else {
        c = static_cast<size_t>(BoundedDraw(engine, n));  // every row is already a centre
      }
      double pot = 0;
      for (size_t i = 0; i < n; ++i) {
        candidate[i] = std::min(closest[i], Dist2(x.row(i).data(), x.row(c).data(), p));
        pot += candidate[i];
      }
      if (pot < best_potential) {
        best_potential = pot;
        best = c;
        best_closest = candidate;
      }
    }
    chosen.push_back(best);
    closest = best_closest;
    potential = best_potential;
  }
  return chosen;
}

// Sets every row's label to its nearest centre and says whether any label changed. The same sums
// in the same order as NearestCenter (so the same labels, ties to the lowest index), but with the
// centres transposed so that the inner loop runs over the centres, which the compiler vectorises.
bool AssignRows(const RowMatrix& x, const RowMatrix& centers, std::vector<int>* labels) {
  const Eigen::Index n = x.rows(), p = x.cols(), k = centers.rows();
  std::vector<double> ct(static_cast<size_t>(p * k)), d(static_cast<size_t>(k));
  for (Eigen::Index c = 0; c < k; ++c)
    for (Eigen::Index j = 0; j < p; ++j) ct[j * k + c] = centers(c, j);
  bool changed = false;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double* row = x.row(i).data();
    std::fill(d.begin(), d.end(), 0.0);
    for (Eigen::Index j = 0; j < p; ++j) {
      const double xj = row[j];
      const double* cj = ct.data() + j * k;
      for (Eigen::Index c = 0; c < k; ++c) {
        const double t = xj - cj[c];
        d[c] += t * t;
      }
    }
    int best = 0;
    double best_d = std::numeric_limits<double>::infinity();
    for (Eigen::Index c = 0; c < k; ++c) {
      if (d[c] < best_d) {
        best_d = d[c];
        best = static_cast<int>(c);
      }
    }
    if ((*labels)[i] != best) {
      (*labels)[i] = best;
      changed = true;
    }
  }
  return changed;
}

// `keep_going` gets the fraction of max_iter done. Stops when no label changes or the centres
// move by at most `tolerance` (summed squared shift).
Result<KMeansFit> Lloyd(const RowMatrix& x, RowMatrix centers, int max_iter, double tolerance,
                        const KeepGoing& keep_going) {
  const size_t n = static_cast<size_t>(x.rows());
  const Eigen::Index p = x.cols();
  const int k = static_cast<int>(centers.rows());
  KMeansFit fit;
  fit.labels.assign(n, -1);
  for (int iter = 1; iter <= max_iter; ++iter) {
    if (!ShouldContinue(keep_going, static_cast<double>(iter - 1) / max_iter))
      return Status::Cancelled("training cancelled");
    fit.iterations = iter;
    if (!AssignRows(x, centers, &fit.labels)) {
      fit.converged = true;
      break;
    }
    const RowMatrix previous = centers;
    RowMatrix sums = RowMatrix::Zero(k, p);
    std::vector<size_t> count(k, 0);
    for (size_t i = 0; i < n; ++i) {
      sums.row(fit.labels[i]) += x.row(i);
      ++count[fit.labels[i]];
    }
    for (int c = 0; c < k; ++c) {
      if (count[c] > 0) {
        centers.row(c) = sums.row(c) / static_cast<double>(count[c]);
        continue;
      }
      // Empty cluster: move its centre to the row farthest from its own centre.
      size_t far = 0;
      double far_d = -1;
      for (size_t i = 0; i < n; ++i) {
        const double d = Dist2(x.row(i).data(), centers.row(fit.labels[i]).data(), p);
        if (d > far_d) {
          far_d = d;
          far = i;
        }
      }
      centers.row(c) = x.row(far);
    }
    if ((centers - previous).squaredNorm() <= tolerance) {
      fit.converged = true;
      break;
    }
  }
  // The labels of the final centres (they moved after the last assignment, unless no label
  // changed), then sizes and inertia.
  AssignRows(x, centers, &fit.labels);
  fit.sizes.assign(k, 0);
  long double inertia = 0;
  for (size_t i = 0; i < n; ++i) {
    ++fit.sizes[fit.labels[i]];
    inertia += Dist2(x.row(i).data(), centers.row(fit.labels[i]).data(), p);
  }
  fit.inertia = static_cast<double>(inertia);
  fit.centers = centers;
  return fit;
}

}  // namespace

int NearestCenter(const Eigen::MatrixXd& centers, const double* row) {
  int best = 0;
  double best_d = std::numeric_limits<double>::infinity();
  const Eigen::Index p = centers.cols();
  for (Eigen::Index c = 0; c < centers.rows(); ++c) {
    double s = 0;
    for (Eigen::Index j = 0; j < p; ++j) {
      const double d = row[j] - centers(c, j);
      s += d * d;
    }
    if (s < best_d) {
      best_d = s;
      best = static_cast<int>(c);
    }
  }
  return best;
}

Result<KMeansFit> FitKMeans(const Eigen::MatrixXd& x_in, const KMeansOptions& options,
                            const KeepGoing& keep_going) {
  if (options.k < 1) return Status::InvalidArgument("param k must be at least 1");
  if (static_cast<size_t>(options.k) > static_cast<size_t>(x_in.rows()))
    return Status::FailedPrecondition("k = " + std::to_string(options.k) + " clusters but only " +
                                      std::to_string(x_in.rows()) + " rows");
  const RowMatrix x = x_in;
  // scikit-learn's absolute tolerance: tol times the mean of the columns' variances.
  const double tolerance =
      options.tol *
      ((x.rowwise() - x.colwise().mean()).colwise().squaredNorm() / static_cast<double>(x.rows()))
          .mean();
  std::mt19937_64 engine(options.seed);
  KMeansFit best;
  best.inertia = std::numeric_limits<double>::infinity();
  const int runs = std::max(1, options.n_init);
  for (int run = 0; run < runs; ++run) {
    const std::vector<size_t> seeds = SeedCenters(x, options.k, engine);
    RowMatrix centers(options.k, x.cols());
    for (int c = 0; c < options.k; ++c) centers.row(c) = x.row(seeds[c]);
    const KeepGoing in_run = [&](double f) { return ShouldContinue(keep_going, (run + f) / runs); };
    MLPROD_ASSIGN_OR_RETURN(KMeansFit fit,
                            Lloyd(x, centers, options.max_iter, tolerance,
                                  keep_going ? in_run : nullptr));
    if (fit.inertia < best.inertia) best = std::move(fit);
  }
  return best;
}

double Silhouette(const Eigen::MatrixXd& x_in, const std::vector<int>& labels, int k,
                  size_t max_rows, uint64_t seed) {
  if (k < 2) return NAN;
  const size_t n_all = static_cast<size_t>(x_in.rows());
  std::vector<size_t> rows(n_all);
  for (size_t i = 0; i < n_all; ++i) rows[i] = i;
  if (n_all > max_rows) {
    std::mt19937_64 engine(seed);
    for (size_t i = 0; i < max_rows; ++i)
      std::swap(rows[i], rows[i + BoundedDraw(engine, n_all - i)]);
    rows.resize(max_rows);
    std::sort(rows.begin(), rows.end());
  }
  const size_t n = rows.size();
  const RowMatrix x = x_in(rows, Eigen::all);
  std::vector<size_t> count(k, 0);
  for (size_t i : rows) ++count[labels[i]];
  long double total = 0;
  std::vector<double> sum(k);
  for (size_t a = 0; a < n; ++a) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (size_t b = 0; b < n; ++b)
      if (a != b)
        sum[labels[rows[b]]] += std::sqrt(Dist2(x.row(a).data(), x.row(b).data(), x.cols()));
    const int own = labels[rows[a]];
    if (count[own] <= 1) continue;  // singleton: 0
    const double in = sum[own] / static_cast<double>(count[own] - 1);
    double out = std::numeric_limits<double>::infinity();
    for (int c = 0; c < k; ++c)
      if (c != own && count[c] > 0) out = std::min(out, sum[c] / static_cast<double>(count[c]));
    if (!std::isfinite(out)) continue;
    const double m = std::max(in, out);
    if (m > 0) total += (out - in) / m;
  }
  return static_cast<double>(total / n);
}

}  // namespace mlprod::ml
