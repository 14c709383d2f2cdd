// Checksums of stored bytes, so that a flipped bit on disk is found when the bytes are read back
// instead of being served as data.
#pragma once

#include <cstdint>
#include <string_view>

namespace mlprod::ml {

// XXH64 (xxHash's 64-bit hash, seed 0) of `bytes`: not cryptographic, but it catches any
// accidental damage and runs at memory speed, so checking every read costs next to nothing.
uint64_t Xxh64(std::string_view bytes);

}  // namespace mlprod::ml
