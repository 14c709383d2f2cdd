#include "ml/ols_tsqr.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mlprod::ml {
namespace {

using Index = Eigen::Index;

// Columns per panel: the reflectors applied together to the trailing columns.
constexpr Index kPanel = 16;

// Rows per block: about this many bytes of the block in cache (with R beside it), a multiple of
// kBlockRowStep (4 vectors of the widest kernel), within [kMinBlockRows, kMaxBlockRows].
constexpr Index kBlockBytes = 512 << 10;
constexpr Index kBlockRowStep = 32;
constexpr Index kMinBlockRows = 64;
constexpr Index kMaxBlockRows = 2048;

// The baseline x86-64 kernel: SSE2, products and sums rounded separately.
namespace sse2 {
using Vec = __m128d;
constexpr Index kLanes = 2;
constexpr int kTileJ = 2;
inline Vec Load(const double* p) { return _mm_loadu_pd(p); }
inline void Store(double* p, Vec v) { _mm_storeu_pd(p, v); }
inline Vec Set1(double x) { return _mm_set1_pd(x); }
inline Vec Zero() { return _mm_setzero_pd(); }
inline Vec MulAdd(Vec a, Vec b, Vec c) { return _mm_add_pd(_mm_mul_pd(a, b), c); }
inline Vec NegMulAdd(Vec a, Vec b, Vec c) { return _mm_sub_pd(c, _mm_mul_pd(a, b)); }
inline double Sum(Vec v) { return _mm_cvtsd_f64(v) + _mm_cvtsd_f64(_mm_unpackhi_pd(v, v)); }
#include "ml/ols_tsqr_kernel.inc"
}  // namespace sse2

// GCC and clang spell "compile these functions for another target" differently.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
namespace avx2 {
using Vec = __m256d;
constexpr Index kLanes = 4;
constexpr int kTileJ = 2;
inline Vec Load(const double* p) { return _mm256_loadu_pd(p); }
inline void Store(double* p, Vec v) { _mm256_storeu_pd(p, v); }
inline Vec Set1(double x) { return _mm256_set1_pd(x); }
inline Vec Zero() { return _mm256_setzero_pd(); }
inline Vec MulAdd(Vec a, Vec b, Vec c) { return _mm256_fmadd_pd(a, b, c); }
inline Vec NegMulAdd(Vec a, Vec b, Vec c) { return _mm256_fnmadd_pd(a, b, c); }
inline double Sum(Vec v) {
  const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(h) + _mm_cvtsd_f64(_mm_unpackhi_pd(h, h));
}
#include "ml/ols_tsqr_kernel.inc"
}  // namespace avx2
#if defined(__clang__)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#else
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx512f")
#endif
namespace avx512 {
using Vec = __m512d;
constexpr Index kLanes = 8;
constexpr int kTileJ = 4;
inline Vec Load(const double* p) { return _mm512_loadu_pd(p); }
inline void Store(double* p, Vec v) { _mm512_storeu_pd(p, v); }
inline Vec Set1(double x) { return _mm512_set1_pd(x); }
inline Vec Zero() { return _mm512_setzero_pd(); }
inline Vec MulAdd(Vec a, Vec b, Vec c) { return _mm512_fmadd_pd(a, b, c); }
inline Vec NegMulAdd(Vec a, Vec b, Vec c) { return _mm512_fnmadd_pd(a, b, c); }
inline double Sum(Vec v) {  // through memory: GCC 12's lane extracts warn spuriously
  alignas(64) double l[8];
  _mm512_store_pd(l, v);
  return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}
#include "ml/ols_tsqr_kernel.inc"
}  // namespace avx512
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

using FactorFn = void (*)(double*, Index, double*, Index, double*, double*, double*);

struct Kernel {
  FactorFn factor;
  const char* name;
};

const Kernel& SelectedKernel() {
  static const Kernel kernel = [] {
    if (__builtin_cpu_supports("avx512f")) return Kernel{avx512::FactorBlock, "AVX-512F"};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      return Kernel{avx2::FactorBlock, "AVX2+FMA"};
    }
    return Kernel{sse2::FactorBlock, "SSE2"};
  }();
  return kernel;
}

}  // namespace

const char* StreamingRKernel() { return SelectedKernel().name; }

Result<Eigen::MatrixXd> StreamingR(const ColumnMatrix& x, const double* y,
                                   const Eigen::VectorXd& inv_scale, const KeepGoing& keep_going) {
  const FactorFn factor = SelectedKernel().factor;
  const Index n = static_cast<Index>(x.rows()), p = static_cast<Index>(x.cols()), q = p + 1;
  auto round_up = [](Index v) { return (v + kBlockRowStep - 1) / kBlockRowStep * kBlockRowStep; };
  const Index fit = kBlockBytes / (Index{sizeof(double)} * q) / kBlockRowStep * kBlockRowStep;
  const Index m = std::min(round_up(n), std::clamp(fit, kMinBlockRows, kMaxBlockRows));
  Eigen::MatrixXd r = Eigen::MatrixXd::Zero(q, q);
  const DoubleBuffer b = AllocateDoubles(static_cast<size_t>(m * q));
  Eigen::VectorXd t(kPanel * kPanel), w(kPanel * q), tau(kPanel);
  // Asking between blocks costs a call to the server's progress hook (a lock): once per
  // kBlocksPerCheck blocks keeps that far below 1% of the work.
  constexpr Index kBlocksPerCheck = 16;
  for (Index i0 = 0, block = 0; i0 < n; i0 += m, ++block) {
    if (block % kBlocksPerCheck == kBlocksPerCheck - 1 &&
        !ShouldContinue(keep_going, static_cast<double>(i0) / static_cast<double>(n))) {
      return Status::Cancelled("training cancelled");
    }
    const Index rows = std::min(m, n - i0), mb = round_up(rows);  // the last block: zero rows
    for (Index j = 0; j <= p; ++j) {
      double* dst = b.get() + j * mb;
      if (j < p) {
        const double* src = x.col(j) + i0;
        const double s = inv_scale(j);
        for (Index i = 0; i < rows; ++i) dst[i] = src[i] * s;
      } else {
        std::copy(y + i0, y + i0 + rows, dst);
      }
      std::fill(dst + rows, dst + mb, 0.0);
    }
    factor(r.data(), q, b.get(), mb, t.data(), w.data(), tau.data());
  }
  return r;
}

}  // namespace mlprod::ml
