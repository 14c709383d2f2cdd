#include "ml/csv_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace mlprod::ml {
namespace {

Frame MustRead(std::string_view text, const CsvOptions& options = CsvOptions()) {
  Result<Frame> frame = ReadCsv(text, options);
  EXPECT_TRUE(frame.ok()) << frame.status().ToString();
  return frame.ok() ? std::move(frame).value() : Frame();
}

// Expects INVALID_ARGUMENT whose message holds every one of `facts`.
void ExpectInvalid(std::string_view text, const std::vector<std::string>& facts,
                   const CsvOptions& options = CsvOptions()) {
  Result<Frame> frame = ReadCsv(text, options);
  ASSERT_FALSE(frame.ok()) << "parsed: " << text;
  EXPECT_EQ(frame.status().code(), StatusCode::kInvalidArgument);
  for (const std::string& fact : facts) {
    EXPECT_NE(frame.status().message().find(fact), std::string::npos)
        << "message '" << frame.status().message() << "' lacks '" << fact << "'";
  }
}

TEST(CsvReaderTest, InfersNumericCategoricalAndBoolean) {
  Frame f = MustRead(
      "age,country,remote,salary\n"
      "31,Germany,yes,55000.5\n"
      "45,France,no,-1e3\n"
      "28,Germany,yes, 42 \n");
  ASSERT_EQ(f.rows, 3u);
  ASSERT_EQ(f.columns.size(), 4u);

  const Column& age = f.columns[0];
  EXPECT_EQ(age.name, "age");
  EXPECT_EQ(age.type, ColumnType::kNumeric);
  EXPECT_EQ(age.values, (std::vector<double>{31, 45, 28}));
  EXPECT_EQ(age.missing, 0u);

  const Column& country = f.columns[1];
  EXPECT_EQ(country.type, ColumnType::kCategorical);
  EXPECT_EQ(country.levels, (std::vector<std::string>{"France", "Germany"}));
  EXPECT_EQ(country.codes, (std::vector<int32_t>{1, 0, 1}));

  const Column& remote = f.columns[2];
  EXPECT_EQ(remote.type, ColumnType::kBoolean);
  EXPECT_EQ(remote.levels, (std::vector<std::string>{"no", "yes"}));
  EXPECT_EQ(remote.codes, (std::vector<int32_t>{1, 0, 1}));

  const Column& salary = f.columns[3];
  EXPECT_EQ(salary.type, ColumnType::kNumeric);
  EXPECT_EQ(salary.values, (std::vector<double>{55000.5, -1000, 42}));
  EXPECT_EQ(f.Find("salary"), &salary);
}

TEST(CsvReaderTest, BooleanKeepsFileSpellingAndIgnoresCase) {
  Frame f = MustRead("a,b,c\nTRUE,Yes,true\nFALSE,yes,True\nTRUE,No,true\n");
  EXPECT_EQ(f.columns[0].type, ColumnType::kBoolean);
  EXPECT_EQ(f.columns[0].levels, (std::vector<std::string>{"FALSE", "TRUE"}));
  EXPECT_EQ(f.columns[0].codes, (std::vector<int32_t>{1, 0, 1}));
  // Mixed case: each label as most often spelled.
  EXPECT_EQ(f.columns[1].type, ColumnType::kBoolean);
  EXPECT_EQ(f.columns[1].codes, (std::vector<int32_t>{1, 1, 0}));
  EXPECT_EQ(f.columns[1].levels[0], "No");
  // Only the true label present: still boolean, false label spelled in the same style.
  EXPECT_EQ(f.columns[2].type, ColumnType::kBoolean);
  EXPECT_EQ(f.columns[2].levels, (std::vector<std::string>{"false", "true"}));
  EXPECT_EQ(f.columns[2].codes, (std::vector<int32_t>{1, 1, 1}));
}

TEST(CsvReaderTest, MixedBooleanFamiliesAreCategorical) {
  Frame f = MustRead("x,y\nyes,0\ntrue,1\nno,maybe\n");
  EXPECT_EQ(f.columns[0].type, ColumnType::kCategorical);
  EXPECT_EQ(f.columns[0].levels, (std::vector<std::string>{"no", "true", "yes"}));
  // 0/1 alone is numeric; with another word it is categorical, levels sorted by bytes.
  EXPECT_EQ(f.columns[1].type, ColumnType::kCategorical);
  EXPECT_EQ(f.columns[1].levels, (std::vector<std::string>{"0", "1", "maybe"}));
  Frame g = MustRead("z\n0\n1\n1\n");
  EXPECT_EQ(g.columns[0].type, ColumnType::kNumeric);
}

TEST(CsvReaderTest, CategoricalLevelsSortedByBytes) {
  Frame f = MustRead("c\nb\nB\na\n10\n2\nb\n");
  ASSERT_EQ(f.columns[0].type, ColumnType::kCategorical);
  EXPECT_EQ(f.columns[0].levels, (std::vector<std::string>{"10", "2", "B", "a", "b"}));
  EXPECT_EQ(f.columns[0].codes, (std::vector<int32_t>{4, 2, 3, 0, 1, 4}));
}

TEST(CsvReaderTest, MissingCellsAreKeptAsMissing) {
  Frame f = MustRead(
      "n,c,b\n"
      "1,x,yes\n"
      "NA,,no\n"
      " null ,N/A,\n"
      "NaN,y,NA\n"
      "5,\"\",yes\n");
  ASSERT_EQ(f.rows, 5u);
  const Column& n = f.columns[0];
  EXPECT_EQ(n.type, ColumnType::kNumeric);
  EXPECT_EQ(n.missing, 3u);
  EXPECT_EQ(n.values[0], 1);
  EXPECT_TRUE(std::isnan(n.values[1]));
  EXPECT_TRUE(std::isnan(n.values[2]));
  EXPECT_TRUE(std::isnan(n.values[3]));
  EXPECT_EQ(n.values[4], 5);
  EXPECT_TRUE(n.IsMissing(1));
  EXPECT_FALSE(n.IsMissing(4));

  const Column& c = f.columns[1];
  EXPECT_EQ(c.type, ColumnType::kCategorical);
  EXPECT_EQ(c.missing, 3u);
  EXPECT_EQ(c.levels, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(c.codes, (std::vector<int32_t>{0, -1, -1, 1, -1}));

  const Column& b = f.columns[2];
  EXPECT_EQ(b.type, ColumnType::kBoolean);
  EXPECT_EQ(b.missing, 2u);
  EXPECT_EQ(b.codes, (std::vector<int32_t>{1, 0, -1, -1, 1}));
}

TEST(CsvReaderTest, AllMissingColumnIsNumeric) {
  Frame f = MustRead("a,b\n1,\n2,NA\n");
  EXPECT_EQ(f.columns[1].type, ColumnType::kNumeric);
  EXPECT_EQ(f.columns[1].missing, 2u);
  EXPECT_TRUE(f.columns[1].IsMissing(0));
}

TEST(CsvReaderTest, QuotedFieldsHoldDelimitersNewlinesAndQuotes) {
  Frame f = MustRead(
      "id,text,n\n"
      "1,\"a, b\",\"3\"\n"
      "2,\"line one\nline two\",4\n"
      "3,\"she said \"\"hi\"\"\",5\n"
      "4,\"\"\"\",6\n");
  ASSERT_EQ(f.rows, 4u);
  const Column& text = f.columns[1];
  ASSERT_EQ(text.type, ColumnType::kCategorical);
  std::vector<std::string> expected = {"\"", "a, b", "line one\nline two", "she said \"hi\""};
  EXPECT_EQ(text.levels, expected);
  EXPECT_EQ(text.codes, (std::vector<int32_t>{1, 2, 3, 0}));
  // A quoted number is still a number.
  EXPECT_EQ(f.columns[2].type, ColumnType::kNumeric);
  EXPECT_EQ(f.columns[2].values, (std::vector<double>{3, 4, 5, 6}));
}

TEST(CsvReaderTest, CrlfAndNoTrailingNewline) {
  Frame crlf = MustRead("a,b\r\n1,x\r\n2,\"y\r\nz\"\r\n");
  ASSERT_EQ(crlf.rows, 2u);
  EXPECT_EQ(crlf.columns[1].name, "b");
  EXPECT_EQ(crlf.columns[1].levels, (std::vector<std::string>{"x", "y\r\nz"}));
  EXPECT_EQ(crlf.columns[0].values, (std::vector<double>{1, 2}));

  Frame bare = MustRead("a,b\n1,2\n3,4");
  ASSERT_EQ(bare.rows, 2u);
  EXPECT_EQ(bare.columns[1].values, (std::vector<double>{2, 4}));
}

TEST(CsvReaderTest, TrailingBlankLineIgnored) {
  Frame f = MustRead("a,b\n1,2\n\n");
  EXPECT_EQ(f.rows, 1u);
  Frame g = MustRead("a,b\r\n1,2\r\n\r\n");
  EXPECT_EQ(g.rows, 1u);
}

TEST(CsvReaderTest, HeaderOnlyGivesZeroRows) {
  Frame f = MustRead("a,b\n");
  EXPECT_EQ(f.rows, 0u);
  ASSERT_EQ(f.columns.size(), 2u);
  EXPECT_EQ(f.columns[0].name, "a");
  EXPECT_EQ(f.columns[0].type, ColumnType::kNumeric);
}

TEST(CsvReaderTest, TrailingEmptyFieldCounts) {
  Frame f = MustRead("a,b\n1,\n2,3");
  EXPECT_EQ(f.columns[1].missing, 1u);
  EXPECT_EQ(f.columns[1].values[1], 3);
}

TEST(CsvReaderTest, Utf8TextAndByteOrderMark) {
  Frame f = MustRead(
      "\xEF\xBB\xBF"
      "city,n\nM\xC3\xBCnchen,1\n\xE6\x9D\xB1\xE4\xBA\xAC,2\n");
  EXPECT_EQ(f.columns[0].name, "city");
  EXPECT_EQ(f.columns[0].levels,
            (std::vector<std::string>{"M\xC3\xBCnchen", "\xE6\x9D\xB1\xE4\xBA\xAC"}));
}

TEST(CsvReaderTest, CustomDelimiterAndNaValues) {
  CsvOptions options;
  options.delimiter = ';';
  options.na_values = {"-", "-999"};
  Frame f = MustRead("x;y;z\n1,5;-;a,b\n-999;2;-\n3;NA;c\n", options);
  ASSERT_EQ(f.rows, 3u);
  // "1,5" is not a number with ';' as delimiter: x is categorical.
  EXPECT_EQ(f.columns[0].type, ColumnType::kCategorical);
  EXPECT_EQ(f.columns[0].levels, (std::vector<std::string>{"1,5", "3"}));
  EXPECT_EQ(f.columns[0].missing, 1u);
  // "NA" is not missing with this list, so y is categorical.
  EXPECT_EQ(f.columns[1].type, ColumnType::kCategorical);
  EXPECT_EQ(f.columns[1].levels, (std::vector<std::string>{"2", "NA"}));
  EXPECT_EQ(f.columns[1].codes[0], -1);
  EXPECT_EQ(f.columns[2].levels, (std::vector<std::string>{"a,b", "c"}));

  Frame g = MustRead("v\t w\n-999\t1\n4\t-\n", CsvOptions{'\t', {"-999", "-"}, {}});
  EXPECT_EQ(g.columns[1].name, "w");
  EXPECT_EQ(g.columns[0].type, ColumnType::kNumeric);
  EXPECT_TRUE(std::isnan(g.columns[0].values[0]));
  EXPECT_EQ(g.columns[0].values[1], 4);
  EXPECT_EQ(g.columns[1].missing, 1u);
}

TEST(CsvReaderTest, SchemaOverridesInference) {
  CsvOptions options;
  options.schema = {{"zip", ColumnType::kCategorical},
                    {"flag", ColumnType::kBoolean},
                    {"score", ColumnType::kNumeric},
                    {"ok", ColumnType::kCategorical}};
  Frame f = MustRead("zip,flag,score,ok\n10115,1,NA,yes\n80331,0,2.5,no\n10115,,3,yes\n", options);
  const Column& zip = f.columns[0];
  EXPECT_EQ(zip.type, ColumnType::kCategorical);
  EXPECT_EQ(zip.levels, (std::vector<std::string>{"10115", "80331"}));
  EXPECT_EQ(zip.codes, (std::vector<int32_t>{0, 1, 0}));
  const Column& flag = f.columns[1];
  EXPECT_EQ(flag.type, ColumnType::kBoolean);
  EXPECT_EQ(flag.levels, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(flag.codes, (std::vector<int32_t>{1, 0, -1}));
  EXPECT_EQ(flag.missing, 1u);
  EXPECT_EQ(f.columns[2].type, ColumnType::kNumeric);
  EXPECT_EQ(f.columns[2].missing, 1u);
  EXPECT_EQ(f.columns[3].type, ColumnType::kCategorical);
  EXPECT_EQ(f.columns[3].levels, (std::vector<std::string>{"no", "yes"}));
}

TEST(CsvReaderTest, NumbersParseExactly) {
  Frame f = MustRead(
      "x\n0.1\n-0.25\n+3\n.5\n1.\n1e5\n-2.5E-3\n123456789012345\n"
      "1234567890123456789\n3.141592653589793238\n0.000000000000001\n -7 \n");
  ASSERT_EQ(f.columns[0].type, ColumnType::kNumeric);
  const std::vector<double> expected = {0.1,
                                        -0.25,
                                        3.0,
                                        0.5,
                                        1.0,
                                        1e5,
                                        -2.5e-3,
                                        123456789012345.0,
                                        1234567890123456789.0,
                                        3.141592653589793238,
                                        1e-15,
                                        -7};
  ASSERT_EQ(f.columns[0].values.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(f.columns[0].values[i], expected[i]) << "row " << i;  // bit-exact
  }
  // Not numbers: a lone sign, two dots, hex, thousands separators.
  for (const char* text : {"x\n1\n-\n", "x\n1\n1.2.3\n", "x\n1\n0x10\n", "x\n1\n\"1,000\"\n"}) {
    EXPECT_EQ(MustRead(text).columns[0].type, ColumnType::kCategorical) << text;
  }
}

TEST(CsvReaderTest, ColumnTurningTextLateKeepsEarlierCellsAsSpelled) {
  // Column a reads as numbers until the last row; its earlier cells are re-read as text, past
  // quoted fields holding newlines, delimiters and doubled quotes in other columns.
  Frame f = MustRead(
      "a,b\n"
      "1.50,\"x\"\"y\"\n"
      "\"2\",\"p,\nq\"\n"
      "NA,z\n"
      "1.50,w\n"
      "n/a,v\n");
  ASSERT_EQ(f.rows, 5u);
  const Column& a = f.columns[0];
  ASSERT_EQ(a.type, ColumnType::kCategorical);
  EXPECT_EQ(a.levels, (std::vector<std::string>{"1.50", "2", "n/a"}));
  EXPECT_EQ(a.codes, (std::vector<int32_t>{0, 1, -1, 0, 2}));
  EXPECT_EQ(a.missing, 1u);
  const Column& b = f.columns[1];
  EXPECT_EQ(b.levels, (std::vector<std::string>{"p,\nq", "v", "w", "x\"y", "z"}));
}

TEST(CsvReaderTest, ManyDistinctLevels) {
  std::string text = "id,tag\n";
  for (int i = 0; i < 5000; ++i) {
    text += std::to_string(i) + ",t" + std::to_string(i % 1500) + "\n";
  }
  Frame f = MustRead(text);
  const Column& tag = f.columns[1];
  ASSERT_EQ(tag.type, ColumnType::kCategorical);
  ASSERT_EQ(tag.levels.size(), 1500u);
  EXPECT_TRUE(std::is_sorted(tag.levels.begin(), tag.levels.end()));
  for (int i = 0; i < 5000; i += 487) {
    EXPECT_EQ(tag.levels[tag.codes[i]], std::string("t").append(std::to_string(i % 1500)))
        << "row " << i;
  }
}

TEST(CsvReaderTest, NumericNaValueWins) {
  CsvOptions options;
  options.na_values = {"-999", ""};
  Frame f = MustRead("x\n1\n-999\n -999 \n3\n", options);
  EXPECT_EQ(f.columns[0].type, ColumnType::kNumeric);
  EXPECT_EQ(f.columns[0].missing, 2u);
  EXPECT_TRUE(std::isnan(f.columns[0].values[2]));
}

// --- errors: code, line and column ---

TEST(CsvReaderErrorTest, EmptyInput) {
  ExpectInvalid("", {"line 1", "empty"});
  ExpectInvalid("\n\n", {"line 1", "empty"});
}

TEST(CsvReaderErrorTest, EmptyHeaderName) {
  ExpectInvalid("a,,c\n1,2,3\n", {"line 1", "column 2", "empty header"});
  ExpectInvalid("a, \n1,2\n", {"line 1", "column 2"});
}

TEST(CsvReaderErrorTest, DuplicateHeaderName) {
  ExpectInvalid("a,b,a\n1,2,3\n", {"line 1", "column 3", "'a'", "duplicate"});
}

TEST(CsvReaderErrorTest, RowWithTooFewFields) {
  ExpectInvalid("a,b,country,d\n1,2,x,4\n5,6\n", {"line 3", "column 3", "'country'", "2 fields"});
}

TEST(CsvReaderErrorTest, RowWithTooManyFields) {
  ExpectInvalid("a,b\n1,2\n3,4\n5,6,7\n", {"line 4", "column 3", "header has 2"});
}

TEST(CsvReaderErrorTest, LineNumbersCountNewlinesInsideQuotes) {
  // The quoted field spans lines 2-4, so the ragged row starts on line 5.
  ExpectInvalid("a,b\n1,\"x\ny\nz\"\n2\n", {"line 5", "column 2", "'b'"});
  ExpectInvalid("a,b\r\n1,\"x\r\ny\"\r\n2\r\n", {"line 4", "column 2", "'b'"});
}

TEST(CsvReaderErrorTest, BlankLineInsideIsARaggedRow) {
  ExpectInvalid("a,b\n1,2\n\n3,4\n", {"line 3", "column 2"});
}

TEST(CsvReaderErrorTest, UnterminatedQuote) {
  ExpectInvalid("a,name\n1,x\n2,\"open\n3,y\n", {"line 3", "column 2", "'name'", "unterminated"});
  ExpectInvalid("\"a,b\n", {"line 1", "column 1", "unterminated"});
}

TEST(CsvReaderErrorTest, TextAfterClosingQuote) {
  ExpectInvalid("a,b,c\n1,2,3\n4,\"x\"y,6\n", {"line 3", "column 2", "'b'", "closing quote"});
}

TEST(CsvReaderErrorTest, InvalidUtf8) {
  ExpectInvalid("a,city\n1,ok\n2,M\xFCnchen\n", {"line 3", "column 2", "'city'", "UTF-8", "0xFC"});
  // Truncated sequence, overlong encoding, surrogate, in the header and inside quotes.
  ExpectInvalid("a,b\xC3\n1,2\n", {"line 1", "column 2", "UTF-8"});
  ExpectInvalid("a\n\xC0\xAF\n", {"line 2", "column 1", "UTF-8"});
  ExpectInvalid("a\n\"\xED\xA0\x80\"\n", {"line 2", "column 1", "UTF-8"});
}

TEST(CsvReaderErrorTest, SchemaNamesUnknownColumn) {
  CsvOptions options;
  options.schema = {{"nope", ColumnType::kNumeric}};
  ExpectInvalid("a,b\n1,2\n", {"line 1", "'nope'"}, options);
}

TEST(CsvReaderErrorTest, SchemaNumericWithNonNumber) {
  CsvOptions options;
  options.schema = {{"price", ColumnType::kNumeric}};
  ExpectInvalid("id,price\n1,2.5\n2,NA\n3,cheap\n", {"line 4", "column 2", "'price'", "'cheap'"},
                options);
}

TEST(CsvReaderErrorTest, SchemaBooleanWithNonBoolean) {
  CsvOptions options;
  options.schema = {{"flag", ColumnType::kBoolean}};
  ExpectInvalid("flag,x\nyes,1\nno,2\nmaybe,3\n", {"line 4", "column 1", "'flag'", "'maybe'"},
                options);
  // Two families mixed do not make a boolean either.
  ExpectInvalid("flag\nyes\ntrue\n", {"line 3", "column 1", "'true'"}, options);
}

TEST(CsvReaderErrorTest, SchemaErrorLineCountsQuotedNewlines) {
  CsvOptions options;
  options.schema = {{"ok", ColumnType::kBoolean}};
  // Row 3 is on line 6: row 1 spans lines 2-4.
  ExpectInvalid("note,ok\n\"a\nb\nc\",yes\nd,no\nlater,perhaps\n",
                {"line 6", "column 2", "'ok'", "'perhaps'"}, options);
  options.schema = {{"n", ColumnType::kNumeric}};
  ExpectInvalid("note,n\n\"a\r\nb\",1\nd,x\n", {"line 4", "column 2", "'n'", "'x'"}, options);
}

TEST(CsvReaderErrorTest, MutatedInputNeverCrashes) {
  const std::string base =
      "id,name,flag,score\n1,\"a, \"\"b\"\"\",yes,2.5\n2,\"x\ny\",no,NA\n3,M\xC3\xBCnchen,yes,7\n";
  const std::string alphabet = ",\"\n\r ;ab1.-\xC3\xBC\xFF";
  uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>(state >> 33);
  };
  size_t ok = 0, invalid = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string text = base;
    const size_t edits = 1 + next() % 4;
    for (size_t e = 0; e < edits; ++e) {
      const size_t at = next() % text.size();
      const char c = alphabet[next() % alphabet.size()];
      switch (next() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + at, c);
          break;
        default:
          text.erase(at, 1);
          break;
      }
    }
    Result<Frame> f = ReadCsv(text, CsvOptions());
    if (f.ok()) {
      ++ok;
      for (const Column& c : f->columns) {
        const size_t n = c.type == ColumnType::kNumeric ? c.values.size() : c.codes.size();
        ASSERT_EQ(n, f->rows);
        for (int32_t code : c.codes) ASSERT_LT(code, static_cast<int32_t>(c.levels.size()));
      }
    } else {
      ++invalid;
      ASSERT_EQ(f.status().code(), StatusCode::kInvalidArgument) << f.status().ToString();
      ASSERT_NE(f.status().message().find("line "), std::string::npos) << f.status().message();
    }
  }
  EXPECT_GT(ok, 0u);
  EXPECT_GT(invalid, 0u);
}

TEST(CsvReaderErrorTest, NonFiniteNumbersAreNotNumeric) {
  // inf parses with from_chars but is not a finite number: the column is categorical.
  Frame f = MustRead("x\n1\ninf\n");
  EXPECT_EQ(f.columns[0].type, ColumnType::kCategorical);
}

// --- performance: a 20 000-row, 7-column file must parse in a few milliseconds ---

std::string MakeSurveyCsv(size_t rows) {
  static const char* kCountries[] = {"Germany", "France", "United States", "India", "Brazil"};
  std::string text = "id,years_code,country,remote,salary,age,\"note\"\n";
  text.reserve(rows * 64);
  char buf[256];
  for (size_t i = 0; i < rows; ++i) {
    const char* note = i % 10 == 0 ? "\"has, a comma\"" : (i % 17 == 0 ? "NA" : "plain");
    std::snprintf(buf, sizeof buf, "%zu,%.3f,%s,%s,%.2f,%zu,%s\n", i, (i % 37) * 0.731,
                  kCountries[i % 5], i % 3 == 0 ? "yes" : "no", 30000.0 + (i * 7919 % 90000),
                  20 + i % 45, note);
    text += buf;
  }
  return text;
}

TEST(CsvReaderPerfTest, TwentyThousandRowsParseQuickly) {
  const std::string text = MakeSurveyCsv(20000);
  Frame f = MustRead(text);  // warm-up
  ASSERT_EQ(f.rows, 20000u);
  EXPECT_EQ(f.columns[1].type, ColumnType::kNumeric);
  EXPECT_EQ(f.columns[2].levels.size(), 5u);
  EXPECT_EQ(f.columns[3].type, ColumnType::kBoolean);
  EXPECT_EQ(f.columns[6].type, ColumnType::kCategorical);

  constexpr int kRuns = 20;
  double best_ms = 1e9;
  for (int i = 0; i < kRuns; ++i) {
    auto start = std::chrono::steady_clock::now();
    Result<Frame> again = ReadCsv(text, CsvOptions());
    auto stop = std::chrono::steady_clock::now();
    ASSERT_TRUE(again.ok());
    best_ms = std::min(best_ms, std::chrono::duration<double, std::milli>(stop - start).count());
  }
  std::printf("[ CsvPerf  ] 20000 rows x 7 columns (%zu bytes): best of %d = %.2f ms\n",
              text.size(), kRuns, best_ms);
  // Generous bound: the machine is shared and the build may be unoptimised.
  EXPECT_LT(best_ms, 250.0);
}

}  // namespace
}  // namespace mlprod::ml
