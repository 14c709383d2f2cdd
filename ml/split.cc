#include "ml/split.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace mlprod::ml {
uint64_t BoundedDraw(std::mt19937_64& engine, uint64_t bound) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;  // accept draws below a multiple
  uint64_t x;
  do {
    x = engine();
  } while (x >= limit);
  return x % bound;
}

std::vector<size_t> SeededPermutation(size_t n, std::mt19937_64& engine) {
  std::vector<size_t> perm(n);
  for (size_t i = 0; i < n; ++i) perm[i] = i;
  for (size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[BoundedDraw(engine, i)]);
  return perm;
}

void SplitRows(size_t n, double test_fraction, uint64_t seed, std::vector<size_t>* train,
               std::vector<size_t>* test) {
  const size_t n_test = static_cast<size_t>(std::llround(static_cast<double>(n) * test_fraction));
  if (n_test == 0) {  // no draws: every row trains, in order
    test->clear();
    train->resize(n);
    std::iota(train->begin(), train->end(), size_t{0});
    return;
  }
  std::mt19937_64 engine(seed);
  const std::vector<size_t> perm = SeededPermutation(n, engine);
  test->assign(perm.begin(), perm.begin() + n_test);
  train->assign(perm.begin() + n_test, perm.end());
  std::sort(test->begin(), test->end());
  std::sort(train->begin(), train->end());
}

}  // namespace mlprod::ml
