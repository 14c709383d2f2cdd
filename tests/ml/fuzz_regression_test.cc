// Inputs the libFuzzer targets of tests/fuzz found, each kept as the unit test of its fix. Some
// findings were undefined behaviour that only a sanitizer reports: their tests check the
// behaviour here and catch the UB again in a sanitizer build (the asan and fuzz presets).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ml/csv_reader.h"

namespace mlprod::ml {
namespace {

// csv_reader_fuzzer: a blank line within a one-column file is a row whose cell is an empty view
// with no data; comparing it with a known cell passed a null pointer to memcmp.
TEST(FuzzRegression, BlankLinesAmongTextCellsAreMissingCells) {
  auto f = ReadCsv("g\nx\n\n\ny\nx\n", CsvOptions{});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->rows, 5u);
  const Column& g = f->columns[0];
  EXPECT_EQ(g.type, ColumnType::kCategorical);
  EXPECT_EQ(g.levels, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(g.codes, (std::vector<int32_t>{0, -1, -1, 1, 0}));
  EXPECT_EQ(g.missing, 2u);
}

}  // namespace
}  // namespace mlprod::ml
