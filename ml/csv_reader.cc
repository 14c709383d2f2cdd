// CSV reading in one pass over the text: a pull tokenizer yields cells as string_views into the
// input (only quoted fields holding "" are copied, to unescape them), and each column is built as
// its cells arrive: parsed as doubles while every cell is a number, otherwise dictionary-encoded
// into codes. A column that stops being numeric part-way re-reads only its own earlier cells.
// Errors name the 1-based line and column, and the column's name once the header is known.
#include "ml/csv_reader.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mlprod::ml {
namespace {

constexpr size_t kNoColumn = std::numeric_limits<size_t>::max();

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsBlank(s[b])) ++b;
  while (e > b && IsBlank(s[e - 1])) --e;
  return s.substr(b, e - b);
}

// "line 7, column 3 ('country'): " — the name only when the column is known.
std::string Where(size_t line, size_t column, const std::vector<std::string>* names) {
  std::string out = "line " + std::to_string(line);
  if (column != kNoColumn) {
    out += ", column " + std::to_string(column + 1);
    if (names != nullptr && column < names->size()) out += " ('" + (*names)[column] + "')";
  }
  return out + ": ";
}

// Quotes a cell for an error message, cut short so a huge cell cannot flood the message.
std::string Quote(std::string_view cell) {
  constexpr size_t kMax = 40;
  std::string out = "'";
  out.append(cell.substr(0, kMax));
  if (cell.size() > kMax) out += "...";
  out += '\'';
  return out;
}

// Length of the valid UTF-8 sequence starting at s[0] (a byte >= 0x80), or 0 if it is invalid.
// Rejects overlong forms, surrogates and code points above U+10FFFF.
size_t Utf8SequenceLength(const unsigned char* s, size_t avail) {
  const unsigned char c = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (avail < len || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; ++i) {
    if (s[i] < 0x80 || s[i] > 0xBF) return 0;
  }
  return len;
}

// Splits text into fields, one call per field. Line breaks are LF, CRLF or a lone CR, inside
// quotes too, so line() counts lines as an editor shows them. Blank lines at the end of the text
// are not rows. Error paths build a Status; the hot path does not.
class Tokenizer {
 public:
  enum class End { kDelimiter, kRow, kError };

  // `unescaped` stores quoted fields that held doubled quotes; a deque never moves its elements,
  // so the views handed out stay valid as long as it lives.
  Tokenizer(std::string_view text, char delimiter, std::deque<std::string>* unescaped)
      : text_(text), delimiter_(delimiter), unescaped_(unescaped) {
    end_ = text_.size();
    while (end_ > 0 && (text_[end_ - 1] == '\n' || text_[end_ - 1] == '\r')) --end_;
    special_.fill(false);
    special_[static_cast<unsigned char>(delimiter)] = true;
    special_['"'] = special_['\n'] = special_['\r'] = true;
    for (int c = 0x80; c < 0x100; ++c) special_[c] = true;
  }

  bool AtEnd() const { return pos_ >= end_; }
  size_t pos() const { return pos_; }
  size_t end() const { return end_; }
  size_t line() const { return line_; }
  void Seek(size_t pos) { pos_ = pos; }
  Status TakeError() { return std::move(error_); }

  // Reads the field at the current position into *cell. `column` and `names` (may be null) only
  // name the place in an error. After kRow the position is at the next row (or the end).
  End Next(size_t column, const std::vector<std::string>* names, std::string_view* cell) {
    bool ok = pos_ < end_ && text_[pos_] == '"' ? ReadQuoted(column, names, cell)
                                                : ReadUnquoted(column, names, cell);
    if (!ok) return End::kError;
    if (pos_ >= end_) return End::kRow;
    const char c = text_[pos_++];
    if (c == delimiter_) return End::kDelimiter;
    if (c == '\r' && pos_ < end_ && text_[pos_] == '\n') ++pos_;
    ++line_;
    return End::kRow;
  }

 private:
  bool Fail(size_t line, size_t column, const std::vector<std::string>* names,
            std::string_view what) {
    error_ = Status::InvalidArgument(Where(line, column, names) + std::string(what));
    return false;
  }

  // Steps over the multi-byte UTF-8 sequence at pos_, or fails.
  bool SkipUtf8(size_t column, const std::vector<std::string>* names) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(text_.data());
    const size_t len = Utf8SequenceLength(bytes + pos_, end_ - pos_);
    if (len != 0) {
      pos_ += len;
      return true;
    }
    char what[64];
    std::snprintf(what, sizeof what, "invalid UTF-8 (byte 0x%02X at offset %zu)", bytes[pos_],
                  pos_);
    return Fail(line_, column, names, what);
  }

  bool ReadUnquoted(size_t column, const std::vector<std::string>* names, std::string_view* cell) {
    const size_t start = pos_;
    for (;;) {
      while (pos_ < end_ && !special_[static_cast<unsigned char>(text_[pos_])]) ++pos_;
      if (pos_ >= end_) break;
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c >= 0x80) {
        if (!SkipUtf8(column, names)) return false;
      } else if (c == '"') {
        ++pos_;  // a quote inside an unquoted field is text, as pandas and R read it
      } else {
        break;  // delimiter or line break
      }
    }
    *cell = text_.substr(start, pos_ - start);
    return true;
  }

  bool ReadQuoted(size_t column, const std::vector<std::string>* names, std::string_view* cell) {
    const size_t open_line = line_;
    const size_t start = ++pos_;
    bool doubled = false;
    for (;;) {
      while (pos_ < end_ && !special_[static_cast<unsigned char>(text_[pos_])]) ++pos_;
      if (pos_ >= end_) return Fail(open_line, column, names, "unterminated quoted field");
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        if (pos_ + 1 < end_ && text_[pos_ + 1] == '"') {
          doubled = true;
          pos_ += 2;
          continue;
        }
        break;
      }
      if (c >= 0x80) {
        if (!SkipUtf8(column, names)) return false;
        continue;
      }
      // The delimiter or a line break, both text here; CRLF counts as one line.
      if (c == '\n' || (c == '\r' && (pos_ + 1 >= end_ || text_[pos_ + 1] != '\n'))) ++line_;
      ++pos_;
    }
    std::string_view body = text_.substr(start, pos_ - start);
    ++pos_;  // the closing quote
    while (pos_ < end_ && IsBlank(text_[pos_])) ++pos_;
    if (pos_ < end_ && text_[pos_] != delimiter_ && text_[pos_] != '\n' && text_[pos_] != '\r') {
      return Fail(line_, column, names, "unexpected text after closing quote");
    }
    if (doubled) {
      std::string& out = unescaped_->emplace_back();
      out.reserve(body.size());
      for (size_t i = 0; i < body.size(); ++i) {
        out.push_back(body[i]);
        if (body[i] == '"') ++i;  // the second quote of the pair
      }
      body = out;
    }
    *cell = body;
    return true;
  }

  std::string_view text_;
  char delimiter_;
  std::deque<std::string>* unescaped_;
  size_t pos_ = 0;
  size_t end_ = 0;
  size_t line_ = 1;
  std::array<bool, 256> special_;
  Status error_;
};

// Fast path for the common "[-]digits[.digits]" with at most 15 digits: the digits as an integer
// and the power of ten are both exact doubles, so one division rounds correctly (Clinger).
bool ParseSimpleDecimal(const char* first, const char* last, double* out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const bool negative = *first == '-';
  if (negative) ++first;
  uint64_t mantissa = 0;
  int digits = 0, fraction_digits = -1;  // -1: no '.' seen
  for (const char* p = first; p != last; ++p) {
    const unsigned d = static_cast<unsigned char>(*p) - '0';
    if (d < 10) {
      mantissa = mantissa * 10 + d;
      ++digits;
      if (fraction_digits >= 0) ++fraction_digits;
    } else if (*p == '.' && fraction_digits < 0) {
      fraction_digits = 0;
    } else {
      return false;
    }
  }
  if (digits == 0 || digits > 15) return false;
  double v = static_cast<double>(mantissa);
  if (fraction_digits > 0) v /= kPow10[fraction_digits];
  *out = negative ? -v : v;
  return true;
}

// Parses a trimmed cell as a finite double; accepts a leading '+'.
bool ParseNumber(std::string_view s, double* out) {
  if (s.empty()) return false;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (*first == '+') {
    ++first;
    if (first == last || *first == '-' || *first == '+') return false;
  }
  if (ParseSimpleDecimal(first, last, out)) return true;
  auto [ptr, ec] = std::from_chars(first, last, *out);
  return ec == std::errc() && ptr == last && std::isfinite(*out);
}

class NaMatcher {
 public:
  explicit NaMatcher(const std::vector<std::string>& na_values) {
    for (const std::string& v : na_values) {
      std::string_view t = Trim(v);
      values_.push_back(t);
      lengths_ |= uint64_t{1} << std::min<size_t>(t.size(), 63);
      double ignored;
      numeric_ = numeric_ || ParseNumber(t, &ignored);
    }
  }
  // Whether some NA value reads as a number (e.g. "-999"): then numbers must be checked too.
  bool numeric() const { return numeric_; }
  // REQUIRES: `cell` is trimmed.
  bool IsNa(std::string_view cell) const {
    if (!(lengths_ & (uint64_t{1} << std::min<size_t>(cell.size(), 63)))) return false;
    for (std::string_view v : values_) {
      if (v == cell) return true;
    }
    return false;
  }

 private:
  std::vector<std::string_view> values_;
  uint64_t lengths_ = 0;  // bit n: some NA value has length n (63: length >= 63)
  bool numeric_ = false;
};

// Which boolean label a trimmed cell spells: 0 false, 1 true, -1 neither; *family is 0 for
// yes/no, 1 for true/false, 2 for 0/1.
int BooleanLabel(std::string_view s, int* family) {
  auto eq = [](std::string_view a, std::string_view lower) {
    if (a.size() != lower.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      const char c = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
      if (c != lower[i]) return false;
    }
    return true;
  };
  static constexpr std::string_view kLabels[3][2] = {{"no", "yes"}, {"false", "true"}, {"0", "1"}};
  for (int f = 0; f < 3; ++f) {
    for (int l = 0; l < 2; ++l) {
      if (eq(s, kLabels[f][l])) {
        *family = f;
        return l;
      }
    }
  }
  return -1;
}

// The label of `family` opposite to `seen_label`, in the case style of `seen` (e.g. "YES" ->
// "NO", "Yes" -> "No").
std::string OppositeLabel(std::string_view seen, int family, int seen_label) {
  static constexpr std::string_view kLabels[3][2] = {{"no", "yes"}, {"false", "true"}, {"0", "1"}};
  std::string out(kLabels[family][1 - seen_label]);
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const bool all_upper = std::all_of(seen.begin(), seen.end(), upper);
  const bool first_upper = !seen.empty() && upper(seen[0]);
  for (size_t i = 0; i < out.size(); ++i) {
    if ((all_upper || (first_upper && i == 0)) && out[i] >= 'a' && out[i] <= 'z') {
      out[i] = static_cast<char>(out[i] - 'a' + 'A');
    }
  }
  return out;
}

uint64_t HashBytes(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  if (i < s.size()) {
    uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ w) * 0x94D049BB133111EBull;
  }
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 32);
}

// The distinct cells of a column, each with a dense code in order of first appearance. Open
// addressing over views; the viewed bytes must outlive the dictionary.
class Dictionary {
 public:
  size_t size() const { return values_.size(); }
  bool empty() const { return values_.empty(); }
  std::string_view value(int32_t code) const { return values_[code]; }

  // The code of `cell`, added if new (*added set).
  int32_t Insert(std::string_view cell, bool* added) {
    if ((values_.size() + 1) * 2 > slots_.size()) Grow();
    const uint64_t h = HashBytes(cell);
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const int32_t code = slots_[i];
      if (code < 0) {
        slots_[i] = static_cast<int32_t>(values_.size());
        values_.push_back(cell);
        hashes_.push_back(h);
        *added = true;
        return slots_[i];
      }
      if (hashes_[code] == h && values_[code] == cell) {
        *added = false;
        return code;
      }
    }
  }

 private:
  void Grow() {
    slots_.assign(std::max<size_t>(16, slots_.size() * 2), -1);
    const size_t mask = slots_.size() - 1;
    for (size_t code = 0; code < values_.size(); ++code) {
      size_t i = hashes_[code] & mask;
      while (slots_[i] >= 0) i = (i + 1) & mask;
      slots_[i] = static_cast<int32_t>(code);
    }
  }

  std::vector<int32_t> slots_;  // code, or -1 for an empty slot; size a power of two
  std::vector<std::string_view> values_;
  std::vector<uint64_t> hashes_;
};

// One column while it is read: doubles while every cell is a number, codes into a dictionary
// of distinct cells otherwise.
struct ColumnBuilder {
  static constexpr int32_t kNoCache = -2;

  bool numeric = true;  // every cell so far is a number or missing
  bool forced = false;  // the schema names a type
  ColumnType schema_type = ColumnType::kNumeric;
  std::vector<double> values;  // while numeric
  std::vector<int32_t> codes;  // once not numeric: index into distinct, -1 missing
  Dictionary distinct;
  std::vector<size_t> counts;     // per distinct value
  std::vector<size_t> first_row;  // per distinct value, for errors
  size_t missing = 0;
  std::string_view last_cell;  // a one-entry cache: runs of equal cells are common
  int32_t last_code = kNoCache;

  void AddText(std::string_view cell, size_t row, const NaMatcher& na) {
    int32_t code;
    if (last_code != kNoCache && cell == last_cell) {
      code = last_code;
    } else if (na.IsNa(Trim(cell))) {
      code = -1;
    } else {
      bool added;
      code = distinct.Insert(cell, &added);
      if (added) {
        counts.push_back(0);
        first_row.push_back(row);
      }
    }
    last_cell = cell;
    last_code = code;
    if (code < 0) {
      ++missing;
    } else {
      ++counts[code];
    }
    codes.push_back(code);
  }
};

class CsvParser {
 public:
  static constexpr size_t kSampleRows = 64;

  CsvParser(std::string_view text, const CsvOptions& options)
      : text_(text),
        options_(options),
        na_(options.na_values),
        tokenizer_(text, options.delimiter, &unescaped_) {
    // A UTF-8 byte order mark is not part of the first header name.
    if (text.substr(0, 3) == "\xEF\xBB\xBF") tokenizer_.Seek(3);
  }

  Result<Frame> Parse() {
    const char d = options_.delimiter;
    if (d == '"' || d == '\n' || d == '\r' || static_cast<unsigned char>(d) >= 0x80) {
      return Status::InvalidArgument("invalid CSV delimiter");
    }
    if (tokenizer_.AtEnd()) {
      return Status::InvalidArgument(Where(1, kNoColumn, nullptr) + "empty input: no header line");
    }
    MLPROD_RETURN_IF_ERROR(ReadHeader());
    MLPROD_RETURN_IF_ERROR(ReadRows());
    return Finish();
  }

 private:
  Status ReadHeader() {
    std::unordered_map<std::string_view, size_t> seen;
    for (Tokenizer::End end = Tokenizer::End::kDelimiter; end == Tokenizer::End::kDelimiter;) {
      std::string_view cell;
      end = tokenizer_.Next(names_.size(), nullptr, &cell);
      if (end == Tokenizer::End::kError) return tokenizer_.TakeError();
      names_.emplace_back(Trim(cell));
    }
    for (size_t c = 0; c < names_.size(); ++c) {
      if (names_[c].empty()) {
        return Status::InvalidArgument(Where(1, c, nullptr) + "empty header name");
      }
      auto [it, inserted] = seen.try_emplace(names_[c], c);
      if (!inserted) {
        return Status::InvalidArgument(Where(1, c, &names_) +
                                       "duplicate header name (also column " +
                                       std::to_string(it->second + 1) + ")");
      }
    }
    builders_.resize(names_.size());
    for (const auto& [name, type] : options_.schema) {
      auto it = seen.find(name);
      if (it == seen.end()) {
        return Status::InvalidArgument(Where(1, kNoColumn, nullptr) + "schema names column '" +
                                       name + "', which is not in the header");
      }
      ColumnBuilder& b = builders_[it->second];
      b.forced = true;
      b.schema_type = type;
      b.numeric = type == ColumnType::kNumeric;
    }
    return Status::Ok();
  }

  Status ReadRows() {
    const size_t ncols = names_.size();
    const size_t body_start = tokenizer_.pos();
    std::string_view cell;
    while (!tokenizer_.AtEnd()) {
      const size_t row_line = tokenizer_.line();
      row_offsets_.push_back(tokenizer_.pos());
      size_t c = 0;
      for (Tokenizer::End end = Tokenizer::End::kDelimiter; end == Tokenizer::End::kDelimiter;
           ++c) {
        end = tokenizer_.Next(c, &names_, &cell);
        if (end == Tokenizer::End::kError) return tokenizer_.TakeError();
        if (c >= ncols) {
          return Status::InvalidArgument(Where(row_line, c, nullptr) + "row has more than " +
                                         std::to_string(ncols) + " fields, header has " +
                                         std::to_string(ncols));
        }
        MLPROD_RETURN_IF_ERROR(AddCell(c, cell, row_line));
      }
      if (c < ncols) {
        return Status::InvalidArgument(Where(row_line, c, &names_) + "row has " +
                                       std::to_string(c) + " fields, header has " +
                                       std::to_string(ncols));
      }
      if (++rows_ == kSampleRows) Reserve(body_start);
    }
    return Status::Ok();
  }

  // Reserves room for the rows the text probably holds, judging by the first kSampleRows rows
  // average length, with 10% to spare: growing a vector later copies it.
  void Reserve(size_t body_start) {
    const size_t sample_bytes = std::max<size_t>(tokenizer_.pos() - body_start, 1);
    const size_t remaining_rows =
        (tokenizer_.end() - tokenizer_.pos()) * kSampleRows / sample_bytes;
    const size_t estimate = rows_ + remaining_rows + remaining_rows / 10 + 16;
    row_offsets_.reserve(estimate);
    for (ColumnBuilder& b : builders_) {
      if (b.numeric) {
        b.values.reserve(estimate);
      } else {
        b.codes.reserve(estimate);
      }
    }
  }

  Status AddCell(size_t c, std::string_view cell, size_t line) {
    ColumnBuilder& b = builders_[c];
    if (!b.numeric) {
      b.AddText(cell, rows_, na_);
      return Status::Ok();
    }
    const std::string_view t = Trim(cell);
    double v;
    if (na_.numeric() && na_.IsNa(t)) {
      b.values.push_back(std::numeric_limits<double>::quiet_NaN());
      ++b.missing;
    } else if (ParseNumber(t, &v)) {
      b.values.push_back(v);
    } else if (na_.IsNa(t)) {
      b.values.push_back(std::numeric_limits<double>::quiet_NaN());
      ++b.missing;
    } else if (b.forced) {
      return Status::InvalidArgument(Where(line, c, &names_) + Quote(cell) +
                                     " is not a number (schema: numeric)");
    } else {
      SwitchToText(c);
      b.AddText(cell, rows_, na_);
    }
    return Status::Ok();
  }

  // Column c held only numbers until the current row: re-read its earlier cells as text.
  void SwitchToText(size_t c) {
    ColumnBuilder& b = builders_[c];
    b.numeric = false;
    b.missing = 0;
    std::vector<double>().swap(b.values);
    b.codes.reserve(row_offsets_.capacity());
    Tokenizer rescan(text_, options_.delimiter, &unescaped_);
    std::string_view cell;
    for (size_t r = 0; r < rows_; ++r) {
      rescan.Seek(row_offsets_[r]);
      for (size_t k = 0; k <= c; ++k) rescan.Next(k, nullptr, &cell);  // validated already
      b.AddText(cell, r, na_);
    }
  }

  // The 1-based line on which the byte at `offset` lies.
  size_t LineAt(size_t offset) const {
    size_t line = 1;
    for (size_t i = 0; i < offset; ++i) {
      if (text_[i] == '\n' ||
          (text_[i] == '\r' && (i + 1 >= text_.size() || text_[i + 1] != '\n'))) {
        ++line;
      }
    }
    return line;
  }

  Result<Frame> Finish() {
    Frame frame;
    frame.rows = rows_;
    frame.columns.resize(builders_.size());
    for (size_t c = 0; c < builders_.size(); ++c) {
      ColumnBuilder& b = builders_[c];
      Column& column = frame.columns[c];
      column.name = names_[c];
      column.missing = b.missing;
      if (b.numeric) {
        column.type = ColumnType::kNumeric;
        column.values = std::move(b.values);
        continue;
      }
      column.codes = std::move(b.codes);
      MLPROD_ASSIGN_OR_RETURN(const bool boolean, TryBoolean(c, &column));
      if (!boolean) MakeCategorical(c, &column);
    }
    return frame;
  }

  // Makes `column` boolean if every distinct cell (trimmed, any case) spells a label of one
  // yes/no or true/false pair, or 0/1 when the schema asks for boolean.
  Result<bool> TryBoolean(size_t c, Column* column) {
    const ColumnBuilder& b = builders_[c];
    const bool wanted = b.forced && b.schema_type == ColumnType::kBoolean;
    if (b.forced && !wanted) return false;
    int family = -1;
    std::vector<int> label(b.distinct.size());
    for (size_t d = 0; d < b.distinct.size(); ++d) {
      int f = -1;
      label[d] = BooleanLabel(Trim(b.distinct.value(d)), &f);
      if (label[d] < 0 || (family >= 0 && f != family) || (!wanted && f == 2)) {
        if (!wanted) return false;
        return Status::InvalidArgument(Where(LineAt(row_offsets_[b.first_row[d]]), c, &names_) +
                                       Quote(b.distinct.value(d)) +
                                       " is not a boolean value (schema: boolean)");
      }
      family = f;
    }
    column->type = ColumnType::kBoolean;
    if (b.distinct.empty()) {
      column->levels = {"false", "true"};
      return true;
    }
    // Each label as most often spelled in the file.
    std::string_view spelling[2];
    size_t best[2] = {0, 0};
    for (size_t d = 0; d < b.distinct.size(); ++d) {
      if (b.counts[d] > best[label[d]]) {
        best[label[d]] = b.counts[d];
        spelling[label[d]] = Trim(b.distinct.value(d));
      }
    }
    for (int l = 0; l < 2; ++l) {
      column->levels.push_back(best[l] > 0 ? std::string(spelling[l])
                                           : OppositeLabel(spelling[1 - l], family, 1 - l));
    }
    for (int32_t& code : column->codes) {
      if (code >= 0) code = label[code];
    }
    return true;
  }

  // Levels sorted by bytes; codes renumbered to match.
  void MakeCategorical(size_t c, Column* column) {
    const ColumnBuilder& b = builders_[c];
    column->type = ColumnType::kCategorical;
    std::vector<int32_t> order(b.distinct.size());
    for (size_t d = 0; d < order.size(); ++d) order[d] = static_cast<int32_t>(d);
    std::sort(order.begin(), order.end(),
              [&](int32_t x, int32_t y) { return b.distinct.value(x) < b.distinct.value(y); });
    std::vector<int32_t> remap(order.size());
    column->levels.reserve(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
      remap[order[i]] = static_cast<int32_t>(i);
      column->levels.emplace_back(b.distinct.value(order[i]));
    }
    for (int32_t& code : column->codes) {
      if (code >= 0) code = remap[code];
    }
  }

  std::string_view text_;
  const CsvOptions& options_;
  NaMatcher na_;
  std::deque<std::string> unescaped_;  // declared before tokenizer_, which points at it
  Tokenizer tokenizer_;
  std::vector<std::string> names_;
  std::vector<ColumnBuilder> builders_;
  std::vector<size_t> row_offsets_;  // where each row starts, to re-read a column or find a line
  size_t rows_ = 0;
};

}  // namespace

Result<Frame> ReadCsv(std::string_view text, const CsvOptions& options) {
  return CsvParser(text, options).Parse();
}

}  // namespace mlprod::ml
