#include "ml/column_file.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "ml/checksum.h"
#include "ml/stored_json.h"

namespace mlprod::ml {
namespace {

// Version 1 files (no checksums) are still read; version 2 adds an XXH64 to every part and to the
// footer, so that damage inside the data is refused instead of served.
constexpr std::string_view kMagicV1 = "MLPCOLS1";
constexpr std::string_view kMagic = "MLPCOLS2";
constexpr size_t kTrailerV1 = 16;  // footer size + magic
constexpr size_t kTrailer = 24;    // footer size + footer XXH64 + magic

Status Corrupt(const std::string& why) { return Status::DataLoss("column file: " + why); }

}  // namespace

Status ColumnFileWriter::Write(std::string_view bytes) {
  MLPROD_RETURN_IF_ERROR(append_(bytes));
  size_ += bytes.size();
  return Status::Ok();
}

ColumnFileWriter::Part* ColumnFileWriter::PartFor(size_t column, size_t first_row, size_t rows) {
  auto it = std::lower_bound(blocks_.begin(), blocks_.end(), first_row,
                             [](const Block& b, size_t row) { return b.first_row < row; });
  if (it == blocks_.end() || it->first_row != first_row) {
    const size_t next_row = blocks_.empty() ? 0 : blocks_.back().first_row + blocks_.back().rows;
    if (it != blocks_.end() || first_row != next_row) return nullptr;
    blocks_.push_back({first_row, rows, {}});
    it = blocks_.end() - 1;
  }
  if (it->rows != rows) return nullptr;
  if (column >= it->parts.size()) it->parts.resize(column + 1);
  return &it->parts[column];
}

Status ColumnFileWriter::PutNumbers(size_t column, size_t first_row,
                                    const std::vector<double>& values) {
  if (size_ == 0) MLPROD_RETURN_IF_ERROR(Write(kMagic));
  Part* part = PartFor(column, first_row, values.size());
  if (part == nullptr) return Status::Internal("column file: blocks out of order");
  const std::string_view bytes(reinterpret_cast<const char*>(values.data()),
                               values.size() * sizeof(double));
  *part = {size_, false, true, Xxh64(bytes)};
  return Write(bytes);
}

Status ColumnFileWriter::PutCodes(size_t column, size_t first_row,
                                  const std::vector<int32_t>& codes) {
  if (size_ == 0) MLPROD_RETURN_IF_ERROR(Write(kMagic));
  Part* part = PartFor(column, first_row, codes.size());
  if (part == nullptr) return Status::Internal("column file: blocks out of order");
  const std::string_view bytes(reinterpret_cast<const char*>(codes.data()),
                               codes.size() * sizeof(int32_t));
  *part = {size_, true, true, Xxh64(bytes)};
  MLPROD_RETURN_IF_ERROR(Write(bytes));
  static constexpr char kZeros[8] = {};
  return Write({kZeros, (8 - size_ % 8) % 8});  // keep every part 8-byte aligned
}

Status ColumnFileWriter::Finish(const CsvColumns& layout) {
  if (size_ == 0) MLPROD_RETURN_IF_ERROR(Write(kMagic));
  nlohmann::json columns = nlohmann::json::array();
  for (size_t c = 0; c < layout.columns.size(); ++c) {
    const Column& col = layout.columns[c];
    columns.push_back({{"name", col.name},
                       {"type", std::string(ColumnTypeName(col.type))},
                       {"missing", col.missing},
                       {"levels", col.levels},
                       {"remap", layout.remap[c]}});
  }
  nlohmann::json blocks = nlohmann::json::array();
  for (const Block& b : blocks_) {
    if (b.parts.size() != layout.columns.size())
      return Status::Internal("column file: short block");
    nlohmann::json parts = nlohmann::json::array();
    for (size_t c = 0; c < b.parts.size(); ++c) {
      const Part& p = b.parts[c];
      const bool numeric = layout.columns[c].type == ColumnType::kNumeric;
      if (!p.set || p.codes == numeric) return Status::Internal("column file: part of wrong type");
      parts.push_back({p.offset, p.codes ? "i32" : "f64", p.hash});
    }
    blocks.push_back({{"first_row", b.first_row}, {"rows", b.rows}, {"parts", std::move(parts)}});
  }
  const std::string footer =
      nlohmann::json{{"rows", layout.rows}, {"columns", columns}, {"blocks", blocks}}.dump();
  MLPROD_RETURN_IF_ERROR(Write(footer));
  const uint64_t footer_size = footer.size();
  const uint64_t footer_hash = Xxh64(footer);
  char trailer[kTrailer];
  std::memcpy(trailer, &footer_size, 8);
  std::memcpy(trailer + 8, &footer_hash, 8);
  std::memcpy(trailer + 16, kMagic.data(), 8);
  return Write({trailer, kTrailer});
}

namespace {

// Reads one part into `out`; with `checked` (version 2) its bytes must match the part's XXH64.
template <typename T>
Status ReadPart(const ReadAt& read, uint64_t limit, uint64_t offset, const nlohmann::json& part,
                bool checked, size_t rows, T* out, const std::string& column) {
  const uint64_t bytes = static_cast<uint64_t>(rows) * sizeof(T);
  if (offset < kMagic.size() || offset > limit || bytes > limit - offset) {
    return Corrupt("a block lies outside the data");
  }
  char* const data = reinterpret_cast<char*>(out);
  MLPROD_RETURN_IF_ERROR(read(offset, bytes, data));
  if (checked && Xxh64({data, bytes}) != part.at(2).get<uint64_t>()) {
    return Corrupt("checksum mismatch in column '" + column + "' at byte " +
                   std::to_string(offset));
  }
  return Status::Ok();
}

// A count or offset of the footer: an integer in [0, hi] (get<size_t>() would cast a float such
// as 1e300 with undefined behaviour, and wrap a negative one).
Result<size_t> Count(const nlohmann::json& value, uint64_t hi, const char* what) {
  const std::optional<int64_t> v =
      JsonInteger(value, 0, static_cast<int64_t>(std::min<uint64_t>(hi, INT64_MAX)));
  if (!v) return Corrupt(std::string("footer: ") + what);
  return static_cast<size_t>(*v);
}

Result<Frame> ReadFooter(const ReadAt& read, const nlohmann::json& footer, uint64_t data_end,
                         bool checked, const std::vector<std::string>* only) {
  Frame frame;
  const nlohmann::json& columns = footer.at("columns");
  // Each column keeps at least 4 bytes a row in the data: a larger count is damage, which
  // would otherwise be allocated (and zeroed) before the blocks are checked.
  MLPROD_ASSIGN_OR_RETURN(
      frame.rows,
      Count(footer.at("rows"), columns.empty() ? 0 : data_end / sizeof(int32_t), "row count"));
  // Tighter: 8 bytes a row per numeric column and 4 per other column.
  uint64_t row_bytes = 0;
  for (const nlohmann::json& meta : columns) {
    row_bytes += meta.at("type").get<std::string>() == "numeric" ? sizeof(double) : sizeof(int32_t);
  }
  if (row_bytes > 0 && frame.rows > data_end / row_bytes) {
    return Corrupt("the row count " + std::to_string(frame.rows) + " exceeds the data");
  }
  std::vector<size_t> wanted;  // file column of each frame column
  for (size_t c = 0; c < columns.size(); ++c) {
    const std::string name = columns[c].at("name").get<std::string>();
    if (only == nullptr || std::find(only->begin(), only->end(), name) != only->end()) {
      wanted.push_back(c);
    }
  }
  if (only != nullptr && wanted.size() != only->size()) {
    for (const std::string& name : *only) {
      auto named = [&](size_t c) { return columns[c].at("name").get<std::string>() == name; };
      if (std::none_of(wanted.begin(), wanted.end(), named)) {
        return Status::NotFound("no column '" + name + "' in the dataset");
      }
    }
  }
  const nlohmann::json& blocks = footer.at("blocks");
  for (size_t c : wanted) {
    const nlohmann::json& meta = columns[c];
    Column& col = frame.columns.emplace_back();
    col.name = meta.at("name").get<std::string>();
    const Result<ColumnType> type = ParseColumnType(meta.at("type").get<std::string>());
    if (!type.ok()) return Corrupt(type.status().message());
    col.type = *type;
    MLPROD_ASSIGN_OR_RETURN(col.missing, Count(meta.at("missing"), frame.rows, "missing count"));
    col.levels = meta.at("levels").get<std::vector<std::string>>();
    const bool numeric = col.type == ColumnType::kNumeric;
    if (numeric) {
      col.values.resize(frame.rows);
    } else {
      col.codes.resize(frame.rows);
    }
    size_t next_row = 0;
    for (const nlohmann::json& block : blocks) {
      MLPROD_ASSIGN_OR_RETURN(const size_t first,
                              Count(block.at("first_row"), frame.rows, "block start"));
      MLPROD_ASSIGN_OR_RETURN(const size_t rows, Count(block.at("rows"), frame.rows, "block rows"));
      const nlohmann::json& part = block.at("parts").at(c);
      if (first != next_row || rows > frame.rows - first) return Corrupt("blocks do not tile");
      if ((part.at(1).get<std::string>() == "f64") != numeric) return Corrupt("part type");
      MLPROD_ASSIGN_OR_RETURN(const uint64_t offset, Count(part.at(0), data_end, "block offset"));
      MLPROD_RETURN_IF_ERROR(
          numeric ? ReadPart(read, data_end, offset, part, checked, rows,
                             col.values.data() + first, col.name)
                  : ReadPart(read, data_end, offset, part, checked, rows,
                             col.codes.data() + first, col.name));
      next_row = first + rows;
    }
    if (next_row != frame.rows) return Corrupt("blocks do not cover every row");
    size_t missing = 0;  // must agree with the footer: describe and training trust it
    if (numeric) {
      for (double v : col.values) missing += std::isnan(v) ? 1 : 0;
    } else {
      std::vector<int32_t> remap;
      for (const nlohmann::json& r : meta.at("remap")) {
        const std::optional<int64_t> level = JsonInteger(r, 0, INT32_MAX);
        if (!level) return Corrupt("footer: a level code of '" + col.name + "'");
        remap.push_back(static_cast<int32_t>(*level));
      }
      for (int32_t& code : col.codes) {
        if (code == -1) {  // the one spelling of a missing cell
          ++missing;
          continue;
        }
        if (code < 0 || static_cast<size_t>(code) >= remap.size() || remap[code] < 0 ||
            static_cast<size_t>(remap[code]) >= col.levels.size()) {
          return Corrupt("a code outside the levels of '" + col.name + "'");
        }
        code = remap[code];
      }
    }
    if (missing != col.missing) return Corrupt("the missing count of '" + col.name + "'");
  }
  return frame;
}

}  // namespace

Result<Frame> ReadColumnFile(const ReadAt& read, uint64_t size,
                             const std::vector<std::string>* only) {
  if (size < kMagic.size() + kTrailerV1) return Corrupt("too short");
  char magic[8];
  MLPROD_RETURN_IF_ERROR(read(size - 8, 8, magic));
  const bool checked = std::string_view(magic, 8) == kMagic;
  if (!checked && std::string_view(magic, 8) != kMagicV1) return Corrupt("no trailer");
  const size_t trailer_size = checked ? kTrailer : kTrailerV1;
  if (size < kMagic.size() + trailer_size) return Corrupt("too short");
  char trailer[kTrailer];
  MLPROD_RETURN_IF_ERROR(read(size - trailer_size, trailer_size, trailer));
  uint64_t footer_size, footer_hash = 0;
  std::memcpy(&footer_size, trailer, 8);
  if (checked) std::memcpy(&footer_hash, trailer + 8, 8);
  if (footer_size > size - kMagic.size() - trailer_size) return Corrupt("footer size");
  const uint64_t data_end = size - trailer_size - footer_size;
  std::string text(footer_size, '\0');
  MLPROD_RETURN_IF_ERROR(read(data_end, footer_size, text.data()));
  if (checked && Xxh64(text) != footer_hash) return Corrupt("checksum mismatch in the footer");
  const nlohmann::json footer = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (footer.is_discarded()) return Corrupt("footer is not JSON");
  try {
    return ReadFooter(read, footer, data_end, checked, only);
  } catch (const std::exception& e) {  // nlohmann: a field missing or of the wrong type
    return Corrupt(std::string("footer: ") + e.what());
  }
}

}  // namespace mlprod::ml
