// A guard for JSON this process wrote and reads back from storage (model blobs).
// nlohmann::json 3.11 parses and destroys a document without recursing, but dump(), copies,
// value() and == recurse once per level, so a stored document corrupted into 10^5 nested
// brackets would overflow the stack where a reader prints or copies part of it (a model's
// "transforms" are dump()ed). Such readers check this first.
#pragma once

#include <string_view>

namespace mlprod::ml {

// Deeper than anything mlprod writes (a model nests 4 levels: transforms, spline boundary).
inline constexpr int kMaxStoredJsonDepth = 64;

// Whether `text` nests arrays and objects deeper than `max_depth`. A linear scan that skips
// string contents (escapes included); it does not validate the JSON, the parser does that.
bool JsonNestedDeeperThan(std::string_view text, int max_depth);

}  // namespace mlprod::ml
