// What the fuzz targets share: an invariant check that stops the run (libFuzzer then saves the
// input as a crash), and a bit-exact comparison of frames.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ml/frame.h"

namespace mlprod::fuzz {

// A broken invariant is a finding, like a crash: print it and abort.
#define FUZZ_CHECK(condition, what)                                                     \
  do {                                                                                  \
    if (!(condition)) {                                                                 \
      std::fprintf(stderr, "invariant failed at %s:%d: %s\n  %s\n", __FILE__, __LINE__, \
                   #condition, std::string(what).c_str());                              \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

inline bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Empty when `a` and `b` hold the same columns, types, levels and cells (bit for bit), else
// what differs first.
inline std::string FrameDifference(const ml::Frame& a, const ml::Frame& b) {
  if (a.rows != b.rows) return "rows " + std::to_string(a.rows) + " vs " + std::to_string(b.rows);
  if (a.columns.size() != b.columns.size()) return "column count";
  for (size_t c = 0; c < a.columns.size(); ++c) {
    const ml::Column& x = a.columns[c];
    const ml::Column& y = b.columns[c];
    const std::string where = "column " + std::to_string(c + 1) + " '" + x.name + "': ";
    if (x.name != y.name) return where + "name '" + y.name + "'";
    if (x.type != y.type) return where + "type";
    if (x.levels != y.levels) return where + "levels";
    if (x.missing != y.missing) return where + "missing count";
    if (x.codes != y.codes) return where + "codes";
    if (x.values.size() != y.values.size()) return where + "value count";
    for (size_t r = 0; r < x.values.size(); ++r) {
      if (!SameBits(x.values[r], y.values[r])) return where + "row " + std::to_string(r + 1);
    }
  }
  return "";
}

}  // namespace mlprod::fuzz
