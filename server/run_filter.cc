#include "server/run_filter.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "ml/scoped_depth.h"

namespace mlprod::server {
namespace run_filter_internal {

// ---------------------------------------------------------------- values and keys

// A run's value under a key: missing, a number, or text.
struct Value {
  enum class Type { kMissing, kNumber, kText };
  Type type = Type::kMissing;
  double number = 0;
  std::string text;

  static Value Number(double v) { return {Type::kNumber, v, {}}; }
  static Value Text(std::string v) { return {Type::kText, 0, std::move(v)}; }
};

enum class AttrType { kText, kNumber };

struct Attribute {
  const char* name;  // canonical
  AttrType type;
  Value (*get)(const registry::Run&);
};

Value TimeValue(int64_t ms) { return ms > 0 ? Value::Number(static_cast<double>(ms)) : Value{}; }

std::string FormatFraction(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", v);
  return buffer;
}

const Attribute kAttributes[] = {
    {"run_id", AttrType::kText, [](const registry::Run& r) { return Value::Text(r.id); }},
    {"status", AttrType::kText,
     [](const registry::Run& r) { return Value::Text(std::string(registry::RunStatusName(r.status))); }},
    {"experiment", AttrType::kText, [](const registry::Run& r) { return Value::Text(r.experiment); }},
    {"dataset", AttrType::kText,
     [](const registry::Run& r) {
       return Value::Text(r.dataset_name + "@" + std::to_string(r.dataset_version));
     }},
    {"dataset_name", AttrType::kText, [](const registry::Run& r) { return Value::Text(r.dataset_name); }},
    {"dataset_version", AttrType::kNumber,
     [](const registry::Run& r) { return Value::Number(r.dataset_version); }},
    {"formula", AttrType::kText, [](const registry::Run& r) { return Value::Text(r.formula); }},
    {"model", AttrType::kText, [](const registry::Run& r) { return Value::Text(r.kind); }},
    {"missing", AttrType::kText, [](const registry::Run& r) { return Value::Text(r.missing); }},
    {"test_fraction", AttrType::kNumber,
     [](const registry::Run& r) { return Value::Number(r.test_fraction); }},
    {"seed", AttrType::kNumber,
     [](const registry::Run& r) { return Value::Number(static_cast<double>(r.seed)); }},
    {"error", AttrType::kText, [](const registry::Run& r) { return Value::Text(r.error); }},
    {"created_by", AttrType::kText, [](const registry::Run& r) { return Value::Text(r.created_by); }},
    {"created_at", AttrType::kNumber, [](const registry::Run& r) { return TimeValue(r.created_at_ms); }},
    {"started_at", AttrType::kNumber, [](const registry::Run& r) { return TimeValue(r.started_at_ms); }},
    {"finished_at", AttrType::kNumber,
     [](const registry::Run& r) { return TimeValue(r.finished_at_ms); }},
};

// MLflow's spellings of our attributes.
const std::pair<const char*, const char*> kAttributeAliases[] = {
    {"id", "run_id"},           {"user_id", "created_by"}, {"start_time", "created_at"},
    {"end_time", "finished_at"}, {"kind", "model"},        {"created", "created_at"},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const Attribute* FindAttribute(std::string_view name) {
  std::string lower = Lower(name);
  for (const auto& [alias, canonical] : kAttributeAliases) {
    if (lower == alias) lower = canonical;
  }
  for (const Attribute& a : kAttributes) {
    if (lower == a.name) return &a;
  }
  return nullptr;
}

struct Key {
  OrderKey::Kind kind = OrderKey::Kind::kAttribute;
  std::string name;
  const Attribute* attribute = nullptr;  // kAttribute only
};

Value Lookup(const registry::Run& run, const Key& key) {
  switch (key.kind) {
    case OrderKey::Kind::kAttribute:
      return key.attribute->get(run);
    case OrderKey::Kind::kMetric: {
      auto it = run.metrics.find(key.name);
      if (it == run.metrics.end()) return {};
      return Value::Number(it->second);
    }
    case OrderKey::Kind::kParam: {
      // The run's own settings read as params, as MLflow users log them.
      if (key.name == "model") return Value::Text(run.kind);
      if (key.name == "formula") return Value::Text(run.formula);
      if (key.name == "missing") return Value::Text(run.missing);
      if (key.name == "test_fraction") return Value::Text(FormatFraction(run.test_fraction));
      if (key.name == "seed") return Value::Text(std::to_string(run.seed));
      if (key.name == "dataset") {
        return Value::Text(run.dataset_name + "@" + std::to_string(run.dataset_version));
      }
      auto it = run.params.find(key.name);
      if (it == run.params.end()) return {};
      return Value::Text(it->second);
    }
  }
  return {};
}

std::optional<double> ParseNumber(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || std::isnan(v)) return std::nullopt;
  return v;
}

// Orders two present values: numbers numerically, text that reads as numbers numerically,
// run ids by their number ("r9" < "r10"), other text bytewise. Returns <0, 0, >0.
int CompareValues(const Value& a, const Value& b, bool run_ids) {
  auto number_of = [](const Value& v) -> std::optional<double> {
    return v.type == Value::Type::kNumber ? std::optional<double>(v.number) : ParseNumber(v.text);
  };
  if (run_ids && a.type == Value::Type::kText && b.type == Value::Type::kText &&
      a.text.size() > 1 && b.text.size() > 1) {
    auto x = ParseNumber(std::string_view(a.text).substr(1));
    auto y = ParseNumber(std::string_view(b.text).substr(1));
    if (x && y) return *x < *y ? -1 : (*x > *y ? 1 : 0);
  }
  auto x = number_of(a), y = number_of(b);
  if (x && y) return *x < *y ? -1 : (*x > *y ? 1 : 0);
  const std::string ta = a.type == Value::Type::kText ? a.text : FormatFraction(a.number);
  const std::string tb = b.type == Value::Type::kText ? b.text : FormatFraction(b.number);
  return ta.compare(tb) < 0 ? -1 : (ta == tb ? 0 : 1);
}

// Length of the UTF-8 sequence starting with `lead` (1 for a stray byte).
size_t Utf8Length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

// SQL LIKE: % any run of characters, _ exactly one character.
bool Like(std::string_view text, std::string_view pattern) {
  size_t t = 0, p = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = ++p;
      star_t = t;
    } else if (p < pattern.size() && pattern[p] == '_') {
      t += std::min(Utf8Length(static_cast<unsigned char>(text[t])), text.size() - t);
      ++p;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++t;
      ++p;
    } else if (star_p != std::string_view::npos) {
      p = star_p;
      star_t += std::min(Utf8Length(static_cast<unsigned char>(text[star_t])), text.size() - star_t);
      t = star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

// ---------------------------------------------------------------- the tree

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kLike, kILike, kIn };

struct Literal {
  std::string text;              // a string's content, or a number as written
  std::optional<double> number;  // set for number literals (and strings reading as one)
  bool is_string = false;
};

struct Node {
  enum class Type { kAnd, kOr, kNot, kCompare };
  Type type = Type::kCompare;
  std::vector<std::shared_ptr<const Node>> children;
  // kCompare:
  Key key;
  Op op = Op::kEq;
  bool negated = false;  // NOT LIKE, NOT ILIKE, NOT IN
  std::vector<Literal> values;
};

bool CompareOne(const Value& v, Op op, const Literal& lit, const Key& key) {
  if (op == Op::kLike || op == Op::kILike) {
    if (v.type != Value::Type::kText) return false;
    return op == Op::kLike ? Like(v.text, lit.text) : Like(Lower(v.text), Lower(lit.text));
  }
  int c;
  if (v.type == Value::Type::kNumber) {
    // metrics and numeric attributes: the parser made sure the literal is a number
    const double x = *lit.number;
    c = v.number < x ? -1 : (v.number > x ? 1 : 0);
  } else if (key.kind == OrderKey::Kind::kAttribute) {
    c = v.text.compare(lit.text);  // text attributes compare as text
    c = c < 0 ? -1 : (c > 0 ? 1 : 0);
  } else {
    // params: as numbers when both sides read as numbers ('7' = 7), as text otherwise
    c = CompareValues(v, Value::Text(lit.text), /*run_ids=*/false);
  }
  switch (op) {
    case Op::kEq: case Op::kIn: return c == 0;
    case Op::kNe: return c != 0;
    case Op::kLt: return c < 0;
    case Op::kLe: return c <= 0;
    case Op::kGt: return c > 0;
    case Op::kGe: return c >= 0;
    default: return false;
  }
}

bool Evaluate(const Node& node, const registry::Run& run) {
  switch (node.type) {
    case Node::Type::kAnd:
      for (const auto& child : node.children) {
        if (!Evaluate(*child, run)) return false;
      }
      return true;
    case Node::Type::kOr:
      for (const auto& child : node.children) {
        if (Evaluate(*child, run)) return true;
      }
      return false;
    case Node::Type::kNot:
      return !Evaluate(*node.children[0], run);
    case Node::Type::kCompare: {
      const Value v = Lookup(run, node.key);
      if (v.type == Value::Type::kMissing) return false;  // as MLflow: no value, no match
      if (node.key.kind == OrderKey::Kind::kMetric && std::isnan(v.number)) return false;
      bool any = false;
      for (const Literal& lit : node.values) {
        if (CompareOne(v, node.op, lit, node.key)) {
          any = true;
          break;
        }
      }
      return node.negated ? !any : any;
    }
  }
  return false;
}

// ---------------------------------------------------------------- tokens

struct Token {
  enum class Type { kEnd, kWord, kString, kQuotedName, kNumber, kOp, kLParen, kRParen, kComma };
  Type type = Type::kEnd;
  std::string text;  // word/op as written; string content
  size_t offset = 0;  // byte offset in the expression
};

class Parser {
 public:
  Parser(std::string_view expr, const char* what, const RunFilterLimits& limits)
      : expr_(expr), what_(what), max_depth_(std::min(limits.max_depth, kMaxRunFilterDepth)) {}

  // Refuses an expression over `max_length` bytes before reading it.
  Status CheckLength(size_t max_length) const {
    if (expr_.size() <= max_length) return Status::Ok();
    return Error(max_length, "longer than " + std::to_string(max_length) + " bytes");
  }

  Status Tokenize() {
    size_t i = 0;
    while (i < expr_.size()) {
      const char c = expr_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      Token t;
      t.offset = i;
      if (c == '(' || c == ')' || c == ',') {
        t.type = c == '(' ? Token::Type::kLParen
                          : (c == ')' ? Token::Type::kRParen : Token::Type::kComma);
        t.text = std::string(1, c);
        ++i;
      } else if (c == '\'' || c == '"' || c == '`') {
        t.type = c == '`' ? Token::Type::kQuotedName : Token::Type::kString;
        size_t j = i + 1;
        bool closed = false;
        while (j < expr_.size()) {
          if (expr_[j] == '\\' && j + 1 < expr_.size()) {
            t.text += expr_[j + 1];
            j += 2;
          } else if (expr_[j] == c && j + 1 < expr_.size() && expr_[j + 1] == c) {
            t.text += c;  // a doubled quote is one quote, as in SQL
            j += 2;
          } else if (expr_[j] == c) {
            closed = true;
            ++j;
            break;
          } else {
            t.text += expr_[j++];
          }
        }
        if (!closed) return Error(i, "unterminated string");
        i = j;
      } else if (std::strchr("=!<>", c) != nullptr) {
        t.type = Token::Type::kOp;
        const std::string_view two = expr_.substr(i, 2);
        if (two == "!=" || two == "<=" || two == ">=" || two == "<>" || two == "==") {
          t.text = std::string(two);
          i += 2;
        } else if (c == '!') {
          return Error(i, "unexpected '!' (did you mean '!='?)");
        } else {
          t.text = std::string(1, c);
          ++i;
        }
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 ((c == '-' || c == '+' || c == '.') && i + 1 < expr_.size() &&
                  (std::isdigit(static_cast<unsigned char>(expr_[i + 1])) || expr_[i + 1] == '.'))) {
        t.type = Token::Type::kNumber;
        size_t j = i + 1;
        while (j < expr_.size() &&
               (std::isalnum(static_cast<unsigned char>(expr_[j])) || expr_[j] == '.' ||
                ((expr_[j] == '-' || expr_[j] == '+') &&
                 (expr_[j - 1] == 'e' || expr_[j - 1] == 'E')))) {
          ++j;
        }
        t.text = std::string(expr_.substr(i, j - i));
        if (!ParseNumber(t.text)) return Error(i, "'" + t.text + "' is not a number");
        i = j;
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        t.type = Token::Type::kWord;
        size_t j = i;
        while (j < expr_.size() && (std::isalnum(static_cast<unsigned char>(expr_[j])) ||
                                    std::strchr("_.:/-", expr_[j]) != nullptr)) {
          ++j;
        }
        t.text = std::string(expr_.substr(i, j - i));
        i = j;
      } else {
        return Error(i, "unexpected character '" + std::string(1, c) + "'");
      }
      tokens_.push_back(std::move(t));
    }
    Token end;
    end.offset = expr_.size();
    tokens_.push_back(end);
    return Status::Ok();
  }

  Result<std::shared_ptr<const Node>> ParseFilter() {
    MLPROD_ASSIGN_OR_RETURN(auto root, ParseOr());
    if (Peek().type != Token::Type::kEnd) {
      return Error(Peek().offset, "unexpected '" + Peek().text + "' (expected AND, OR or the end)");
    }
    return root;
  }

  Result<std::vector<OrderKey>> ParseOrder() {
    std::vector<OrderKey> keys;
    if (Peek().type == Token::Type::kEnd) return keys;
    for (;;) {
      MLPROD_ASSIGN_OR_RETURN(Key key, ParseKey());
      OrderKey k;
      k.kind = key.kind;
      k.name = key.attribute != nullptr ? key.attribute->name : key.name;
      if (IsKeyword("ASC")) {
        Next();
      } else if (IsKeyword("DESC")) {
        Next();
        k.descending = true;
      }
      keys.push_back(std::move(k));
      if (Peek().type == Token::Type::kEnd) return keys;
      if (Peek().type != Token::Type::kComma) {
        return Error(Peek().offset, "unexpected '" + Peek().text + "' (expected ASC, DESC or ',')");
      }
      Next();
    }
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool IsKeyword(const char* word) const {
    return Peek().type == Token::Type::kWord && Lower(Peek().text) == Lower(word);
  }

  // INVALID_ARGUMENT naming the 1-based character (not byte) position of `offset`.
  Status Error(size_t offset, const std::string& message) const {
    return Status::InvalidArgument(std::string(what_) + ": " + message + " at position " +
                                   std::to_string(CharPosition(offset)) +
                                   (offset >= expr_.size() ? " (the end)" : ""));
  }

  Result<std::shared_ptr<const Node>> ParseOr() {
    MLPROD_ASSIGN_OR_RETURN(auto first, ParseAnd());
    if (!IsKeyword("OR")) return first;
    auto node = std::make_shared<Node>();
    node->type = Node::Type::kOr;
    node->children.push_back(first);
    while (IsKeyword("OR")) {
      Next();
      MLPROD_ASSIGN_OR_RETURN(auto next, ParseAnd());
      node->children.push_back(next);
    }
    return std::shared_ptr<const Node>(node);
  }

  Result<std::shared_ptr<const Node>> ParseAnd() {
    MLPROD_ASSIGN_OR_RETURN(auto first, ParseUnary());
    if (!IsKeyword("AND")) return first;
    auto node = std::make_shared<Node>();
    node->type = Node::Type::kAnd;
    node->children.push_back(first);
    while (IsKeyword("AND")) {
      Next();
      MLPROD_ASSIGN_OR_RETURN(auto next, ParseUnary());
      node->children.push_back(next);
    }
    return std::shared_ptr<const Node>(node);
  }

  // The depth check at the token that opened the current level.
  Status CheckDepth(size_t offset) const {
    if (depth_ <= max_depth_) return Status::Ok();
    return Error(offset, "nested deeper than " + std::to_string(max_depth_) + " levels");
  }

  Result<std::shared_ptr<const Node>> ParseUnary() {
    if (IsKeyword("NOT")) {
      ml::ScopedDepth level(&depth_);
      MLPROD_RETURN_IF_ERROR(CheckDepth(Next().offset));
      MLPROD_ASSIGN_OR_RETURN(auto child, ParseUnary());
      auto node = std::make_shared<Node>();
      node->type = Node::Type::kNot;
      node->children.push_back(child);
      return std::shared_ptr<const Node>(node);
    }
    if (Peek().type == Token::Type::kLParen) {
      ml::ScopedDepth level(&depth_);
      const size_t open = Next().offset;
      MLPROD_RETURN_IF_ERROR(CheckDepth(open));
      MLPROD_ASSIGN_OR_RETURN(auto inner, ParseOr());
      if (Peek().type != Token::Type::kRParen) {
        return Error(Peek().offset, "expected ')' to close the '(' opened at character " +
                                        std::to_string(CharPosition(open)));
      }
      Next();
      return inner;
    }
    return ParseComparison();
  }

  size_t CharPosition(size_t offset) const {
    size_t position = 1;
    for (size_t i = 0; i < offset && i < expr_.size(); ++i) {
      if ((static_cast<unsigned char>(expr_[i]) & 0xC0) != 0x80) ++position;
    }
    return position;
  }

  Result<Key> ParseKey() {
    const Token& t = Peek();
    if (t.type != Token::Type::kWord) {
      return Error(t.offset, t.type == Token::Type::kEnd
                                 ? std::string("expected a key such as metrics.rmse")
                                 : "expected a key such as metrics.rmse, params.model or "
                                   "attributes.status, got '" + t.text + "'");
    }
    const size_t dot = t.text.find('.');
    if (dot == std::string::npos) {
      return Error(t.offset, "'" + t.text +
                                 "' has no prefix (use metrics.<name>, params.<name> or "
                                 "attributes.<name>)");
    }
    const std::string prefix = Lower(t.text.substr(0, dot));
    std::string name = t.text.substr(dot + 1);
    const size_t key_offset = t.offset;
    Next();
    if (name.empty()) {
      if (Peek().type != Token::Type::kQuotedName && Peek().type != Token::Type::kString) {
        return Error(Peek().offset, "expected a name after '" + prefix + ".'");
      }
      name = Next().text;
    }
    Key key;
    key.name = name;
    if (prefix == "metrics" || prefix == "metric") {
      key.kind = OrderKey::Kind::kMetric;
    } else if (prefix == "params" || prefix == "param" || prefix == "parameters" ||
               prefix == "parameter") {
      key.kind = OrderKey::Kind::kParam;
    } else if (prefix == "attributes" || prefix == "attribute" || prefix == "attr" ||
               prefix == "run") {
      key.kind = OrderKey::Kind::kAttribute;
      key.attribute = FindAttribute(name);
      if (key.attribute == nullptr) {
        std::string known;
        for (const Attribute& a : kAttributes) known += (known.empty() ? "" : ", ") + std::string(a.name);
        return Error(key_offset, "unknown attribute '" + name + "' (known: " + known + ")");
      }
    } else {
      return Error(key_offset, "unknown key prefix '" + prefix +
                                   "' (expected metrics, params or attributes)");
    }
    return key;
  }

  Result<Literal> ParseLiteral(const Key& key, bool like) {
    const Token& t = Peek();
    Literal lit;
    if (t.type == Token::Type::kString) {
      lit.is_string = true;
      lit.text = t.text;
      if (key.kind == OrderKey::Kind::kMetric) {
        return Error(t.offset, "metric '" + key.name + "' compares with numbers, not the string '" +
                                   t.text + "'");
      }
      if (key.kind == OrderKey::Kind::kAttribute && key.attribute->type == AttrType::kNumber) {
        lit.number = ParseNumber(t.text);
        if (!lit.number) {
          return Error(t.offset, "attribute '" + std::string(key.attribute->name) +
                                     "' compares with numbers, not '" + t.text + "'");
        }
      }
      if (key.kind == OrderKey::Kind::kAttribute &&
          std::string_view(key.attribute->name) == "status") {
        for (char& c : lit.text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
    } else if (t.type == Token::Type::kNumber) {
      if (like) return Error(t.offset, "LIKE needs a string pattern, got " + t.text);
      lit.text = t.text;
      lit.number = ParseNumber(t.text);
    } else {
      return Error(t.offset, t.type == Token::Type::kEnd
                                 ? std::string("expected a string or a number")
                                 : "expected a string or a number, got '" + t.text + "'");
    }
    Next();
    return lit;
  }

  Result<std::shared_ptr<const Node>> ParseComparison() {
    auto node = std::make_shared<Node>();
    MLPROD_ASSIGN_OR_RETURN(node->key, ParseKey());
    const Key& key = node->key;
    const Token& op = Peek();
    if (IsKeyword("NOT")) {
      node->negated = true;
      Next();
      if (!IsKeyword("IN") && !IsKeyword("LIKE") && !IsKeyword("ILIKE")) {
        return Error(Peek().offset, "expected IN, LIKE or ILIKE after NOT");
      }
    }
    const size_t op_offset = Peek().offset;
    if (IsKeyword("IN")) {
      Next();
      node->op = Op::kIn;
      if (Peek().type != Token::Type::kLParen) {
        return Error(Peek().offset, "expected '(' after IN");
      }
      Next();
      for (;;) {
        MLPROD_ASSIGN_OR_RETURN(Literal lit, ParseLiteral(key, false));
        node->values.push_back(std::move(lit));
        if (Peek().type == Token::Type::kComma) {
          Next();
          continue;
        }
        if (Peek().type == Token::Type::kRParen) {
          Next();
          break;
        }
        return Error(Peek().offset, "expected ',' or ')' in the IN list");
      }
      return std::shared_ptr<const Node>(node);
    }
    if (IsKeyword("LIKE") || IsKeyword("ILIKE")) {
      node->op = IsKeyword("LIKE") ? Op::kLike : Op::kILike;
      const bool text_key =
          key.kind == OrderKey::Kind::kParam ||
          (key.kind == OrderKey::Kind::kAttribute && key.attribute->type == AttrType::kText);
      if (!text_key) {
        return Error(op_offset, Peek().text + " applies to params and text attributes, not '" +
                                    key.name + "'");
      }
      Next();
      MLPROD_ASSIGN_OR_RETURN(Literal lit, ParseLiteral(key, true));
      node->values.push_back(std::move(lit));
      return std::shared_ptr<const Node>(node);
    }
    if (node->negated || op.type != Token::Type::kOp) {
      return Error(Peek().offset,
                   "expected a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN)" +
                       std::string(Peek().type == Token::Type::kEnd ? "" : ", got '" + Peek().text + "'"));
    }
    const std::string& o = op.text;
    node->op = o == "=" || o == "==" ? Op::kEq
               : o == "!=" || o == "<>" ? Op::kNe
               : o == "<"               ? Op::kLt
               : o == "<="              ? Op::kLe
               : o == ">"               ? Op::kGt
                                        : Op::kGe;
    Next();
    MLPROD_ASSIGN_OR_RETURN(Literal lit, ParseLiteral(key, false));
    node->values.push_back(std::move(lit));
    return std::shared_ptr<const Node>(node);
  }

  std::string_view expr_;
  const char* what_;
  const int max_depth_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;  // levels open (ScopedDepth; see RunFilterLimits::max_depth)
};

}  // namespace run_filter_internal

using namespace run_filter_internal;

Result<RunFilter> RunFilter::Parse(std::string_view expr, const RunFilterLimits& limits) {
  RunFilter filter;
  Parser parser(expr, "filter", limits);
  MLPROD_RETURN_IF_ERROR(parser.CheckLength(limits.max_length));
  MLPROD_RETURN_IF_ERROR(parser.Tokenize());
  if (expr.find_first_not_of(" \t\r\n") == std::string_view::npos) return filter;
  MLPROD_ASSIGN_OR_RETURN(filter.root_, parser.ParseFilter());
  return filter;
}

bool RunFilter::Matches(const registry::Run& run) const {
  return root_ == nullptr || Evaluate(*root_, run);
}

Result<std::vector<OrderKey>> ParseOrderBy(std::string_view expr, const RunFilterLimits& limits) {
  Parser parser(expr, "order-by", limits);
  MLPROD_RETURN_IF_ERROR(parser.CheckLength(limits.max_length));
  MLPROD_RETURN_IF_ERROR(parser.Tokenize());
  return parser.ParseOrder();
}

void SortRuns(const std::vector<OrderKey>& keys, std::vector<registry::Run>* runs) {
  if (keys.empty()) return;
  std::vector<Key> lookups;
  for (const OrderKey& k : keys) {
    Key key;
    key.kind = k.kind;
    key.name = k.name;
    if (k.kind == OrderKey::Kind::kAttribute) key.attribute = FindAttribute(k.name);
    if (k.kind == OrderKey::Kind::kAttribute && key.attribute == nullptr) return;  // not parsed
    lookups.push_back(std::move(key));
  }
  std::stable_sort(runs->begin(), runs->end(),
                   [&](const registry::Run& a, const registry::Run& b) {
                     for (size_t i = 0; i < keys.size(); ++i) {
                       Value va = Lookup(a, lookups[i]), vb = Lookup(b, lookups[i]);
                       auto missing = [](const Value& v) {
                         return v.type == Value::Type::kMissing ||
                                (v.type == Value::Type::kNumber && std::isnan(v.number));
                       };
                       const bool ma = missing(va), mb = missing(vb);
                       if (ma || mb) {
                         if (ma && mb) continue;
                         return mb;  // present before missing, either direction
                       }
                       const bool ids = lookups[i].kind == OrderKey::Kind::kAttribute &&
                                        std::string_view(lookups[i].attribute->name) == "run_id";
                       int c = CompareValues(va, vb, ids);
                       if (c == 0) continue;
                       return keys[i].descending ? c > 0 : c < 0;
                     }
                     return false;
                   });
}

}  // namespace mlprod::server
