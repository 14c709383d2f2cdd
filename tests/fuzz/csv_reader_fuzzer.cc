// CSV reader: ReadCsv on the whole buffer, and CsvStreamReader fed in pieces with small blocks
// into a FrameSink and into a ColumnFileWriter whose file is read back. The three must agree:
// the same error message, or the same frame bit for bit.
//
// Input: byte 0 chooses the options (bits 0-1 delimiter , ; tab |; bits 2-3 block rows 1, 2, 3
// or the default; bits 4-5 a schema entry; bit 6 custom NA values), byte 1 the piece size
// (1-256 bytes), the rest is the CSV text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ml/column_file.h"
#include "ml/csv_reader.h"
#include "ml/describe.h"
#include "tests/fuzz/fuzz_check.h"

namespace mlprod::fuzz {
namespace {

using ml::CsvColumns;
using ml::CsvOptions;
using ml::CsvStreamReader;
using ml::Frame;

CsvOptions OptionsFrom(uint8_t config) {
  CsvOptions options;
  static constexpr char kDelimiters[] = {',', ';', '\t', '|'};
  options.delimiter = kDelimiters[config & 3];
  switch ((config >> 4) & 3) {
    case 1:
      options.schema["x"] = ml::ColumnType::kNumeric;
      break;
    case 2:
      options.schema["b"] = ml::ColumnType::kBoolean;
      break;
    case 3:
      options.schema["g"] = ml::ColumnType::kCategorical;
      break;
    default:
      break;
  }
  if (config & 0x40) options.na_values = {"", "-", "?"};
  return options;
}

// Feeds `text` to a reader over `sink` in pieces of `piece` bytes; checks that the reader only
// reads back bytes it was fed.
Result<CsvColumns> Stream(std::string_view text, const CsvOptions& options, size_t block_rows,
                          size_t piece, ml::ColumnSink* sink) {
  size_t fed = 0;
  CsvStreamReader reader(
      options, sink, [&](uint64_t offset, size_t length, std::string*) -> Result<std::string_view> {
        FUZZ_CHECK(offset <= fed && length <= fed - offset, "read back beyond the bytes fed");
        return text.substr(offset, length);
      });
  if (block_rows != 0) reader.SetBlockRowsForTesting(block_rows);
  for (size_t at = 0; at < text.size(); at += piece) {
    const std::string_view part = text.substr(at, piece);
    fed += part.size();
    MLPROD_RETURN_IF_ERROR(reader.Feed(part));
  }
  return reader.Finish();
}

void FuzzOne(const uint8_t* data, size_t size) {
  if (size < 2) return;
  const CsvOptions options = OptionsFrom(data[0]);
  static constexpr size_t kBlockRows[] = {1, 2, 3, 0};  // 0: the reader's own
  const size_t block_rows = kBlockRows[(data[0] >> 2) & 3];
  const size_t piece = size_t{data[1]} + 1;
  const std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);

  const Result<Frame> whole = ml::ReadCsv(text, options);

  ml::FrameSink frame_sink;
  Result<CsvColumns> streamed = Stream(text, options, block_rows, piece, &frame_sink);
  FUZZ_CHECK(whole.ok() == streamed.ok(), "whole: " + whole.status().ToString() +
                                              " / streamed: " + streamed.status().ToString());
  if (!whole.ok()) {
    FUZZ_CHECK(whole.status().ToString() == streamed.status().ToString(),
               whole.status().ToString() + " / " + streamed.status().ToString());
    FUZZ_CHECK(whole.status().code() == StatusCode::kInvalidArgument, whole.status().ToString());
    return;
  }
  const Frame from_stream = frame_sink.Take(*streamed);
  FUZZ_CHECK(FrameDifference(*whole, from_stream).empty(),
             "streamed frame: " + FrameDifference(*whole, from_stream));

  // The same pieces into a column file, then read back whole and by one column.
  std::string file;
  ml::ColumnFileWriter writer([&](std::string_view bytes) {
    file.append(bytes);
    return Status::Ok();
  });
  Result<CsvColumns> layout = Stream(text, options, block_rows, piece, &writer);
  FUZZ_CHECK(layout.ok(), layout.status().ToString());
  const Status finished = writer.Finish(*layout);
  FUZZ_CHECK(finished.ok(), finished.ToString());
  const ml::ReadAt read = [&](uint64_t offset, size_t length, char* out) {
    FUZZ_CHECK(offset <= file.size() && length <= file.size() - offset, "read past the file");
    file.copy(out, length, offset);
    return Status::Ok();
  };
  const Result<Frame> stored = ml::ReadColumnFile(read, file.size());
  FUZZ_CHECK(stored.ok(), stored.status().ToString());
  FUZZ_CHECK(FrameDifference(*whole, *stored).empty(),
             "column file: " + FrameDifference(*whole, *stored));
  if (!whole->columns.empty()) {
    const std::vector<std::string> last = {whole->columns.back().name};
    const Result<Frame> one = ml::ReadColumnFile(read, file.size(), &last);
    FUZZ_CHECK(one.ok() && one->columns.size() == 1, one.status().ToString());
    Frame expected;
    expected.rows = whole->rows;
    expected.columns = {whole->columns.back()};
    FUZZ_CHECK(FrameDifference(expected, *one).empty(),
               "one column: " + FrameDifference(expected, *one));
  }
  const auto summary = ml::Describe(*whole);
  FUZZ_CHECK(summary.size() == whole->columns.size(), "describe");
}

}  // namespace
}  // namespace mlprod::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mlprod::fuzz::FuzzOne(data, size);
  return 0;
}
