// Describe: the per-column summary that `datasets describe` shows before a user models.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "ml/frame.h"

namespace mlprod::ml {

struct ColumnSummary {
  std::string name;
  ColumnType type = ColumnType::kNumeric;
  size_t count = 0;    // non-missing cells
  size_t missing = 0;  // missing cells
  // Numeric columns (NaN when count == 0); quantiles as R's default (type 7), sd with n-1.
  double mean = NAN, sd = NAN, min = NAN, q1 = NAN, median = NAN, q3 = NAN, max = NAN;
  // Categorical and boolean columns: every level with its count, most frequent first,
  // ties by level order.
  std::vector<std::pair<std::string, size_t>> level_counts;
};

std::vector<ColumnSummary> Describe(const Frame& frame);

}  // namespace mlprod::ml
