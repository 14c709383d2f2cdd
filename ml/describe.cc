#include "ml/describe.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

namespace mlprod::ml {
namespace {

// R's default quantile (type 7) of sorted, non-empty `x`: linear interpolation between the order
// statistics around h = (n - 1) p.
double Quantile(const std::vector<double>& x, double p) {
  const double h = static_cast<double>(x.size() - 1) * p;
  const size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= x.size()) return x.back();
  return x[lo] + (h - static_cast<double>(lo)) * (x[lo + 1] - x[lo]);
}

void SummarizeNumeric(const Column& column, ColumnSummary* s) {
  std::vector<double> x;
  x.reserve(column.values.size());
  for (double v : column.values) {
    if (!std::isnan(v)) x.push_back(v);
  }
  s->count = x.size();
  s->missing = column.values.size() - x.size();
  if (x.empty()) return;
  const double n = static_cast<double>(x.size());
  // Two passes: the mean, then squared deviations from it (stable for large offsets).
  s->mean = std::accumulate(x.begin(), x.end(), 0.0) / n;
  double ss = 0;
  for (double v : x) ss += (v - s->mean) * (v - s->mean);
  s->sd = x.size() > 1 ? std::sqrt(ss / (n - 1)) : NAN;
  std::sort(x.begin(), x.end());
  s->min = x.front();
  s->max = x.back();
  s->q1 = Quantile(x, 0.25);
  s->median = Quantile(x, 0.5);
  s->q3 = Quantile(x, 0.75);
}

void SummarizeCoded(const Column& column, ColumnSummary* s) {
  std::vector<size_t> counts(column.levels.size(), 0);
  size_t missing = 0;
  for (int32_t code : column.codes) {
    if (code < 0 || static_cast<size_t>(code) >= counts.size()) {
      ++missing;
    } else {
      ++counts[code];
    }
  }
  s->missing = missing;
  s->count = column.codes.size() - missing;
  std::vector<size_t> order(counts.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return counts[a] > counts[b]; });
  s->level_counts.reserve(order.size());
  for (size_t i : order) s->level_counts.emplace_back(column.levels[i], counts[i]);
}

}  // namespace

std::vector<ColumnSummary> Describe(const Frame& frame) {
  std::vector<ColumnSummary> out;
  out.reserve(frame.columns.size());
  for (const Column& column : frame.columns) {
    ColumnSummary& s = out.emplace_back();
    s.name = column.name;
    s.type = column.type;
    if (column.type == ColumnType::kNumeric) {
      SummarizeNumeric(column, &s);
    } else {
      SummarizeCoded(column, &s);
    }
  }
  return out;
}

}  // namespace mlprod::ml
