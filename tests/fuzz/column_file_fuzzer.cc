// Column-file reading: any bytes as a stored dataset version. ReadColumnFile must answer a frame
// or DATA_LOSS / NOT_FOUND, never read outside the file, and a frame it answers must be
// well-formed (every cell present, codes inside the levels) and agree with a read of only its
// last column.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ml/column_file.h"
#include "tests/fuzz/fuzz_check.h"

namespace mlprod::fuzz {
namespace {

void CheckWellFormed(const ml::Frame& frame) {
  for (const ml::Column& c : frame.columns) {
    size_t missing = 0;
    if (c.type == ml::ColumnType::kNumeric) {
      FUZZ_CHECK(c.values.size() == frame.rows && c.codes.empty(),
                 "numeric column '" + c.name + "'");
    } else {
      FUZZ_CHECK(c.codes.size() == frame.rows && c.values.empty(), "text column '" + c.name + "'");
      for (int32_t code : c.codes) {
        FUZZ_CHECK(code >= -1 && (code < 0 || static_cast<size_t>(code) < c.levels.size()),
                   "code " + std::to_string(code) + " of '" + c.name + "'");
      }
    }
    for (size_t r = 0; r < frame.rows; ++r) missing += c.IsMissing(r) ? 1 : 0;
    FUZZ_CHECK(missing == c.missing, "missing count of '" + c.name + "'");
  }
}

void FuzzOne(const uint8_t* data, size_t size) {
  const std::string_view file(reinterpret_cast<const char*>(data), size);
  const ml::ReadAt read = [&](uint64_t offset, size_t length, char* out) {
    // The blob store's own bounds: ReadColumnFile must stay inside the size it was given.
    FUZZ_CHECK(offset <= file.size() && length <= file.size() - offset,
               "read of " + std::to_string(length) + " bytes at " + std::to_string(offset));
    file.copy(out, length, offset);
    return Status::Ok();
  };
  const Result<ml::Frame> frame = ml::ReadColumnFile(read, file.size());
  if (!frame.ok()) {
    FUZZ_CHECK(frame.status().code() == StatusCode::kDataLoss, frame.status().ToString());
    return;
  }
  CheckWellFormed(*frame);
  if (frame->columns.empty()) return;
  const std::vector<std::string> last = {frame->columns.back().name};
  const Result<ml::Frame> one = ml::ReadColumnFile(read, file.size(), &last);
  FUZZ_CHECK(one.ok() && !one->columns.empty(), one.status().ToString());
  // Names may repeat in a corrupt footer: the read by name takes the first of them.
  ml::Frame expected;
  expected.rows = frame->rows;
  for (const ml::Column& c : frame->columns) {
    if (c.name == last[0]) expected.columns.push_back(c);
  }
  FUZZ_CHECK(FrameDifference(expected, *one).empty(), FrameDifference(expected, *one));
  const std::vector<std::string> unknown = {last[0] + "\x01"};
  if (frame->Find(unknown[0]) != nullptr) return;
  const Result<ml::Frame> none = ml::ReadColumnFile(read, file.size(), &unknown);
  FUZZ_CHECK(none.status().code() == StatusCode::kNotFound, none.status().ToString());
}

}  // namespace
}  // namespace mlprod::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mlprod::fuzz::FuzzOne(data, size);
  return 0;
}
