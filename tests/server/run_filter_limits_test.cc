// RunFilterLimits: a filter or order-by over the length or nesting caps is INVALID_ARGUMENT
// naming the character position, whatever its size (a filter nested 20 000 levels used to
// overflow the server's stack; issue 10).
#include <gtest/gtest.h>

#include <string>

#include "server/run_filter.h"
#include "tests/thread_stack.h"

namespace mlprod::server {
namespace {

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// The position P of an INVALID_ARGUMENT "...at position P", or -1 for any other answer.
template <typename T>
int ErrorPosition(const Result<T>& result) {
  if (result.ok() || result.status().code() != StatusCode::kInvalidArgument) return -1;
  const std::string& m = result.status().message();
  const auto at = m.find("at position ");
  if (at == std::string::npos) return -1;
  return std::stoi(m.substr(at + 12));
}

RunFilterLimits LongerThanAnyTest() {
  RunFilterLimits limits;
  limits.max_length = 100 << 20;
  return limits;
}

constexpr char kComparison[] = "metrics.rmse > 1";

// n parentheses around one comparison: the k-th '(' is at position k.
std::string Nested(size_t n) { return Repeat("(", n) + kComparison + Repeat(")", n); }

registry::Run RunWithRmse(double rmse) {
  registry::Run run;
  run.id = "r1";
  run.metrics["rmse"] = rmse;
  return run;
}

TEST(RunFilterLimits, HundredThousandLevelsAreRefusedByLengthFirst) {
  auto filter = RunFilter::Parse(Nested(100000));
  EXPECT_EQ(ErrorPosition(filter), 4097) << filter.status().ToString();
}

TEST(RunFilterLimits, HundredThousandLevelsAreRefusedAtTheLevelPastTheCap) {
  auto parens = RunFilter::Parse(Nested(100000), LongerThanAnyTest());
  EXPECT_EQ(ErrorPosition(parens), 101) << parens.status().ToString();
  EXPECT_NE(parens.status().message().find("nested deeper than 100"), std::string::npos);
  // "NOT " per level: the 101st NOT at 1 + 4 * 100.
  auto nots = RunFilter::Parse(Repeat("NOT ", 100000) + kComparison, LongerThanAnyTest());
  EXPECT_EQ(ErrorPosition(nots), 1 + 4 * 100) << nots.status().ToString();
  // Both kinds count together: "(NOT " is 5 characters, two levels.
  auto mixed = RunFilter::Parse(Repeat("(NOT ", 100000), LongerThanAnyTest());
  EXPECT_EQ(ErrorPosition(mixed), 1 + 5 * 50) << mixed.status().ToString();  // the 51st (
}

TEST(RunFilterLimits, ExactlyAtTheDepthLimitParsesAndMatches) {
  auto at = RunFilter::Parse(Nested(100));
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  EXPECT_TRUE(at->Matches(RunWithRmse(2)));
  EXPECT_FALSE(at->Matches(RunWithRmse(0.5)));
  EXPECT_EQ(ErrorPosition(RunFilter::Parse(Nested(101))), 101);

  auto nots = RunFilter::Parse(Repeat("NOT ", 100) + kComparison);
  ASSERT_TRUE(nots.ok()) << nots.status().ToString();
  EXPECT_TRUE(nots->Matches(RunWithRmse(2)));  // an even number of NOTs
  EXPECT_FALSE(nots->Matches(RunWithRmse(0.5)));
  EXPECT_EQ(ErrorPosition(RunFilter::Parse(Repeat("NOT ", 101) + kComparison)), 1 + 4 * 100);

  // AND and OR chains are flat lists: 150 operators nest nothing.
  auto chain = RunFilter::Parse(std::string(kComparison) + Repeat(" AND metrics.rmse > 1", 100) +
                                Repeat(" OR metrics.rmse < 0", 50));
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  EXPECT_TRUE(chain->Matches(RunWithRmse(2)));
}

TEST(RunFilterLimits, DepthLimitIsConfigurableUpToTheCeiling) {
  RunFilterLimits limits = LongerThanAnyTest();
  limits.max_depth = 2;
  EXPECT_TRUE(RunFilter::Parse(Nested(2), limits).ok());
  EXPECT_EQ(ErrorPosition(RunFilter::Parse(Nested(3), limits)), 3);
  limits.max_depth = 1 << 30;  // acts as kMaxRunFilterDepth
  EXPECT_TRUE(RunFilter::Parse(Nested(kMaxRunFilterDepth), limits).ok());
  EXPECT_EQ(ErrorPosition(RunFilter::Parse(Nested(100000), limits)), kMaxRunFilterDepth + 1);
}

TEST(RunFilterLimits, TheCeilingFitsTheServerThreadsStack) {
  const std::string parens = Nested(kMaxRunFilterDepth);
  const std::string nots = Repeat("NOT ", kMaxRunFilterDepth) + kComparison;
  bool parsed = false;
  testutil::OnStackOf(testutil::kParseStack, [&] {
    RunFilterLimits limits = LongerThanAnyTest();
    limits.max_depth = kMaxRunFilterDepth;
    auto a = RunFilter::Parse(parens, limits);
    auto b = RunFilter::Parse(nots, limits);
    parsed = a.ok() && b.ok() && a->Matches(RunWithRmse(2)) && b->Matches(RunWithRmse(2));
  });
  EXPECT_TRUE(parsed);
}

TEST(RunFilterLimits, TenMegabytesAreRefusedAtTheFirstCharacterOverTheLength) {
  const std::string huge = kComparison + Repeat(" AND metrics.rmse > 1", (10 << 20) / 21);
  EXPECT_EQ(ErrorPosition(RunFilter::Parse(huge)), 4097);
  EXPECT_EQ(ErrorPosition(ParseOrderBy(Repeat("metrics.rmse, ", (10 << 20) / 14))), 4097);
  // Positions count characters: "params.a = '" is 12 bytes, then 2-byte 'ä's. Byte 4097 is
  // the first byte of the 2043rd 'ä', character 12 + 2043.
  auto text = RunFilter::Parse("params.a = '" + Repeat("ä", 5 << 20) + "'");
  EXPECT_EQ(ErrorPosition(text), 12 + 2043) << text.status().ToString();
}

TEST(RunFilterLimits, ExactlyAtTheLengthLimitParses) {
  std::string at = kComparison;
  at.resize(4096, ' ');
  EXPECT_TRUE(RunFilter::Parse(at).ok());
  EXPECT_EQ(ErrorPosition(RunFilter::Parse(at + " ")), 4097);
  std::string order = "metrics.rmse DESC";
  order.resize(4096, ' ');
  auto keys = ParseOrderBy(order);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->size(), 1u);
  EXPECT_EQ(ErrorPosition(ParseOrderBy(order + " ")), 4097);
  RunFilterLimits small;
  small.max_length = std::string(kComparison).size();
  EXPECT_TRUE(RunFilter::Parse(kComparison, small).ok());
  EXPECT_EQ(ErrorPosition(RunFilter::Parse(std::string(kComparison) + "0", small)),
            static_cast<int>(small.max_length) + 1);
}

}  // namespace
}  // namespace mlprod::server
