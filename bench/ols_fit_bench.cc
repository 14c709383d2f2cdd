// mlprod_ols_bench: times mlprod's OLS fit on a design written by bench/run_bench.py, so that
// numpy, statsmodels and mlprod fit the very same bytes in one session.
//
//   mlprod_ols_bench FILE [REPS]
//
// FILE (little-endian): "MLPRODOLS1\0\0\0\0\0\0" (16 bytes), uint64 n, uint64 p, then y (n doubles),
// then the p regressors x1..xp column after column (n doubles each). The intercept is implied.
//
// Prints one JSON object on stdout: the best and every wall time of
//  - train: ml::Train(frame, {formula "y ~ ."}) — everything a user's fit does (design matrix,
//    scaling, pivoted QR, refinement, the full summary, fitted values);
//  - floor: Eigen's unpivoted HouseholderQR solve of the same (n, p+1) matrix, the plain QR
//    floor on this machine (matrix already built, no summary);
// the measured GEMM rate and the flop bound it gives for a Householder QR of this shape
// (2·n·q² − 2q³/3 flops, q = p + 1), and both coefficient vectors for the accuracy check.
#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ml/model.h"
#include "ml/ols_tsqr.h"

namespace {

using Clock = std::chrono::steady_clock;
using mlprod::ml::Column;
using mlprod::ml::ColumnType;
using mlprod::ml::Frame;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

bool ReadDesign(const std::string& path, Frame* frame) {
  std::ifstream in(path, std::ios::binary);
  char magic[16];
  uint64_t n = 0, p = 0;
  if (!in.read(magic, 16) || std::memcmp(magic, "MLPRODOLS1", 10) != 0) return false;
  if (!in.read(reinterpret_cast<char*>(&n), 8) || !in.read(reinterpret_cast<char*>(&p), 8)) {
    return false;
  }
  frame->rows = n;
  frame->columns.reserve(p + 1);
  for (uint64_t j = 0; j <= p; ++j) {
    Column c{j == 0 ? "y" : "x" + std::to_string(j), ColumnType::kNumeric,
             std::vector<double>(n), {}, {}, 0};
    if (!in.read(reinterpret_cast<char*>(c.values.data()), static_cast<std::streamsize>(n * 8))) {
      return false;
    }
    frame->columns.push_back(std::move(c));
  }
  return true;
}

// Best single-thread GEMM rate (flop/s) of Eigen on 512x512 matrices: the machine's attainable
// peak for the blocked kernels a QR spends its time in.
double MeasureGemmFlops() {
  const Eigen::Index m = 512;
  Eigen::MatrixXd a = Eigen::MatrixXd::Random(m, m), b = Eigen::MatrixXd::Random(m, m);
  Eigen::MatrixXd c(m, m);
  double best = 1e30;
  for (int r = 0; r < 7; ++r) {
    auto t0 = Clock::now();
    c.noalias() = a * b;
    auto t1 = Clock::now();
    best = std::min(best, Seconds(t0, t1));
  }
  if (c(0, 0) == 12345.678) std::printf(" ");  // keep the product alive
  return 2.0 * static_cast<double>(m) * m * m / best;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: mlprod_ols_bench FILE [REPS]\n";
    return 2;
  }
  const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  Frame frame;
  if (!ReadDesign(argv[1], &frame)) {
    std::cerr << "mlprod_ols_bench: cannot read " << argv[1] << "\n";
    return 1;
  }
  const size_t n = frame.rows, p = frame.columns.size() - 1;

  mlprod::ml::TrainOptions options;
  options.formula = "y ~ .";
  std::vector<double> train_times;
  std::vector<double> train_beta;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    auto out = mlprod::ml::Train(frame, options);
    auto t1 = Clock::now();
    if (!out.ok()) {
      std::cerr << "mlprod_ols_bench: Train failed: " << out.status().ToString() << "\n";
      return 1;
    }
    train_times.push_back(Seconds(t0, t1));
    if (r == 0) {
      for (const auto& row : out->report.coefficients) train_beta.push_back(row.estimate);
    }
  }

  // The floor: the same matrix with its intercept column, already in memory.
  Eigen::MatrixXd x(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(p + 1));
  x.col(0).setOnes();
  for (size_t j = 1; j <= p; ++j) {
    x.col(static_cast<Eigen::Index>(j)) =
        Eigen::Map<const Eigen::VectorXd>(frame.columns[j].values.data(), static_cast<Eigen::Index>(n));
  }
  const Eigen::VectorXd y =
      Eigen::Map<const Eigen::VectorXd>(frame.columns[0].values.data(), static_cast<Eigen::Index>(n));
  frame.columns.clear();
  std::vector<double> floor_times;
  Eigen::VectorXd floor_beta;
  for (int r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    floor_beta = x.householderQr().solve(y);
    auto t1 = Clock::now();
    floor_times.push_back(Seconds(t0, t1));
  }

  const double gemm = MeasureGemmFlops();
  const double q = static_cast<double>(p + 1), nn = static_cast<double>(n);
  const double qr_flops = 2 * nn * q * q - 2 * q * q * q / 3;

  nlohmann::json j;
  j["n"] = n;
  j["p"] = p;
  j["reps"] = reps;
  j["train_s"] = train_times;
  j["train_best_s"] = *std::min_element(train_times.begin(), train_times.end());
  j["floor_s"] = floor_times;
  j["floor_best_s"] = *std::min_element(floor_times.begin(), floor_times.end());
  j["gemm_gflops"] = gemm / 1e9;
  j["qr_flops"] = qr_flops;
  j["flop_bound_s"] = qr_flops / gemm;
  j["train_beta"] = train_beta;
  j["floor_beta"] = std::vector<double>(floor_beta.data(), floor_beta.data() + floor_beta.size());
  j["eigen_simd"] = Eigen::SimdInstructionSetsInUse();
  j["tsqr_kernel"] = mlprod::ml::StreamingRKernel();
  j["eigen_threads"] = Eigen::nbThreads();
  std::cout << j.dump() << "\n";
  return 0;
}
