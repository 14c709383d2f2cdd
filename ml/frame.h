// Frame: a typed, columnar table held in memory, the unit every estimator reads.
//
// Missing cells are kept as missing (NaN for numeric columns, code -1 for the others), never as 0.
// A Frame is a plain value; it is safe to read from many threads once built.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ml/status.h"

namespace mlprod::ml {

enum class ColumnType {
  kNumeric,      // doubles; NaN marks a missing cell
  kCategorical,  // codes into `levels`, sorted ascending by bytes; -1 marks a missing cell
  kBoolean,      // codes 0/1 into `levels` = {false label, true label}, e.g. {"no", "yes"}
};

// "numeric", "categorical", "boolean".
std::string_view ColumnTypeName(ColumnType type);
// Inverse of ColumnTypeName; INVALID_ARGUMENT naming the text otherwise.
Result<ColumnType> ParseColumnType(std::string_view text);

struct Column {
  std::string name;
  ColumnType type = ColumnType::kNumeric;
  std::vector<double> values;       // kNumeric only: one per row
  std::vector<int32_t> codes;       // kCategorical / kBoolean only: one per row
  std::vector<std::string> levels;  // kCategorical / kBoolean only
  size_t missing = 0;               // number of missing cells

  bool IsMissing(size_t row) const {
    return type == ColumnType::kNumeric ? std::isnan(values[row]) : codes[row] < 0;
  }
};

struct Frame {
  size_t rows = 0;
  std::vector<Column> columns;

  // The column named `name`, or nullptr.
  const Column* Find(std::string_view name) const;
};

}  // namespace mlprod::ml
