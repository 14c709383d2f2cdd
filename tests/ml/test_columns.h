// Helpers the ml tests share: columns built by hand (missing cells counted) and the committed
// reference outputs of R, statsmodels and scikit-learn (tests/reference/*.json).
#pragma once

#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "ml/frame.h"

namespace mlprod::ml::testing {

inline Column NumericColumn(std::string name, std::vector<double> values = {}) {
  Column c;
  c.name = std::move(name);
  c.type = ColumnType::kNumeric;
  c.values = std::move(values);
  for (double v : c.values) c.missing += std::isnan(v) ? 1 : 0;
  return c;
}

// A categorical or boolean column: `codes` index `levels`, -1 is missing.
inline Column CodedColumn(std::string name, ColumnType type, std::vector<std::string> levels,
                          std::vector<int32_t> codes) {
  Column c;
  c.name = std::move(name);
  c.type = type;
  c.levels = std::move(levels);
  c.codes = std::move(codes);
  for (int32_t code : c.codes) c.missing += code < 0 ? 1 : 0;
  return c;
}

// tests/reference/`file` parsed; a discarded value when it cannot be read.
inline nlohmann::json ReadReference(const std::string& file) {
  std::ifstream in(std::string(MLPROD_REFERENCE_DIR) + "/" + file);
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace mlprod::ml::testing
