// CSV reading: RFC 4180 text with a header line into a typed Frame.
#pragma once

#include <map>
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
// otherwise categorical with levels sorted by bytes.
//
// Returns INVALID_ARGUMENT, naming the 1-based line and column (and the column's name where one
// applies), for: empty input or no header, an empty or duplicate header name, a row with more or
// fewer fields than the header, an unterminated quote or text after a closing quote, bytes that
// are not UTF-8, a schema naming an unknown column, a cell that does not fit a schema type.
Result<Frame> ReadCsv(std::string_view text, const CsvOptions& options);

}  // namespace mlprod::ml
