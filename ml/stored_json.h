// Guards for JSON this process wrote and reads back from storage (model blobs, column-file
// footers), which a damaged disk may have turned into anything.
//
// nlohmann::json 3.11 parses and destroys a document without recursing, but dump(), copies,
// value() and == recurse once per level, so a document corrupted into 10^5 nested brackets
// would overflow the stack where a reader prints or copies part of it (a model's "transforms"
// are dump()ed): readers check JsonNestedDeeperThan first. And get<int>() or get<size_t>() of a
// number that does not fit casts with undefined behaviour (1e300) or wraps (-1): readers take
// counts and offsets through JsonInteger.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string_view>

namespace mlprod::ml {

// Deeper than anything mlprod writes (a model nests 4 levels: transforms, spline boundary).
inline constexpr int kMaxStoredJsonDepth = 64;

// Whether `text` nests arrays and objects deeper than `max_depth`. A linear scan that skips
// string contents (escapes included); it does not validate the JSON, the parser does that.
bool JsonNestedDeeperThan(std::string_view text, int max_depth);

// The integer `value` holds when it is a JSON integer in [lo, hi]; nullopt for any other value
// (a float, a string, an integer out of range).
std::optional<int64_t> JsonInteger(const nlohmann::json& value, int64_t lo, int64_t hi);

}  // namespace mlprod::ml
