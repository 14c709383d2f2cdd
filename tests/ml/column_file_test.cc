// Column files: what ReadColumnFile gives back is what ReadCsv makes of the same text.
#include "ml/column_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ml/checksum.h"

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
  std::memcpy(&big[file.size() - 24], &huge, 8);  // the footer size
  damaged.push_back(big);
  std::string garbage = file;
  for (size_t i = 0; i < 64 && i < garbage.size(); ++i) garbage[i] = static_cast<char>(0xA5 ^ i);
  damaged.push_back(garbage);
  damaged.push_back(std::string(file.size(), '\0'));
  for (size_t i = 0; i < damaged.size(); ++i) {
    Result<Frame> got = ReadBack(damaged[i]);
    ASSERT_FALSE(got.ok()) << "case " << i;
    EXPECT_EQ(got.status().code(), StatusCode::kDataLoss) << got.status().ToString();
  }
}

// The footer of `file` as JSON, and `file` rebuilt around a changed footer (with its checksum).
nlohmann::json FooterOf(const std::string& file) {
  uint64_t footer_size;
  std::memcpy(&footer_size, &file[file.size() - 24], 8);
  return nlohmann::json::parse(file.substr(file.size() - 24 - footer_size, footer_size));
}
std::string WithFooter(const std::string& file, const nlohmann::json& footer) {
  uint64_t footer_size;
  std::memcpy(&footer_size, &file[file.size() - 24], 8);
  const std::string text = footer.dump();
  const uint64_t size = text.size(), hash = Xxh64(text);
  std::string out = file.substr(0, file.size() - 24 - footer_size) + text;
  out.append(reinterpret_cast<const char*>(&size), 8);
  out.append(reinterpret_cast<const char*>(&hash), 8);
  return out + "MLPCOLS2";
}

TEST(ColumnFileTest, AFlippedBitInTheDataIsDataLossNamingTheColumn) {
  const std::string text = SurveyText();
  const std::string file = WriteColumnFile(text);
  const nlohmann::json footer = FooterOf(file);
  // One bit in the middle of the first block's "score" doubles, then one in "country"'s codes.
  for (const auto& [column, name] : {std::pair<int, std::string>{4, "score"}, {1, "country"}}) {
    std::string damaged = file;
    const uint64_t offset = footer["blocks"][0]["parts"][column][0].get<uint64_t>();
    damaged[offset + 1001] ^= 0x10;
    Result<Frame> got = ReadBack(damaged);
    ASSERT_FALSE(got.ok()) << name;
    EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(got.status().message().find("'" + name + "'"), std::string::npos)
        << got.status().ToString();
    // A read of the other columns only does not touch the damage.
    const std::vector<std::string> other = {"salary"};
    EXPECT_TRUE(ReadBack(damaged, &other).ok());
  }
  std::string footer_damaged = file;
  footer_damaged[file.size() - 40] ^= 0x01;  // inside the footer text
  EXPECT_EQ(ReadBack(footer_damaged).status().code(), StatusCode::kDataLoss);
}

TEST(ColumnFileTest, ARowCountTheDataCannotHoldIsRefusedBeforeAllocating) {
  const std::string file = WriteColumnFile("x,y\n1,a\n2,b\n3,a\n");
  nlohmann::json footer = FooterOf(file);
  for (const uint64_t rows : {uint64_t{1} << 40, uint64_t{1} << 62, uint64_t{1000}}) {
    footer["rows"] = rows;
    Result<Frame> got = ReadBack(WithFooter(file, footer));
    ASSERT_FALSE(got.ok()) << rows;
    EXPECT_EQ(got.status().code(), StatusCode::kDataLoss) << got.status().ToString();
  }
}

TEST(ColumnFileTest, VersionOneFilesWithoutChecksumsAreStillRead) {
  const std::string text = SurveyText();
  const std::string file = WriteColumnFile(text);
  // What the writer made before checksums: no hash in the parts, a 16-byte trailer.
  nlohmann::json footer = FooterOf(file);
  for (nlohmann::json& block : footer["blocks"]) {
    for (nlohmann::json& part : block["parts"]) part.erase(2);
  }
  uint64_t footer_size;
  std::memcpy(&footer_size, &file[file.size() - 24], 8);
  const std::string footer_text = footer.dump();
  const uint64_t size = footer_text.size();
  std::string v1 = "MLPCOLS1" + file.substr(8, file.size() - 24 - footer_size - 8) + footer_text;
  v1.append(reinterpret_cast<const char*>(&size), 8);
  v1 += "MLPCOLS1";
  Result<Frame> got = ReadBack(v1);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  Result<Frame> expected = ReadCsv(text, CsvOptions());
  ASSERT_EQ(got->columns.size(), expected->columns.size());
  for (size_t c = 0; c < got->columns.size(); ++c) {
    ExpectEqualColumns(expected->columns[c], got->columns[c]);
  }
}

}  // namespace
}  // namespace mlprod::ml
