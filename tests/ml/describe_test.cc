#include "ml/describe.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "ml/csv_reader.h"
#include "tests/ml/test_columns.h"

namespace mlprod::ml {
namespace {

using testing::CodedColumn;
using testing::NumericColumn;
using testing::ReadReference;

using LevelCounts = std::vector<std::pair<std::string, size_t>>;

Frame OneColumn(Column c) {
  Frame f;
  f.rows = c.type == ColumnType::kNumeric ? c.values.size() : c.codes.size();
  f.columns.push_back(std::move(c));
  return f;
}

TEST(DescribeTest, OneToTenMatchesRType7) {
  std::vector<double> x;
  for (int i = 1; i <= 10; ++i) x.push_back(i);
  std::vector<ColumnSummary> s = Describe(OneColumn(NumericColumn("x", x)));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].name, "x");
  EXPECT_EQ(s[0].type, ColumnType::kNumeric);
  EXPECT_EQ(s[0].count, 10u);
  EXPECT_EQ(s[0].missing, 0u);
  EXPECT_DOUBLE_EQ(s[0].mean, 5.5);
  // sd(1:10) in R: sqrt(82.5 / 9)
  EXPECT_NEAR(s[0].sd, 3.0276503540974917, 1e-12);
  EXPECT_DOUBLE_EQ(s[0].min, 1);
  EXPECT_DOUBLE_EQ(s[0].q1, 3.25);
  EXPECT_DOUBLE_EQ(s[0].median, 5.5);
  EXPECT_DOUBLE_EQ(s[0].q3, 7.75);
  EXPECT_DOUBLE_EQ(s[0].max, 10);
  EXPECT_TRUE(s[0].level_counts.empty());
}

TEST(DescribeTest, SkipsMissingAndSortsUnorderedValues) {
  const double nan = std::nan("");
  // Non-missing {1, 3, 7, 10}; R: quantile(c(1,3,7,10)) = 1, 2.5, 5, 7.75, 10; sd = sqrt(16.25).
  std::vector<ColumnSummary> s = Describe(OneColumn(NumericColumn("y", {7, nan, 1, 3, nan, 10})));
  EXPECT_EQ(s[0].count, 4u);
  EXPECT_EQ(s[0].missing, 2u);
  EXPECT_DOUBLE_EQ(s[0].mean, 5.25);
  EXPECT_NEAR(s[0].sd, std::sqrt(16.25), 1e-12);
  EXPECT_DOUBLE_EQ(s[0].min, 1);
  EXPECT_DOUBLE_EQ(s[0].q1, 2.5);
  EXPECT_DOUBLE_EQ(s[0].median, 5);
  EXPECT_DOUBLE_EQ(s[0].q3, 7.75);
  EXPECT_DOUBLE_EQ(s[0].max, 10);
}

TEST(DescribeTest, OddCountMedianIsMiddleValue) {
  // R: quantile(c(2, 4, 4, 5, 9)) = 2, 4, 4, 5, 9
  std::vector<ColumnSummary> s = Describe(OneColumn(NumericColumn("z", {9, 4, 2, 5, 4})));
  EXPECT_DOUBLE_EQ(s[0].q1, 4);
  EXPECT_DOUBLE_EQ(s[0].median, 4);
  EXPECT_DOUBLE_EQ(s[0].q3, 5);
  EXPECT_DOUBLE_EQ(s[0].mean, 4.8);
  // var = (7.84 + 0.64 + 0.64 + 0.04 + 17.64) / 4 = 6.7
  EXPECT_NEAR(s[0].sd, std::sqrt(6.7), 1e-12);
}

TEST(DescribeTest, SingleValueHasNoSd) {
  std::vector<ColumnSummary> s = Describe(OneColumn(NumericColumn("one", {4})));
  EXPECT_EQ(s[0].count, 1u);
  EXPECT_DOUBLE_EQ(s[0].mean, 4);
  EXPECT_TRUE(std::isnan(s[0].sd));
  EXPECT_DOUBLE_EQ(s[0].min, 4);
  EXPECT_DOUBLE_EQ(s[0].q1, 4);
  EXPECT_DOUBLE_EQ(s[0].median, 4);
  EXPECT_DOUBLE_EQ(s[0].q3, 4);
  EXPECT_DOUBLE_EQ(s[0].max, 4);
}

TEST(DescribeTest, AllMissingNumericIsNaN) {
  const double nan = std::nan("");
  std::vector<ColumnSummary> s = Describe(OneColumn(NumericColumn("empty", {nan, nan})));
  EXPECT_EQ(s[0].count, 0u);
  EXPECT_EQ(s[0].missing, 2u);
  EXPECT_TRUE(std::isnan(s[0].mean));
  EXPECT_TRUE(std::isnan(s[0].sd));
  EXPECT_TRUE(std::isnan(s[0].min));
  EXPECT_TRUE(std::isnan(s[0].median));
  EXPECT_TRUE(std::isnan(s[0].max));
}

TEST(DescribeTest, LargeOffsetSdIsAccurate) {
  // A naive sum-of-squares formula loses every digit here.
  std::vector<double> x = {1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16};
  std::vector<ColumnSummary> s = Describe(OneColumn(NumericColumn("big", x)));
  EXPECT_DOUBLE_EQ(s[0].mean, 1e9 + 10);
  EXPECT_NEAR(s[0].sd, std::sqrt(30.0), 1e-9);
}

TEST(DescribeTest, CategoricalLevelCountsMostFrequentFirstTiesByLevelOrder) {
  Column c = CodedColumn("country", ColumnType::kCategorical, {"a", "b", "c", "d"},
                         {2, 1, 0, -1, 1, 2, 0, 1});
  std::vector<ColumnSummary> s = Describe(OneColumn(c));
  EXPECT_EQ(s[0].type, ColumnType::kCategorical);
  EXPECT_EQ(s[0].count, 7u);
  EXPECT_EQ(s[0].missing, 1u);
  EXPECT_EQ(s[0].level_counts, (LevelCounts{{"b", 3}, {"a", 2}, {"c", 2}, {"d", 0}}));
  EXPECT_TRUE(std::isnan(s[0].mean));
}

TEST(DescribeTest, BooleanLevelCounts) {
  Column c = CodedColumn("remote", ColumnType::kBoolean, {"no", "yes"}, {1, 1, 0, -1, -1});
  std::vector<ColumnSummary> s = Describe(OneColumn(c));
  EXPECT_EQ(s[0].type, ColumnType::kBoolean);
  EXPECT_EQ(s[0].count, 3u);
  EXPECT_EQ(s[0].missing, 2u);
  EXPECT_EQ(s[0].level_counts, (LevelCounts{{"yes", 2}, {"no", 1}}));
}

TEST(DescribeTest, SummarisesEveryColumnOfAReadCsvFrame) {
  Result<Frame> frame = ReadCsv(
      "x,country,remote\n"
      "1,DE,yes\n2,FR,no\n3,DE,yes\n4,NA,yes\nNA,US,no\n",
      CsvOptions());
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  std::vector<ColumnSummary> s = Describe(*frame);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].name, "x");
  EXPECT_EQ(s[0].count, 4u);
  EXPECT_EQ(s[0].missing, 1u);
  EXPECT_DOUBLE_EQ(s[0].median, 2.5);  // R: quantile(1:4) = 1, 1.75, 2.5, 3.25, 4
  EXPECT_DOUBLE_EQ(s[0].q1, 1.75);
  EXPECT_DOUBLE_EQ(s[0].q3, 3.25);
  EXPECT_EQ(s[1].name, "country");
  EXPECT_EQ(s[1].missing, 1u);
  EXPECT_EQ(s[1].level_counts, (LevelCounts{{"DE", 2}, {"FR", 1}, {"US", 1}}));
  EXPECT_EQ(s[2].type, ColumnType::kBoolean);
  EXPECT_EQ(s[2].level_counts, (LevelCounts{{"yes", 3}, {"no", 2}}));
}

TEST(DescribeTest, EmptyFrameGivesNoSummaries) { EXPECT_TRUE(Describe(Frame()).empty()); }

}  // namespace
}  // namespace mlprod::ml
