// Deterministic, portable train/test split: std::mt19937_64(seed) drives a hand-written
// Fisher-Yates shuffle with a rejection-sampled bounded draw (std::shuffle and
// std::uniform_int_distribution differ across standard libraries). n_test = round(n * fraction);
// the first n_test permuted rows are the test rows. Exactly: perm = 0..n-1; for i = n down to 2,
// j = draw(i), swap(perm[i-1], perm[j]), where draw(b) takes engine outputs until one is below
// 2^64-1 - (2^64-1) mod b and returns it mod b. (No draws at all when n_test == 0.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace mlprod::ml {

// Uniform draw in [0, bound) by rejection, the same on every standard library. REQUIRES: bound > 0.
uint64_t BoundedDraw(std::mt19937_64& engine, uint64_t bound);

// 0..n-1 shuffled by the Fisher-Yates walk described above, driven by `engine`.
std::vector<size_t> SeededPermutation(size_t n, std::mt19937_64& engine);

// Splits rows 0..n-1 into `train` and `test`, both returned ascending. REQUIRES: 0 <= fraction < 1.
void SplitRows(size_t n, double test_fraction, uint64_t seed, std::vector<size_t>* train,
               std::vector<size_t>* test);

}  // namespace mlprod::ml
