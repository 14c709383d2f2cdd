// Xxh64 gives what the reference xxHash library (libxxhash 0.8.1, XXH64 with seed 0) gives.
#include "ml/checksum.h"

#include <gtest/gtest.h>

#include <string>

namespace mlprod::ml {
namespace {

TEST(ChecksumTest, MatchesTheReferenceXxh64) {
  std::string long_input;
  for (int i = 0; i < 3; ++i) {
    for (int b = 0; b < 256; ++b) long_input.push_back(static_cast<char>(b));
  }
  long_input += "xyz";  // 771 bytes: stripes, then 8-, 4- and 1-byte tails
  EXPECT_EQ(Xxh64(""), 0xef46db3751d8e999ULL);
  EXPECT_EQ(Xxh64("a"), 0xd24ec4f1a98c6e5bULL);
  EXPECT_EQ(Xxh64("abc"), 0x44bc2cf5ad770999ULL);
  EXPECT_EQ(Xxh64("0123456789abcdef0123456789abcdef!"), 0x8afff4daac4e677eULL);
  EXPECT_EQ(Xxh64(long_input), 0xe921a1b45bd779f8ULL);
}

TEST(ChecksumTest, EveryFlippedBitChangesTheHash) {
  std::string bytes(100, 'q');
  const uint64_t clean = Xxh64(bytes);
  for (size_t i = 0; i < bytes.size() * 8; ++i) {
    bytes[i / 8] ^= static_cast<char>(1 << (i % 8));
    EXPECT_NE(Xxh64(bytes), clean) << "bit " << i;
    bytes[i / 8] ^= static_cast<char>(1 << (i % 8));
  }
}

}  // namespace
}  // namespace mlprod::ml
