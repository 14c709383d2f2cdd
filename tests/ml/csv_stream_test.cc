// CsvStreamReader: the same frame and the same errors as ReadCsv, however the bytes are cut.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ml/csv_reader.h"

namespace mlprod::ml {
namespace {

// Feeds `text` in pieces of `piece` bytes (the last may be shorter).
Result<Frame> ReadInPieces(std::string_view text, size_t piece,
                           const CsvOptions& options = CsvOptions()) {
  FrameSink sink;
  CsvStreamReader reader(options, &sink, [text](uint64_t offset, size_t length, std::string*) {
    return Result<std::string_view>(text.substr(offset, length));
  });
  for (size_t at = 0; at < text.size(); at += piece) {
    MLPROD_RETURN_IF_ERROR(reader.Feed(text.substr(at, piece)));
  }
  MLPROD_ASSIGN_OR_RETURN(CsvColumns layout, reader.Finish());
  return sink.Take(std::move(layout));
}

void ExpectSameFrame(const Frame& a, const Frame& b, const std::string& where) {
  ASSERT_EQ(a.rows, b.rows) << where;
  ASSERT_EQ(a.columns.size(), b.columns.size()) << where;
  for (size_t c = 0; c < a.columns.size(); ++c) {
    const Column& x = a.columns[c];
    const Column& y = b.columns[c];
    EXPECT_EQ(x.name, y.name) << where;
    EXPECT_EQ(x.type, y.type) << where << " column " << x.name;
    EXPECT_EQ(x.missing, y.missing) << where << " column " << x.name;
    EXPECT_EQ(x.levels, y.levels) << where << " column " << x.name;
    EXPECT_EQ(x.codes, y.codes) << where << " column " << x.name;
    ASSERT_EQ(x.values.size(), y.values.size()) << where << " column " << x.name;
    for (size_t r = 0; r < x.values.size(); ++r) {
      if (std::isnan(x.values[r])) {
        EXPECT_TRUE(std::isnan(y.values[r])) << where << " row " << r;
      } else {
        EXPECT_EQ(x.values[r], y.values[r]) << where << " row " << r;
      }
    }
  }
}

// Inputs with every construct a piece boundary can cut: CRLF and lone CR, quoted delimiters,
// line breaks and doubled quotes, multi-byte UTF-8, a byte order mark, blank lines inside (one
// column) and at the end, a last row without a line break, a column that turns out to be text.
const std::vector<std::string>& TrickyInputs() {
  static const std::vector<std::string> inputs = {
      "a,b\r\n1,x\r\n2,\"y\r\nz\"\r\n",
      "\xEF\xBB\xBF"
      "city,n\nM\xC3\xBCnchen,1\n\xE6\x9D\xB1\xE4\xBA\xAC,2\n\n\n",
      "id,quote\n1,\"he said \"\"hi\"\", twice\"\n2,\"a,b\"\n3,plain\n",
      "x\n1\n\n3\n\n",
      "a,b\r1,2\r3,4",
      "n,flag\n1,yes\n2,no\n3,oops\n4,yes\n",
      "v,w\n1,1.5\n2,NA\n3,\n4,seven\n5,-2e3\n",
      "h\n\"multi\nline\ncell\"\n\"\"\n",
      "alpha,beta,gamma\n1000000,2000000,x\n3000000,\"4,000,000\",y\r\n5,M\xC3\xBCnchen,\n"
      "6000000,7000000,zzzzzzzzzzzzzzzzzzzzzzzzzzzz\n,,\n",
  };
  return inputs;
}

TEST(CsvStreamTest, EveryPieceSizeGivesTheWholeTextsFrame) {
  for (const std::string& text : TrickyInputs()) {
    Result<Frame> whole = ReadCsv(text, CsvOptions());
    ASSERT_TRUE(whole.ok()) << whole.status().ToString() << " for " << text;
    for (size_t piece = 1; piece <= text.size(); ++piece) {
      Result<Frame> pieces = ReadInPieces(text, piece);
      ASSERT_TRUE(pieces.ok()) << pieces.status().ToString() << " piece " << piece;
      ExpectSameFrame(*whole, *pieces, "piece " + std::to_string(piece) + " of " + text);
    }
  }
}

TEST(CsvStreamTest, ErrorsAreTheSameWhateverThePieces) {
  const std::vector<std::string> bad = {
      "a,name\n1,x\n2,\"open\n3,y\n",  // unterminated quote, line 3
      "a,b,c\n1,2,3\n4,\"x\"y,6\n",    // text after a closing quote
      "a,city\n1,ok\n2,M\xFCnchen\n",  // not UTF-8, at byte offset 18
      "a,b\n1,2\n\n3,4\n",             // a blank line inside is a short row
      "a,b\n1,2,3\n",                  // too many fields
      "a,a\n1,2\n",                    // duplicate header
      "",                              // empty
      "\n\n",                          // only blank lines
      // Rows long enough for the sixteen-byte splitter, which leaves them to the tokenizer.
      "alpha,beta\n1000000,2000000\n3000000,4000000,5000000\n6,7\n",
      "alpha,beta\n1000000,2000000\n3000000\n6,7\n",
      "alpha,beta\n1000000,2000000\n3000000,\"unterminated 4000000\n",
      "alpha,beta\n1000000,2000000\n3000000,M\xFCnchen and more text\n",
      "alpha,beta\n1000000,2000000\n3000000,4000000\r\n5000000\r\n",
  };
  for (const std::string& text : bad) {
    Result<Frame> whole = ReadCsv(text, CsvOptions());
    ASSERT_FALSE(whole.ok()) << text;
    for (size_t piece = 1; piece <= std::max<size_t>(text.size(), 1); ++piece) {
      Result<Frame> pieces = ReadInPieces(text, piece);
      ASSERT_FALSE(pieces.ok()) << "piece " << piece << " of " << text;
      EXPECT_EQ(pieces.status().ToString(), whole.status().ToString()) << "piece " << piece;
    }
  }
}

// Builds "n,label\n" and `rows` rows; row `text_row` (0-based) of column n is "n/a-ish".
std::string LongFile(size_t rows, size_t text_row) {
  std::string text = "n,label\n";
  for (size_t r = 0; r < rows; ++r) {
    text += r == text_row ? "about 7" : std::to_string(r % 1000);
    text += r % 3 == 0 ? ",a\n" : ",\"b\nc\"\n";  // a quoted line break every third row
  }
  return text;
}

TEST(CsvStreamTest, ColumnTurningToTextAfterSeveralBlocksRereadsItsEarlierCells) {
  const size_t rows = 3 * CsvStreamReader::kBlockRows + 123;
  const std::string text = LongFile(rows, rows - 5);
  Result<Frame> f = ReadInPieces(text, 1 << 16);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->rows, rows);
  const Column& n = f->columns[0];
  ASSERT_EQ(n.type, ColumnType::kCategorical);
  ASSERT_EQ(n.codes.size(), rows);
  for (size_t r : {size_t{0}, size_t{1}, CsvStreamReader::kBlockRows + 7, rows - 5, rows - 1}) {
    const std::string expected = r == rows - 5 ? "about 7" : std::to_string(r % 1000);
    EXPECT_EQ(n.levels[static_cast<size_t>(n.codes[r])], expected) << "row " << r;
  }
  EXPECT_EQ(n.levels.size(), 1001u);  // 0..999 and "about 7"
  const Column& label = f->columns[1];
  EXPECT_EQ(label.levels, (std::vector<std::string>{"a", "b\nc"}));
  EXPECT_EQ(label.codes[1], 1);

  // And the whole text at once agrees.
  Result<Frame> whole = ReadCsv(text, CsvOptions());
  ASSERT_TRUE(whole.ok());
  ExpectSameFrame(*whole, *f, "long file");
}

TEST(CsvStreamTest, LaterErrorsNameTheirLineAcrossBlocks) {
  std::string text = LongFile(CsvStreamReader::kBlockRows + 10, size_t(-1));
  text += "5\n";  // one field short, on the last line
  // Header + rows + the quoted line break of every third row.
  const size_t rows = CsvStreamReader::kBlockRows + 10;
  const size_t line = 1 + rows + (rows - (rows + 2) / 3) + 1;
  Result<Frame> f = ReadInPieces(text, 4096);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("line " + std::to_string(line) + ", column 2 ('label')"),
            std::string::npos)
      << f.status().message();
}

// Counts what a sink receives: blocks never exceed kBlockRows rows.
class BlockCounter final : public ColumnSink {
 public:
  Status PutNumbers(size_t, size_t, const std::vector<double>& values) override {
    largest = std::max(largest, values.size());
    return Status::Ok();
  }
  Status PutCodes(size_t, size_t, const std::vector<int32_t>& codes) override {
    largest = std::max(largest, codes.size());
    return Status::Ok();
  }
  size_t largest = 0;
};

TEST(CsvStreamTest, BlocksStayWithinTheirBound) {
  const std::string text = LongFile(2 * CsvStreamReader::kBlockRows + 1, size_t(-1));
  BlockCounter counter;
  CsvStreamReader reader(CsvOptions(), &counter, nullptr);
  ASSERT_TRUE(reader.Feed(text).ok());
  Result<CsvColumns> layout = reader.Finish();
  ASSERT_TRUE(layout.ok()) << layout.status().ToString();
  EXPECT_EQ(layout->rows, 2 * CsvStreamReader::kBlockRows + 1);
  EXPECT_EQ(counter.largest, CsvStreamReader::kBlockRows);
}

}  // namespace
}  // namespace mlprod::ml
