// Column files: what ReadColumnFile gives back is what ReadCsv makes of the same text.
#include "ml/column_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace mlprod::ml {
namespace {

// Parses `text` in pieces straight into a column file held in a string.
std::string WriteColumnFile(std::string_view text, const CsvOptions& options = CsvOptions()) {
  std::string file;
  ColumnFileWriter writer([&file](std::string_view bytes) {
    file.append(bytes);
    return Status::Ok();
  });
  CsvStreamReader reader(options, &writer, [text](uint64_t offset, size_t length, std::string*) {
    return Result<std::string_view>(text.substr(offset, length));
  });
  for (size_t at = 0; at < text.size(); at += 4096) {
    EXPECT_TRUE(reader.Feed(text.substr(at, 4096)).ok());
  }
  Result<CsvColumns> layout = reader.Finish();
  EXPECT_TRUE(layout.ok()) << layout.status().ToString();
  EXPECT_TRUE(writer.Finish(*layout).ok());
  return file;
}

Result<Frame> ReadBack(const std::string& file, const std::vector<std::string>* only = nullptr) {
  return ReadColumnFile(
      [&file](uint64_t offset, size_t length, char* out) {
        if (offset + length > file.size()) return Status::Internal("read past the end");
        std::memcpy(out, file.data() + offset, length);
        return Status::Ok();
      },
      file.size(), only);
}

void ExpectEqualColumns(const Column& x, const Column& y) {
  EXPECT_EQ(x.name, y.name);
  EXPECT_EQ(x.type, y.type) << x.name;
  EXPECT_EQ(x.missing, y.missing) << x.name;
  EXPECT_EQ(x.levels, y.levels) << x.name;
  EXPECT_EQ(x.codes, y.codes) << x.name;
  ASSERT_EQ(x.values.size(), y.values.size()) << x.name;
  for (size_t r = 0; r < x.values.size(); ++r) {
    EXPECT_TRUE(x.values[r] == y.values[r] || (std::isnan(x.values[r]) && std::isnan(y.values[r])))
        << x.name << " row " << r;
  }
}

// Three blocks and a bit; column `n` turns to text in the last block, so its earlier blocks are
// written twice (numbers, then codes) and the footer must point at the codes.
std::string SurveyText() {
  const size_t rows = 2 * CsvStreamReader::kBlockRows + 500;
  std::string text = "salary,country,remote,n,score\n";
  const char* countries[] = {"Germany", "France", "Brazil", "\"Korea, South\""};
  for (size_t r = 0; r < rows; ++r) {
    text += std::to_string(40000 + (r * 7919) % 50000) + ",";
    text += r % 97 == 0 ? "" : countries[r % 4];
    text += r % 2 ? ",yes," : ",no,";
    text += r == rows - 3 ? "n/a" : std::to_string(r % 13);
    text += r % 50 == 0 ? ",NA\n" : "," + std::to_string(static_cast<double>(r) / 8) + "\n";
  }
  return text;
}

TEST(ColumnFileTest, RoundTripsWhatReadCsvReads) {
  const std::string text = SurveyText();
  Result<Frame> expected = ReadCsv(text, CsvOptions());
  ASSERT_TRUE(expected.ok());
  ASSERT_EQ(expected->columns[3].type, ColumnType::kCategorical);  // n turned to text
  const std::string file = WriteColumnFile(text);
  EXPECT_LT(file.size(), text.size() * 2);
  Result<Frame> got = ReadBack(file);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->rows, expected->rows);
  ASSERT_EQ(got->columns.size(), expected->columns.size());
  for (size_t c = 0; c < got->columns.size(); ++c) {
    ExpectEqualColumns(expected->columns[c], got->columns[c]);
  }
}

TEST(ColumnFileTest, ReadsOnlyTheColumnsAsked) {
  const std::string text = SurveyText();
  const std::string file = WriteColumnFile(text);
  const std::vector<std::string> only = {"score", "country"};
  Result<Frame> got = ReadBack(file, &only);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->columns.size(), 2u);
  EXPECT_EQ(got->columns[0].name, "country");  // the file's order
  EXPECT_EQ(got->columns[1].name, "score");
  Result<Frame> all = ReadCsv(text, CsvOptions());
  ExpectEqualColumns(all->columns[1], got->columns[0]);
  ExpectEqualColumns(all->columns[4], got->columns[1]);

  const std::vector<std::string> unknown = {"salary", "bonus"};
  Result<Frame> missing = ReadBack(file, &unknown);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'bonus'"), std::string::npos);
}

TEST(ColumnFileTest, HeaderOnlyFileHasNoRows) {
  Result<Frame> got = ReadBack(WriteColumnFile("a,b\n"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->rows, 0u);
  ASSERT_EQ(got->columns.size(), 2u);
  EXPECT_TRUE(got->columns[0].values.empty());
}

TEST(ColumnFileTest, DamageIsDataLoss) {
  const std::string file = WriteColumnFile("x,y\n1,a\n2,b\n3,a\n");
  std::vector<std::string> damaged = {
      file.substr(0, file.size() - 1),  // cut short
      file.substr(0, 10),               // most of it gone
  };
  std::string footer = file;
  footer[file.size() - 20] = '#';  // the footer's closing brace
  damaged.push_back(footer);
  std::string big = file;
  const uint64_t huge = uint64_t{1} << 40;
  std::memcpy(&big[file.size() - 16], &huge, 8);
  damaged.push_back(big);
  for (size_t i = 0; i < damaged.size(); ++i) {
    Result<Frame> got = ReadBack(damaged[i]);
    ASSERT_FALSE(got.ok()) << "case " << i;
    EXPECT_EQ(got.status().code(), StatusCode::kDataLoss) << got.status().ToString();
  }
}

}  // namespace
}  // namespace mlprod::ml
