// OLS fit time: ml::Train (design read in place, scaling, streaming QR, aliasing, refinement,
// full summary, fitted values) against Eigen's unpivoted HouseholderQR solve of the same design.
#include <random>
#include <string>

#include <Eigen/Dense>
#include <benchmark/benchmark.h>

#include "ml/model.h"

namespace mlprod::ml {
namespace {

// y = x·β + N(0, 1) noise with x ~ N(0, 1), columns x1..xp; seed fixed.
Frame MakeFrame(size_t n, size_t p) {
  std::mt19937_64 rng(20261202);
  std::normal_distribution<double> normal(0, 1);
  Frame frame;
  frame.rows = n;
  Column y{"y", ColumnType::kNumeric, std::vector<double>(n, 0.0), {}, {}, 0};
  for (size_t j = 0; j < p; ++j) {
    Column x{"x" + std::to_string(j + 1), ColumnType::kNumeric, std::vector<double>(n), {}, {}, 0};
    for (size_t i = 0; i < n; ++i) {
      x.values[i] = normal(rng);
      y.values[i] += (static_cast<double>(j) + 1) * x.values[i];
    }
    frame.columns.push_back(std::move(x));
  }
  for (double& v : y.values) v += normal(rng);
  frame.columns.insert(frame.columns.begin(), std::move(y));
  return frame;
}

void BM_TrainOls(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0)), p = static_cast<size_t>(state.range(1));
  const Frame frame = MakeFrame(n, p);
  TrainOptions options;
  options.formula = "y ~ .";
  for (auto _ : state) {
    auto out = Train(frame, options);
    if (!out.ok()) state.SkipWithError(out.status().ToString().c_str());
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

void BM_EigenHouseholderQrFloor(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0)), p = static_cast<size_t>(state.range(1));
  const Frame frame = MakeFrame(n, p);
  Eigen::MatrixXd x(n, p + 1);
  x.col(0).setOnes();
  for (size_t j = 0; j < p; ++j) {
    x.col(static_cast<Eigen::Index>(j + 1)) =
        Eigen::Map<const Eigen::VectorXd>(frame.columns[j + 1].values.data(), n);
  }
  const Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(frame.columns[0].values.data(), n);
  for (auto _ : state) {
    Eigen::VectorXd beta = x.householderQr().solve(y);
    benchmark::DoNotOptimize(beta);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}

BENCHMARK(BM_TrainOls)->Args({100000, 20})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EigenHouseholderQrFloor)->Args({100000, 20})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace mlprod::ml
