#include "ml/stored_json.h"

#include <nlohmann/json.hpp>

namespace mlprod::ml {

bool JsonNestedDeeperThan(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, a quote included
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if (c == ']' || c == '}') {
      --depth;  // unbalanced text is the parser's to refuse
    }
  }
  return false;
}

std::optional<int64_t> JsonInteger(const nlohmann::json& value, int64_t lo, int64_t hi) {
  if (value.is_number_unsigned()) {
    const uint64_t u = value.get<uint64_t>();
    if (hi < 0 || u > static_cast<uint64_t>(hi) || static_cast<int64_t>(u) < lo) {
      return std::nullopt;
    }
    return static_cast<int64_t>(u);
  }
  if (!value.is_number_integer()) return std::nullopt;  // floats, strings, null, ...
  const int64_t v = value.get<int64_t>();
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

}  // namespace mlprod::ml
