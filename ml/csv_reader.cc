// CSV reading in one pass over the bytes as they arrive: a pull tokenizer yields cells as
// string_views into the current piece (only quoted fields holding "" are copied, to unescape
// them); a row is tokenized whole before any cell is used, so a row cut by the end of a piece is
// simply read again once the next piece has come. Each column is built as its cells arrive:
// parsed as doubles while every cell is a number, otherwise dictionary-encoded into codes, and
// handed on in row blocks. A column that stops being numeric part-way re-reads only its own
// earlier cells. Errors name the 1-based line and column, and the column's name once the header
// is known.
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

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace mlprod::ml {
namespace {

constexpr size_t kNoColumn = std::numeric_limits<size_t>::max();

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Bytes equal; inlined, as std::string_view's == is not always, on the per-cell paths. An empty
// view may have no data at all (a blank line's cell), and memcmp must not see a null pointer.
inline bool SameBytes(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

inline std::string_view Trim(std::string_view s) {
  if (s.empty() || (!IsBlank(s.front()) && !IsBlank(s.back()))) return s;  // the usual cell
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

// Length of the UTF-8 sequence a lead byte >= 0x80 starts, or 0 if it cannot start one.
size_t Utf8LeadLength(unsigned char c) {
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

// Whether s[0..len) (len from Utf8LeadLength) is a valid sequence: rejects overlong forms,
// surrogates and code points above U+10FFFF.
bool Utf8SequenceValid(const unsigned char* s, size_t len) {
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (s[0] == 0xE0) lo = 0xA0;
  if (s[0] == 0xED) hi = 0x9F;
  if (s[0] == 0xF0) lo = 0x90;
  if (s[0] == 0xF4) hi = 0x8F;
  if (s[1] < lo || s[1] > hi) return false;
  for (size_t i = 2; i < len; ++i) {
    if (s[i] < 0x80 || s[i] > 0xBF) return false;
  }
  return true;
}

// Splits a piece of text into fields, one call per field. Line breaks are LF, CRLF or a lone CR,
// inside quotes too, so line() counts lines as an editor shows them. When more bytes may follow
// the piece (`last` false), a field, quote, line break or UTF-8 sequence that reaches the end of
// the piece is kIncomplete: the caller reads its row again with more bytes. Error paths build a
// Status; the hot path does not.
class Tokenizer {
 public:
  enum class End { kDelimiter, kRow, kIncomplete, kError };

  // `text` starts at byte `offset` of the file, on line `line`. `unescaped` stores quoted fields
  // that held doubled quotes; a deque never moves its elements, so the views handed out stay
  // valid as long as it lives.
  Tokenizer(std::string_view text, uint64_t offset, size_t line, bool last, char delimiter,
            std::deque<std::string>* unescaped)
      : text_(text),
        offset_(offset),
        last_(last),
        delimiter_(delimiter),
        unescaped_(unescaped),
        line_(line) {
    special_.fill(false);
    special_[static_cast<unsigned char>(delimiter)] = true;
    special_['"'] = special_['\n'] = special_['\r'] = true;
    for (int c = 0x80; c < 0x100; ++c) special_[c] = true;
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  size_t pos() const { return pos_; }
  size_t line() const { return line_; }
  Status TakeError() { return std::move(error_); }

  // Reads the field at the current position into *cell. `column` and `names` (may be null) only
  // name the place in an error. After kRow the position is at the next row (or the end).
  End Next(size_t column, const std::vector<std::string>* names, std::string_view* cell) {
    // ReadQuoted and ReadUnquoted answer kRow when they read the field.
    const End field = pos_ < text_.size() && text_[pos_] == '"' ? ReadQuoted(column, names, cell)
                                                                : ReadUnquoted(column, names, cell);
    if (field != End::kRow) return field;
    if (pos_ >= text_.size()) return last_ ? End::kRow : End::kIncomplete;
    const char c = text_[pos_++];
    if (c == delimiter_) return End::kDelimiter;
    if (c == '\r') {
      if (pos_ >= text_.size() && !last_) return End::kIncomplete;  // maybe CRLF
      if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
    }
    ++line_;
    return End::kRow;
  }

  // Splits the row at pos_ into *cells and moves past it when the row is plain: no quote, no
  // byte >= 0x80, no CR, ended by LF within the text and holding at most `max_fields` fields.
  // Otherwise returns false, having moved nothing (*cells holds junk), and Next reads the row.
  // Sixteen bytes at a time: one mask marks the delimiters and the LF, another what is not plain.
  bool SplitPlainRow(size_t max_fields, std::vector<std::string_view>* cells) {
#ifdef __SSE2__
    const __m128i delimiter = _mm_set1_epi8(delimiter_), quote = _mm_set1_epi8('"'),
                  lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    size_t field = pos_;
    for (size_t i = pos_; i + 16 <= text_.size(); i += 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text_.data() + i));
      unsigned ends = static_cast<unsigned>(_mm_movemask_epi8(
          _mm_or_si128(_mm_cmpeq_epi8(bytes, delimiter), _mm_cmpeq_epi8(bytes, lf))));
      const unsigned odd = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(
          bytes, _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, cr)))));
      const unsigned first_odd = odd != 0 ? static_cast<unsigned>(__builtin_ctz(odd)) : 16;
      for (; ends != 0; ends &= ends - 1) {
        const unsigned k = static_cast<unsigned>(__builtin_ctz(ends));
        if (k > first_odd) return false;
        const size_t at = i + k;
        cells->push_back(text_.substr(field, at - field));
        if (text_[at] == '\n') {
          pos_ = at + 1;
          ++line_;
          return true;
        }
        if (cells->size() == max_fields) return false;  // too many fields: Next says so
        field = at + 1;
      }
      if (odd != 0) return false;
    }
#else
    (void)max_fields;
    (void)cells;
#endif
    return false;  // near the end of the text
  }

 private:
  End Fail(size_t line, size_t column, const std::vector<std::string>* names,
           std::string_view what) {
    error_ = Status::InvalidArgument(Where(line, column, names) + std::string(what));
    return End::kError;
  }

  // Steps over the multi-byte UTF-8 sequence at pos_ (kRow), or fails.
  End SkipUtf8(size_t column, const std::vector<std::string>* names) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(text_.data());
    const size_t len = Utf8LeadLength(bytes[pos_]);
    const size_t avail = text_.size() - pos_;
    if (len != 0 && avail < len && !last_) return End::kIncomplete;
    if (len != 0 && avail >= len && Utf8SequenceValid(bytes + pos_, len)) {
      pos_ += len;
      return End::kRow;
    }
    char what[64];
    std::snprintf(what, sizeof what, "invalid UTF-8 (byte 0x%02X at offset %llu)", bytes[pos_],
                  static_cast<unsigned long long>(offset_ + pos_));
    return Fail(line_, column, names, what);
  }

  End ReadUnquoted(size_t column, const std::vector<std::string>* names, std::string_view* cell) {
    const size_t start = pos_;
    for (;;) {
      SkipPlainBytes();
      if (pos_ >= text_.size()) break;
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c >= 0x80) {
        const End e = SkipUtf8(column, names);
        if (e != End::kRow) return e;
      } else if (c == '"') {
        ++pos_;  // a quote inside an unquoted field is text, as pandas and R read it
      } else {
        break;  // delimiter or line break
      }
    }
    *cell = text_.substr(start, pos_ - start);
    return End::kRow;
  }

  End ReadQuoted(size_t column, const std::vector<std::string>* names, std::string_view* cell) {
    const size_t open_line = line_;
    const size_t start = ++pos_;
    bool doubled = false;
    for (;;) {
      SkipPlainBytes();
      if (pos_ >= text_.size()) {
        return last_ ? Fail(open_line, column, names, "unterminated quoted field")
                     : End::kIncomplete;
      }
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        if (pos_ + 1 >= text_.size() && !last_) return End::kIncomplete;  // maybe ""
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
          doubled = true;
          pos_ += 2;
          continue;
        }
        break;
      }
      if (c >= 0x80) {
        const End e = SkipUtf8(column, names);
        if (e != End::kRow) return e;
        continue;
      }
      // The delimiter or a line break, both text here; CRLF counts as one line.
      if (c == '\n' || (c == '\r' && (pos_ + 1 >= text_.size() || text_[pos_ + 1] != '\n'))) {
        ++line_;
      }
      ++pos_;
    }
    std::string_view body = text_.substr(start, pos_ - start);
    ++pos_;  // the closing quote
    while (pos_ < text_.size() && IsBlank(text_[pos_])) ++pos_;
    if (pos_ >= text_.size() && !last_) return End::kIncomplete;
    if (pos_ < text_.size() && text_[pos_] != delimiter_ && text_[pos_] != '\n' &&
        text_[pos_] != '\r') {
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
    return End::kRow;
  }

  // Moves pos_ to the next special byte (delimiter, quote, line break, non-ASCII) or the end.
  // Sixteen bytes at a time with SSE2 (every x86-64 has it): cells are short, but rows are not.
  void SkipPlainBytes() {
#ifdef __SSE2__
    const __m128i delimiter = _mm_set1_epi8(delimiter_), quote = _mm_set1_epi8('"'),
                  lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
    while (pos_ + 16 <= text_.size()) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text_.data() + pos_));
      const __m128i hit =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, delimiter), _mm_cmpeq_epi8(bytes, quote)),
                       _mm_or_si128(_mm_cmpeq_epi8(bytes, lf), _mm_cmpeq_epi8(bytes, cr)));
      // movemask also takes each byte's top bit: set exactly for the non-ASCII bytes.
      const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(hit, bytes)));
      if (mask != 0) {
        pos_ += static_cast<size_t>(__builtin_ctz(mask));
        return;
      }
      pos_ += 16;
    }
#endif
    while (pos_ < text_.size() && !special_[static_cast<unsigned char>(text_[pos_])]) ++pos_;
  }

  const std::string_view text_;
  const uint64_t offset_;
  const bool last_;
  const char delimiter_;
  std::deque<std::string>* const unescaped_;
  size_t pos_ = 0;
  size_t line_;
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
  uint64_t mantissa = 0;  // may wrap past 19 digits, but then digits > 15 rejects it
  const char* p = first;
  auto read_digits = [&p, last, &mantissa] {
    const char* start = p;
    for (unsigned d; p != last && (d = static_cast<unsigned char>(*p) - '0') < 10; ++p) {
      mantissa = mantissa * 10 + d;
    }
    return static_cast<int>(p - start);
  };
  int digits = read_digits(), fraction_digits = 0;
  if (p != last) {
    if (*p != '.') return false;
    ++p;
    fraction_digits = read_digits();
    if (p != last) return false;
    digits += fraction_digits;
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
      if (SameBytes(v, cell)) return true;
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
// addressing over views of copies the dictionary owns, so cells may come from transient pieces.
class Dictionary {
 public:
  size_t size() const { return values_.size(); }
  bool empty() const { return values_.empty(); }
  std::string_view value(int32_t code) const { return values_[code]; }

  // The code of `cell` (whose HashBytes is `hash`), or -1 when it is not in the dictionary.
  int32_t Find(std::string_view cell, uint64_t hash) const {
    if (slots_.empty()) return -1;
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const int32_t code = slots_[i];
      if (code < 0) return -1;
      if (hashes_[code] == hash && SameBytes(values_[code], cell)) return code;
    }
  }

  // Adds `cell`, which is not in the dictionary yet, and returns its code.
  int32_t Add(std::string_view cell, uint64_t hash) {
    if ((values_.size() + 1) * 2 > slots_.size()) Grow();
    const size_t mask = slots_.size() - 1;
    size_t i = hash & mask;
    while (slots_[i] >= 0) i = (i + 1) & mask;
    slots_[i] = static_cast<int32_t>(values_.size());
    values_.push_back(storage_.emplace_back(cell));
    hashes_.push_back(hash);
    return slots_[i];
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

  std::deque<std::string> storage_;  // never moves its strings, so values_ stay valid
  std::vector<int32_t> slots_;       // code, or -1 for an empty slot; size a power of two
  std::vector<std::string_view> values_;
  std::vector<uint64_t> hashes_;
};

// One column while it is read: the current block's doubles while every cell is a number, codes
// into a dictionary of distinct cells otherwise.
struct ColumnBuilder {
  bool numeric = true;  // every cell so far is a number or missing
  bool forced = false;  // the schema names a type
  ColumnType schema_type = ColumnType::kNumeric;
  std::vector<double> values;  // this block, while numeric
  std::vector<int32_t> codes;  // this block, once not numeric: -1 missing
  Dictionary distinct;
  std::vector<size_t> counts;      // per distinct value
  std::vector<size_t> first_line;  // per distinct value, for errors
  size_t missing = 0;
  int32_t last_code = -1;  // a one-entry cache: runs of equal cells are common

  // Known cells are looked up before the missing-value check, which only new cells need.
  int32_t CodeOf(std::string_view cell, size_t line, const NaMatcher& na) {
    int32_t code = last_code;
    if (code < 0 || !SameBytes(cell, distinct.value(code))) {
      const uint64_t hash = HashBytes(cell);
      code = distinct.Find(cell, hash);
      if (code < 0) {
        if (na.IsNa(Trim(cell))) {
          ++missing;
          return -1;
        }
        code = distinct.Add(cell, hash);
        counts.push_back(0);
        first_line.push_back(line);
      }
      last_code = code;
    }
    ++counts[code];
    return code;
  }
};

}  // namespace

class CsvStreamReader::Parser {
 public:
  Parser(CsvOptions options, ColumnSink* sink, ReadFedBytes read_back)
      : options_(std::move(options)),
        na_(options_.na_values),
        sink_(sink),
        read_back_(std::move(read_back)) {}

  Status Feed(std::string_view bytes) {
    MLPROD_RETURN_IF_ERROR(CheckDelimiter());
    // An incomplete row waits in pending_: complete it a line at a time, then parse the rest of
    // the piece in place.
    while (!pending_.empty() && !bytes.empty()) {
      const size_t nl = bytes.find('\n');
      const size_t take = nl == std::string_view::npos ? bytes.size() : nl + 1;
      pending_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      MLPROD_ASSIGN_OR_RETURN(const size_t used, Parse(pending_, /*last=*/false));
      pending_.erase(0, used);
    }
    if (!bytes.empty()) {
      MLPROD_ASSIGN_OR_RETURN(const size_t used, Parse(bytes, /*last=*/false));
      pending_.assign(bytes.substr(used));
    }
    return Status::Ok();
  }

  void SetBlockRowsForTesting(size_t rows) { max_block_rows_ = std::max<size_t>(rows, 1); }

  Result<CsvColumns> Finish() {
    MLPROD_RETURN_IF_ERROR(CheckDelimiter());
    MLPROD_RETURN_IF_ERROR(Parse(pending_, /*last=*/true).status());
    pending_.clear();
    blank_rows_.clear();  // blank lines at the end are not rows
    if (!header_done_) {
      return Status::InvalidArgument(Where(1, kNoColumn, nullptr) + "empty input: no header line");
    }
    MLPROD_RETURN_IF_ERROR(EndBlock());
    CsvColumns out;
    out.rows = rows_;
    out.columns.resize(builders_.size());
    out.remap.resize(builders_.size());
    for (size_t c = 0; c < builders_.size(); ++c) {
      const ColumnBuilder& b = builders_[c];
      Column& column = out.columns[c];
      column.name = names_[c];
      column.missing = b.missing;
      if (b.numeric) continue;
      MLPROD_ASSIGN_OR_RETURN(const bool boolean, TryBoolean(c, &column, &out.remap[c]));
      if (!boolean) MakeCategorical(c, &column, &out.remap[c]);
    }
    return out;
  }

 private:
  // A blank line: a row, unless only blank lines follow it.
  struct BlankRow {
    size_t line;
    uint64_t offset;
  };

  Status CheckDelimiter() const {
    const char d = options_.delimiter;
    if (d == '"' || d == '\n' || d == '\r' || static_cast<unsigned char>(d) >= 0x80) {
      return Status::InvalidArgument("invalid CSV delimiter");
    }
    return Status::Ok();
  }

  // Parses the complete rows of `text`, the bytes that follow consumed_; returns how many bytes
  // they took. With `last`, the text ends the file.
  Result<size_t> Parse(std::string_view text, bool last) {
    size_t skip = 0;
    if (consumed_ == 0 && !bom_checked_) {
      // A UTF-8 byte order mark is not part of the first header name.
      constexpr std::string_view kBom = "\xEF\xBB\xBF";
      if (text.size() < kBom.size() && !last && kBom.substr(0, text.size()) == text) return 0;
      bom_checked_ = true;
      if (text.substr(0, kBom.size()) == kBom) skip = kBom.size();
    }
    Tokenizer tokenizer(text.substr(skip), consumed_ + skip, line_, last, options_.delimiter,
                        &unescaped_);
    size_t used = skip;  // up to the end of the last complete row
    while (!tokenizer.AtEnd()) {
      const size_t start = tokenizer.pos(), row_line = tokenizer.line();
      const uint64_t offset = consumed_ + skip + start;
      const std::string_view rest = text.substr(skip + start);
      const bool blank = rest[0] == '\n' || rest[0] == '\r';
      if (!blank) MLPROD_RETURN_IF_ERROR(CommitBlankRows());
      unescaped_.clear();
      cells_.clear();
      // Most rows are plain: split those at once, and tokenize the others field by field.
      const bool plain = header_done_ && !blank && tokenizer.SplitPlainRow(names_.size(), &cells_);
      Tokenizer::End end = plain ? Tokenizer::End::kRow : Tokenizer::End::kDelimiter;
      if (!plain) cells_.clear();
      while (end == Tokenizer::End::kDelimiter) {
        std::string_view cell;
        end = tokenizer.Next(cells_.size(), header_done_ ? &names_ : nullptr, &cell);
        if (end == Tokenizer::End::kError) return tokenizer.TakeError();
        if (end == Tokenizer::End::kIncomplete) break;
        if (header_done_ && cells_.size() >= names_.size()) {
          return Status::InvalidArgument(Where(row_line, cells_.size(), nullptr) +
                                         "row has more than " + std::to_string(names_.size()) +
                                         " fields, header has " + std::to_string(names_.size()));
        }
        cells_.push_back(cell);
      }
      if (end == Tokenizer::End::kIncomplete) break;
      used = skip + tokenizer.pos();  // blank lines too: they wait in blank_rows_
      line_ = tokenizer.line();
      if (blank) {
        blank_rows_.push_back({row_line, offset});
        continue;
      }
      MLPROD_RETURN_IF_ERROR(CommitRow(row_line, offset, tokenizer.pos() - start));
    }
    consumed_ += used;
    return used;
  }

  // Blank lines followed by a row are rows (one empty field): commit them.
  Status CommitBlankRows() {
    for (const BlankRow& blank : blank_rows_) {
      cells_.assign(1, std::string_view());
      MLPROD_RETURN_IF_ERROR(CommitRow(blank.line, blank.offset, 1));
    }
    blank_rows_.clear();
    return Status::Ok();
  }

  // The row in cells_, which starts at byte `offset` on line `line` and takes `bytes` bytes.
  Status CommitRow(size_t line, uint64_t offset, size_t bytes) {
    if (!header_done_) return ReadHeader();
    const size_t ncols = names_.size();
    if (cells_.size() < ncols) {
      return Status::InvalidArgument(Where(line, cells_.size(), &names_) + "row has " +
                                     std::to_string(cells_.size()) + " fields, header has " +
                                     std::to_string(ncols));
    }
    if (block_rows_ == 0) blocks_.push_back({rows_, offset, line});
    for (size_t c = 0; c < ncols; ++c) {
      MLPROD_RETURN_IF_ERROR(AddCell(c, cells_[c], line, offset));
    }
    ++rows_;
    ++block_rows_;
    block_bytes_ += bytes;
    if (block_rows_ >= max_block_rows_ || block_bytes_ >= kBlockBytes) return EndBlock();
    return Status::Ok();
  }

  Status ReadHeader() {
    std::unordered_map<std::string_view, size_t> seen;
    for (std::string_view cell : cells_) names_.emplace_back(Trim(cell));
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
    header_done_ = true;
    return Status::Ok();
  }

  // The hot path, a number or a known text cell, builds no Status.
  Status AddCell(size_t c, std::string_view cell, size_t line, uint64_t row_offset) {
    ColumnBuilder& b = builders_[c];
    if (!b.numeric) {
      b.codes.push_back(b.CodeOf(cell, line, na_));
      return Status::Ok();
    }
    double v;
    if (!na_.numeric() && ParseNumber(Trim(cell), &v)) {
      b.values.push_back(v);
      return Status::Ok();
    }
    return AddOtherCell(c, cell, line, row_offset);
  }

  // A cell of a numeric column that is missing, not a number, or may be an NA value.
  Status AddOtherCell(size_t c, std::string_view cell, size_t line, uint64_t row_offset) {
    ColumnBuilder& b = builders_[c];
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
      MLPROD_RETURN_IF_ERROR(SwitchToText(c, row_offset));
      b.codes.push_back(b.CodeOf(cell, line, na_));
    }
    return Status::Ok();
  }

  // Column c held only numbers until the row at `row_offset`: re-read its earlier cells as text,
  // putting the blocks already handed on again as codes.
  Status SwitchToText(size_t c, uint64_t row_offset) {
    ColumnBuilder& b = builders_[c];
    b.numeric = false;
    b.missing = 0;
    std::vector<double>().swap(b.values);
    // CommitRow opened the current block, the last one, before adding the row's cells.
    const size_t current = blocks_.size() - 1;
    std::vector<int32_t> codes;
    for (size_t k = 0; k < current; ++k) {
      codes.clear();
      MLPROD_RETURN_IF_ERROR(RereadColumn(c, blocks_[k], blocks_[k + 1].offset, &codes));
      MLPROD_RETURN_IF_ERROR(sink_->PutCodes(c, blocks_[k].first_row, codes));
    }
    b.codes.clear();
    return RereadColumn(c, blocks_[current], row_offset, &b.codes);
  }

  struct Block {
    size_t first_row;
    uint64_t offset;  // of its first row
    size_t line;      // of its first row
  };

  // Appends to *codes the codes of column c in the rows from `block` up to byte `end`.
  Status RereadColumn(size_t c, const Block& block, uint64_t end, std::vector<int32_t>* codes) {
    if (end == block.offset) return Status::Ok();  // e.g. text from the first row on
    std::string scratch;
    MLPROD_ASSIGN_OR_RETURN(std::string_view text,
                            read_back_(block.offset, end - block.offset, &scratch));
    std::deque<std::string> unescaped;
    Tokenizer rows(text, block.offset, block.line, /*last=*/true, options_.delimiter, &unescaped);
    ColumnBuilder& b = builders_[c];
    std::string_view cell, wanted;
    while (!rows.AtEnd()) {
      const size_t line = rows.line();
      Tokenizer::End e = Tokenizer::End::kDelimiter;
      for (size_t k = 0; e == Tokenizer::End::kDelimiter; ++k) {
        e = rows.Next(k, nullptr, &cell);  // validated already
        if (k == c) wanted = cell;
      }
      if (e == Tokenizer::End::kError) return Status::Internal("re-reading a parsed row failed");
      codes->push_back(b.CodeOf(wanted, line, na_));
      unescaped.clear();
    }
    return Status::Ok();
  }

  // Hands the current block of every column to the sink.
  Status EndBlock() {
    if (block_rows_ == 0) return Status::Ok();
    const size_t first_row = rows_ - block_rows_;
    for (size_t c = 0; c < builders_.size(); ++c) {
      ColumnBuilder& b = builders_[c];
      if (b.numeric) {
        MLPROD_RETURN_IF_ERROR(sink_->PutNumbers(c, first_row, b.values));
        b.values.clear();
      } else {
        MLPROD_RETURN_IF_ERROR(sink_->PutCodes(c, first_row, b.codes));
        b.codes.clear();
      }
    }
    block_rows_ = 0;
    block_bytes_ = 0;
    return Status::Ok();
  }

  // Makes `column` boolean if every distinct cell (trimmed, any case) spells a label of one
  // yes/no or true/false pair, or 0/1 when the schema asks for boolean.
  Result<bool> TryBoolean(size_t c, Column* column, std::vector<int32_t>* remap) {
    const ColumnBuilder& b = builders_[c];
    const bool wanted = b.forced && b.schema_type == ColumnType::kBoolean;
    if (b.forced && !wanted) return false;
    int family = -1;
    std::vector<int32_t> label(b.distinct.size());
    for (size_t d = 0; d < b.distinct.size(); ++d) {
      int f = -1;
      label[d] = BooleanLabel(Trim(b.distinct.value(d)), &f);
      if (label[d] < 0 || (family >= 0 && f != family) || (!wanted && f == 2)) {
        if (!wanted) return false;
        return Status::InvalidArgument(Where(b.first_line[d], c, &names_) +
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
    *remap = std::move(label);
    return true;
  }

  // Levels sorted by bytes; *remap maps codes in order of appearance to their places.
  void MakeCategorical(size_t c, Column* column, std::vector<int32_t>* remap) const {
    const ColumnBuilder& b = builders_[c];
    column->type = ColumnType::kCategorical;
    std::vector<int32_t> order(b.distinct.size());
    for (size_t d = 0; d < order.size(); ++d) order[d] = static_cast<int32_t>(d);
    std::sort(order.begin(), order.end(),
              [&](int32_t x, int32_t y) { return b.distinct.value(x) < b.distinct.value(y); });
    remap->resize(order.size());
    column->levels.reserve(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
      (*remap)[order[i]] = static_cast<int32_t>(i);
      column->levels.emplace_back(b.distinct.value(order[i]));
    }
  }

  const CsvOptions options_;
  const NaMatcher na_;
  ColumnSink* const sink_;
  const ReadFedBytes read_back_;
  std::string pending_;    // bytes of an incomplete row, from consumed_ on
  uint64_t consumed_ = 0;  // bytes parsed into rows (or skipped as a byte order mark)
  size_t line_ = 1;        // of the byte at consumed_
  bool bom_checked_ = false;
  bool header_done_ = false;
  std::deque<std::string> unescaped_;  // unescaped cells of the row being read
  std::vector<std::string_view> cells_;
  std::vector<BlankRow> blank_rows_;  // blank lines not yet known to be rows
  std::vector<std::string> names_;
  std::vector<ColumnBuilder> builders_;
  std::vector<Block> blocks_;  // every block begun, the current one last
  size_t max_block_rows_ = kBlockRows;
  size_t rows_ = 0;
  size_t block_rows_ = 0, block_bytes_ = 0;  // of the current block
};

CsvStreamReader::CsvStreamReader(CsvOptions options, ColumnSink* sink, ReadFedBytes read_back)
    : parser_(std::make_unique<Parser>(std::move(options), sink, std::move(read_back))) {}

CsvStreamReader::~CsvStreamReader() = default;

Status CsvStreamReader::Feed(std::string_view bytes) { return parser_->Feed(bytes); }

Result<CsvColumns> CsvStreamReader::Finish() { return parser_->Finish(); }

void CsvStreamReader::SetBlockRowsForTesting(size_t rows) { parser_->SetBlockRowsForTesting(rows); }

Status FrameSink::PutNumbers(size_t column, size_t first_row, const std::vector<double>& values) {
  return Put(&Slot(column).values, first_row, values);
}

Status FrameSink::PutCodes(size_t column, size_t first_row, const std::vector<int32_t>& codes) {
  Column& c = Slot(column);
  if (first_row == 0) std::vector<double>().swap(c.values);  // text after all
  return Put(&c.codes, first_row, codes);
}

Frame FrameSink::Take(CsvColumns layout) {
  Frame frame;
  frame.rows = layout.rows;
  frame.columns = std::move(layout.columns);
  columns_.resize(frame.columns.size());
  for (size_t c = 0; c < frame.columns.size(); ++c) {
    Column& out = frame.columns[c];
    if (out.type == ColumnType::kNumeric) {
      out.values = std::move(columns_[c].values);
      out.values.resize(frame.rows);  // a file with no rows put no block
      continue;
    }
    out.codes = std::move(columns_[c].codes);
    const std::vector<int32_t>& remap = layout.remap[c];
    for (int32_t& code : out.codes) {
      if (code >= 0) code = remap[code];
    }
  }
  columns_.clear();
  return frame;
}

Column& FrameSink::Slot(size_t column) {
  if (column >= columns_.size()) columns_.resize(column + 1);
  return columns_[column];
}

template <typename T>
Status FrameSink::Put(std::vector<T>* out, size_t first_row, const std::vector<T>& block) {
  out->resize(first_row);
  out->insert(out->end(), block.begin(), block.end());
  return Status::Ok();
}

Result<Frame> ReadCsv(std::string_view text, const CsvOptions& options) {
  FrameSink sink;
  CsvStreamReader reader(options, &sink, [text](uint64_t offset, size_t length, std::string*) {
    return Result<std::string_view>(text.substr(offset, length));
  });
  MLPROD_RETURN_IF_ERROR(reader.Feed(text));
  MLPROD_ASSIGN_OR_RETURN(CsvColumns layout, reader.Finish());
  return sink.Take(std::move(layout));
}

}  // namespace mlprod::ml
