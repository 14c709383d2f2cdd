// CSV reading: RFC 4180 text with a header line into typed columns, either whole (ReadCsv) or as
// the bytes arrive (CsvStreamReader), so an upload of any size is parsed in bounded memory.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ml/frame.h"
#include "ml/status.h"

namespace mlprod::ml {

struct CsvOptions {
  // Field separator; quotes are always '"'.
  char delimiter = ',';
  // Cells equal to one of these (after trimming surrounding spaces) are missing.
  std::vector<std::string> na_values = {"", "NA", "N/A", "null", "NaN"};
  // Column types that override inference, by column name.
  std::map<std::string, ColumnType> schema;
};

// Parses `text` (the whole file). Rows end in LF or CRLF; quoted fields may hold the delimiter,
// quotes doubled as "" and line breaks. Type inference per column, over its non-missing cells:
// all parse as numbers -> numeric; exactly the two spellings of a yes/no or true/false pair
// (case-insensitive) -> boolean with levels {false label, true label} as spelled in the file;
// otherwise categorical with levels sorted by bytes. Blank lines at the end are not rows.
//
// Returns INVALID_ARGUMENT, naming the 1-based line and column (and the column's name where one
// applies), for: empty input or no header, an empty or duplicate header name, a row with more or
// fewer fields than the header, an unterminated quote or text after a closing quote, bytes that
// are not UTF-8, a schema naming an unknown column, a cell that does not fit a schema type.
Result<Frame> ReadCsv(std::string_view text, const CsvOptions& options);

// Where CsvStreamReader hands the rows it has parsed: every column in row blocks (consecutive
// rows, at most CsvStreamReader::kBlockRows of them), block after block.
class ColumnSink {
 public:
  virtual ~ColumnSink() = default;
  // Rows [first_row, first_row + values.size()) of column `column`, all numbers (NaN: missing).
  virtual Status PutNumbers(size_t column, size_t first_row, const std::vector<double>& values) = 0;
  // The same rows of a text column as codes in order of first appearance (-1: missing); the final
  // codes come from CsvColumns::remap. When a later cell shows that a column put as numbers is
  // text after all, its earlier blocks are put again, as codes, over the same rows: the codes
  // replace the numbers.
  virtual Status PutCodes(size_t column, size_t first_row, const std::vector<int32_t>& codes) = 0;
};

// What the reader learnt of the whole file once it has seen the end.
struct CsvColumns {
  size_t rows = 0;
  // Name, type, missing count and levels of each column; no values or codes.
  std::vector<Column> columns;
  // Per column: the final code (index into levels) of each code put to the sink; empty for
  // numeric columns.
  std::vector<std::vector<int32_t>> remap;
};

// A ColumnSink that keeps every block in memory and makes a Frame of them.
class FrameSink final : public ColumnSink {
 public:
  Status PutNumbers(size_t column, size_t first_row, const std::vector<double>& values) override;
  Status PutCodes(size_t column, size_t first_row, const std::vector<int32_t>& codes) override;
  // The frame of the blocks put so far, typed and coded as `layout` (from Finish) says.
  Frame Take(CsvColumns layout);

 private:
  Column& Slot(size_t column);
  template <typename T>
  static Status Put(std::vector<T>* out, size_t first_row, const std::vector<T>& block);

  std::vector<Column> columns_;
};

// Reads back [offset, offset + length) of the bytes fed so far (offsets count from the first
// byte fed), into *scratch if it must copy. Needed only when a column that held numbers turns out
// to be text, to re-read that column's earlier cells.
using ReadFedBytes =
    std::function<Result<std::string_view>(uint64_t offset, size_t length, std::string* scratch)>;

// Parses CSV bytes in pieces of any size with ReadCsv's rules and messages. Complete rows are
// parsed as they arrive and handed to the sink block by block; memory holds one block, the
// distinct cells of text columns and at most one incomplete row, whatever the file's size.
class CsvStreamReader {
 public:
  static constexpr size_t kBlockRows = 65536;
  // A block also ends once its rows took this many bytes of text, so a re-read stays bounded.
  static constexpr size_t kBlockBytes = 16 << 20;

  // `sink` and the callers of `read_back` must outlive the reader.
  CsvStreamReader(CsvOptions options, ColumnSink* sink, ReadFedBytes read_back);
  ~CsvStreamReader();
  CsvStreamReader(const CsvStreamReader&) = delete;
  CsvStreamReader& operator=(const CsvStreamReader&) = delete;

  // The next bytes of the file. An error is final: feed nothing more after it.
  Status Feed(std::string_view bytes);
  // Marks the end of the file: parses what is left, puts the last block and decides the types.
  Result<CsvColumns> Finish();

  // Test-only: ends blocks after `rows` (>= 1) rows instead of kBlockRows, so that fuzzers reach
  // the paths of a many-block file (a column turning to text re-reads earlier blocks) with a few
  // hundred bytes. Call before the first Feed.
  void SetBlockRowsForTesting(size_t rows);

 private:
  class Parser;
  std::unique_ptr<Parser> parser_;
};

}  // namespace mlprod::ml
