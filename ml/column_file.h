// Column file: how a dataset version is stored, so that a run reads the typed columns it needs
// instead of parsing text again.
//
// Layout (little-endian, as every machine mlprod builds for):
//   "MLPCOLS2"                              8 bytes
//   row blocks, as the CSV reader put them: per block and column, the block's doubles (numeric)
//   or int32 codes in order of first appearance (text), each part starting 8-byte aligned
//   footer: JSON {"rows", "columns": [{name, type, missing, levels, remap}], "blocks":
//           [{"first_row", "rows", "parts": [[offset, "f64" | "i32", xxh64], ...]}]}
//   uint64 footer size, uint64 footer xxh64, "MLPCOLS2"   24 bytes
// The footer comes last because the levels and the column types are known only at the end.
// Each part's XXH64 (ml/checksum.h) covers its values (not the alignment padding); a read checks
// the parts it reads and the footer. Version 1 ("MLPCOLS1", 16-byte trailer of footer size and
// magic, parts without a hash) is still read, unchecked.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ml/csv_reader.h"
#include "ml/frame.h"
#include "ml/status.h"

namespace mlprod::ml {

// Writes a column file through `append` as a CsvStreamReader puts blocks into it.
class ColumnFileWriter final : public ColumnSink {
 public:
  using Append = std::function<Status(std::string_view bytes)>;
  explicit ColumnFileWriter(Append append) : append_(std::move(append)) {}

  Status PutNumbers(size_t column, size_t first_row, const std::vector<double>& values) override;
  Status PutCodes(size_t column, size_t first_row, const std::vector<int32_t>& codes) override;
  // Writes the footer: the file is complete once it returns OK.
  Status Finish(const CsvColumns& layout);

 private:
  struct Part {
    uint64_t offset = 0;
    bool codes = false;
    bool set = false;
    uint64_t hash = 0;  // XXH64 of the part's values
  };
  struct Block {
    size_t first_row = 0;
    size_t rows = 0;
    std::vector<Part> parts;  // per column
  };
  Status Write(std::string_view bytes);
  Part* PartFor(size_t column, size_t first_row, size_t rows);

  Append append_;
  uint64_t size_ = 0;
  std::vector<Block> blocks_;
};

// Reads [offset, offset + length) of the file into `out`.
using ReadAt = std::function<Status(uint64_t offset, size_t length, char* out)>;

// The frame stored in a column file of `size` bytes; only the columns named in `only` when it is
// given (in the file's order; NOT_FOUND naming an unknown one). DATA_LOSS when the file is not
// a well-formed column file or a checksum does not match (damage on disk); never a crash, and
// no allocation beyond what the file's size can hold.
Result<Frame> ReadColumnFile(const ReadAt& read, uint64_t size,
                             const std::vector<std::string>* only = nullptr);

}  // namespace mlprod::ml
