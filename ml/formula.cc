#include "ml/formula.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "ml/scoped_depth.h"

namespace mlprod::ml {
namespace {

enum class Tok { kName, kNumber, kString, kOp, kDot, kEnd };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;  // name (unquoted), number text, string contents, or the operator character
  int position = 0;  // 1-based
  bool quoted = false;
};

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '.'; }
bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_';
}

Status PositionError(int position, const std::string& what) {
  return Status::InvalidArgument("formula position " + std::to_string(position) + ": " + what);
}

Result<std::vector<Token>> Tokenize(std::string_view text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    int pos = static_cast<int>(i) + 1;
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < text.size() &&
                std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      size_t j = i;
      while (j < text.size() &&
             (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.'))
        ++j;
      if (j < text.size() && (text[j] == 'e' || text[j] == 'E')) {
        size_t k = j + 1;
        if (k < text.size() && (text[k] == '+' || text[k] == '-')) ++k;
        if (k < text.size() && std::isdigit(static_cast<unsigned char>(text[k]))) {
          j = k;
          while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
        }
      }
      tokens.push_back({Tok::kNumber, std::string(text.substr(i, j - i)), pos});
      i = j;
    } else if (IsNameStart(c)) {
      size_t j = i;
      while (j < text.size() && IsNameChar(text[j])) ++j;
      std::string name(text.substr(i, j - i));
      tokens.push_back({name == "." ? Tok::kDot : Tok::kName, name, pos});
      i = j;
    } else if (c == '`') {
      size_t j = text.find('`', i + 1);
      if (j == std::string_view::npos) return PositionError(pos, "unterminated backquote");
      if (j == i + 1) return PositionError(pos, "empty backquoted name");
      tokens.push_back({Tok::kName, std::string(text.substr(i + 1, j - i - 1)), pos, true});
      i = j + 1;
    } else if (c == '"' || c == '\'') {
      std::string value;
      size_t j = i + 1;
      for (; j < text.size() && text[j] != c; ++j) {
        if (text[j] == '\\' && j + 1 < text.size()) ++j;
        value += text[j];
      }
      if (j >= text.size()) return PositionError(pos, "unterminated string");
      tokens.push_back({Tok::kString, std::move(value), pos});
      i = j + 1;
    } else if (std::string_view("~+-*/^:(),=").find(c) != std::string_view::npos) {
      tokens.push_back({Tok::kOp, std::string(1, c), pos});
      ++i;
    } else {
      return PositionError(pos, std::string("unexpected character '") + c + "'");
    }
  }
  tokens.push_back({Tok::kEnd, "", static_cast<int>(text.size()) + 1});
  return tokens;
}

bool IsSyntacticName(const std::string& name) {
  if (name.empty() || !IsNameStart(name[0])) return false;
  if (name[0] == '.' && name.size() > 1 && std::isdigit(static_cast<unsigned char>(name[1])))
    return false;
  return std::all_of(name.begin(), name.end(), IsNameChar);
}

// R's formatting of a numeric constant (15 significant digits, fixed unless scientific is
// shorter).
std::string FormatNumber(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Inf" : "-Inf";  // printf's "inf" has no 'e' to split at
  char buf[64];
  int digits = 1;
  for (; digits < 15; ++digits) {
    std::snprintf(buf, sizeof(buf), "%.*e", digits - 1, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  std::snprintf(buf, sizeof(buf), "%.*e", digits - 1, x);
  // Rounded to 15 digits, the value may end in zeros, which R drops (1.2222222222222e+20 for
  // 122222222222220222222): the label then reads back to a number printed the same way.
  const int sign = buf[0] == '-' ? 1 : 0;  // buf is "[-]d.ddd...e+XX"
  while (digits > 1 && buf[sign + digits] == '0') --digits;
  std::snprintf(buf, sizeof(buf), "%.*e", digits - 1, x);
  std::string sci = buf;
  // R writes at least two exponent digits: 1e+05; printf already does.
  size_t e = sci.find('e');
  std::string mantissa = sci.substr(0, e);
  std::string sci_short = mantissa + sci.substr(e);
  int exponent = std::atoi(sci.c_str() + e + 1);
  int decimals = std::max(0, digits - 1 - exponent);
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, x);
  std::string fixed = buf;
  return fixed.size() <= sci_short.size() ? fixed : sci_short;
}

std::string QuoteName(const std::string& name) {
  return IsSyntacticName(name) ? name : "`" + name + "`";
}

// A set of terms in order of first appearance; the index makes adding one O(log n), so that
// a formula of many terms (`. + . + ...` over a wide frame) parses in near-linear time.
class TermList {
 public:
  const std::vector<std::vector<int>>& terms() const { return terms_; }
  size_t size() const { return terms_.size(); }
  void Add(const std::vector<int>& term) {
    if (index_.insert(term).second) terms_.push_back(term);
  }
  void Remove(const std::vector<int>& term) {
    if (index_.erase(term) > 0) terms_.erase(std::find(terms_.begin(), terms_.end(), term));
  }
  std::vector<std::vector<int>> Take() && { return std::move(terms_); }

 private:
  std::vector<std::vector<int>> terms_;
  std::set<std::vector<int>> index_;
};

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::vector<std::string>& available,
         const FormulaLimits& limits)
      : tokens_(std::move(tokens)),
        available_(available),
        max_depth_(std::min(limits.max_depth, kMaxFormulaDepth)),
        max_terms_(limits.max_terms) {}

  Result<ParsedFormula> Parse(std::string_view text);

 private:
  struct TermSet {
    TermList terms;
    std::optional<double> number;  // a bare numeric constant (0 or 1 for the intercept)
    int position = 0;
  };

  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() { return tokens_[pos_++]; }
  bool AtOp(const char* op) const { return Peek().kind == Tok::kOp && Peek().text == op; }
  Status Expect(const char* op) {
    if (!AtOp(op))
      return PositionError(Peek().position, std::string("expected '") + op + "'" + Found());
    ++pos_;
    return Status::Ok();
  }
  std::string Found() const {
    return Peek().kind == Tok::kEnd ? " but the formula ended" : ", found '" + Peek().text + "'";
  }

  Status CheckColumn(const Token& t) const {
    if (std::find(available_.begin(), available_.end(), t.text) == available_.end())
      return PositionError(t.position, "unknown column '" + t.text + "'");
    return Status::Ok();
  }
  int AddVariable(Expr expr, std::string label) {
    Variable v;
    v.position = expr.position;
    v.expr = std::move(expr);
    v.label = std::move(label);
    return AddVariable(std::move(v));
  }
  int AddVariable(Variable v) {
    auto [it, added] =
        variable_index_.try_emplace(v.label, static_cast<int>(formula_.variables.size()));
    if (added) formula_.variables.push_back(std::move(v));
    return it->second;
  }

  // The depth check at the token that opened the current level.
  Status CheckDepth(int position) const {
    if (depth_ <= max_depth_) return Status::Ok();
    return PositionError(position, "nested deeper than " + std::to_string(max_depth_) + " levels");
  }
  // An expression node over `args`, refused when it would nest the expression deeper than the
  // limit (a chain a + b + c nests without the parser recursing, so ScopedDepth cannot see it).
  Result<Expr> MakeNode(Expr::Op op, int position, int error_position, std::vector<Expr> args,
                        std::string name = "") {
    Expr e{op, 0, std::move(name), position, std::move(args)};
    for (const Expr& a : e.args) e.height = std::max(e.height, a.height + 1);
    if (expression_base_ + e.height > max_depth_)
      return PositionError(error_position,
                           "nested deeper than " + std::to_string(max_depth_) + " levels");
    return e;
  }
  // Refuses a term list that grew past the limit, naming the token that made it grow.
  Status CheckTerms(size_t count, int position) const {
    if (count <= max_terms_) return Status::Ok();
    return PositionError(
        position, "the formula expands to more than " + std::to_string(max_terms_) + " terms");
  }

  Result<TermSet> ParseSum(bool top);
  Result<TermSet> ParseProduct();
  Result<TermSet> ParseInteraction();
  static void AddInteractions(const TermSet& left, const TermSet& right, TermSet* out);
  Result<TermSet> ParseAtom();
  Result<Variable> ParseBasisCall(const Token& fn);
  Result<Variable> ParseContrastCall(const Token& fn);
  Result<Expr> ParseLeftAssociative(const char* op1, Expr::Op kind1, const char* op2,
                                    Expr::Op kind2, Result<Expr> (Parser::*operand)());
  Result<Expr> ParseArith();
  Result<Expr> ParseMulDiv();
  Result<Expr> ParseUnary();
  Result<Expr> ParsePower();
  Result<Expr> ParsePrimary();

  std::vector<Token> tokens_;
  const std::vector<std::string>& available_;
  const int max_depth_;
  const size_t max_terms_;
  size_t pos_ = 0;
  int depth_ = 0;            // levels open (ScopedDepth; see FormulaLimits::max_depth)
  int expression_base_ = 0;  // depth_ where the expression being parsed begins
  ParsedFormula formula_;
  std::unordered_map<std::string, int> variable_index_;  // label -> index into variables
  std::optional<TermList> dot_terms_;                    // what `.` expands to, once built
};

Result<ParsedFormula> Parser::Parse(std::string_view text) {
  formula_.text = std::string(text);
  const Token& lhs = Next();
  if (lhs.kind != Tok::kName)
    return PositionError(lhs.position, "expected the response column before '~'");
  MLPROD_RETURN_IF_ERROR(CheckColumn(lhs));
  formula_.response = lhs.text;
  formula_.response_position = lhs.position;
  MLPROD_RETURN_IF_ERROR(Expect("~"));
  MLPROD_ASSIGN_OR_RETURN(TermSet rhs, ParseSum(true));
  if (Peek().kind != Tok::kEnd)
    return PositionError(Peek().position, "unexpected '" + Peek().text + "'");
  formula_.terms = std::move(rhs.terms).Take();
  std::stable_sort(formula_.terms.begin(), formula_.terms.end(),
                   [](const auto& a, const auto& b) { return a.size() < b.size(); });
  // Input columns, in order of first appearance among the used variables.
  std::vector<bool> used(formula_.variables.size(), false);
  for (const auto& t : formula_.terms)
    for (int v : t) used[v] = true;
  for (size_t v = 0; v < formula_.variables.size(); ++v) {
    if (!used[v]) continue;
    ForEachColumn(formula_.variables[v].expr, [&](const std::string& name, int) {
      if (std::find(formula_.columns.begin(), formula_.columns.end(), name) ==
          formula_.columns.end())
        formula_.columns.push_back(name);
    });
  }
  return std::move(formula_);
}

Result<Parser::TermSet> Parser::ParseSum(bool top) {
  TermSet result;
  result.position = Peek().position;
  bool first = true;
  while (true) {
    bool minus = false;
    if (AtOp("+") || AtOp("-")) {
      minus = Next().text == "-";
    } else if (!first) {
      break;
    }
    if (first && !top && minus) return PositionError(tokens_[pos_ - 1].position, "unexpected '-'");
    first = false;
    if (Peek().kind == Tok::kEnd || AtOp(")"))
      return PositionError(Peek().position, "expected a term" + Found());
    MLPROD_ASSIGN_OR_RETURN(TermSet item, ParseProduct());
    if (item.number) {
      if (!top) return PositionError(item.position, "a constant is allowed only at the top level");
      if (*item.number == 0) {
        formula_.intercept = minus;
      } else if (*item.number == 1) {
        formula_.intercept = !minus;
      } else {
        return PositionError(item.position, "only 0 or 1 may stand alone (the intercept)");
      }
      continue;
    }
    for (const auto& t : item.terms.terms()) {
      if (minus) {
        result.terms.Remove(t);
      } else {
        result.terms.Add(t);
      }
    }
    MLPROD_RETURN_IF_ERROR(CheckTerms(result.terms.size(), item.position));
  }
  return result;
}

Result<Parser::TermSet> Parser::ParseProduct() {
  MLPROD_ASSIGN_OR_RETURN(TermSet left, ParseInteraction());
  while (AtOp("*")) {
    int op_pos = Next().position;
    MLPROD_ASSIGN_OR_RETURN(TermSet right, ParseInteraction());
    if (left.number || right.number) return PositionError(op_pos, "'*' needs terms on both sides");
    MLPROD_RETURN_IF_ERROR(CheckTerms(
        left.terms.size() + right.terms.size() + left.terms.size() * right.terms.size(), op_pos));
    TermSet merged;
    merged.position = left.position;
    for (const auto& t : left.terms.terms()) merged.terms.Add(t);
    for (const auto& t : right.terms.terms()) merged.terms.Add(t);
    AddInteractions(left, right, &merged);
    left = std::move(merged);
  }
  return left;
}

// Adds every a:b product of a term of `left` with a term of `right` (as sets of variables).
// The caller has checked that there are at most max_terms_ products.
void Parser::AddInteractions(const TermSet& left, const TermSet& right, TermSet* out) {
  for (const auto& a : left.terms.terms())
    for (const auto& b : right.terms.terms()) {
      std::vector<int> u;
      std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(u));
      out->terms.Add(u);
    }
}

Result<Parser::TermSet> Parser::ParseInteraction() {
  MLPROD_ASSIGN_OR_RETURN(TermSet left, ParseAtom());
  while (AtOp(":")) {
    int op_pos = Next().position;
    MLPROD_ASSIGN_OR_RETURN(TermSet right, ParseAtom());
    if (left.number || right.number) return PositionError(op_pos, "':' needs terms on both sides");
    MLPROD_RETURN_IF_ERROR(CheckTerms(left.terms.size() * right.terms.size(), op_pos));
    TermSet merged;
    merged.position = left.position;
    AddInteractions(left, right, &merged);
    left = std::move(merged);
  }
  return left;
}

Result<Parser::TermSet> Parser::ParseAtom() {
  const Token& t = Peek();
  TermSet set;
  set.position = t.position;
  if (t.kind == Tok::kNumber) {
    Next();
    set.number = std::strtod(t.text.c_str(), nullptr);
    return set;
  }
  if (t.kind == Tok::kDot) {
    Next();
    if (!dot_terms_) {  // every `.` expands to the same columns: build them once
      dot_terms_.emplace();
      for (const std::string& name : available_) {
        if (name == formula_.response) continue;
        Expr e{Expr::Op::kColumn, 0, name, t.position, {}};
        dot_terms_->Add({AddVariable(e, QuoteName(name))});
        formula_.dot_columns.push_back(name);
        MLPROD_RETURN_IF_ERROR(CheckTerms(dot_terms_->size(), t.position));
      }
    }
    set.terms = *dot_terms_;
    return set;
  }
  if (AtOp("(")) {
    ScopedDepth level(&depth_);
    MLPROD_RETURN_IF_ERROR(CheckDepth(t.position));
    Next();
    MLPROD_ASSIGN_OR_RETURN(set, ParseSum(false));
    MLPROD_RETURN_IF_ERROR(Expect(")"));
    return set;
  }
  if (t.kind != Tok::kName) return PositionError(t.position, "expected a term" + Found());
  Next();
  if (!t.quoted && AtOp("(")) {
    ScopedDepth level(&depth_);
    MLPROD_RETURN_IF_ERROR(CheckDepth(t.position));
    // The call's level holds its argument's nodes; for log/exp/sqrt the kCall node is that level.
    const bool call_node = t.text == "log" || t.text == "exp" || t.text == "sqrt";
    expression_base_ = call_node ? depth_ - 1 : depth_;
    if (t.text == "poly" || t.text == "ns" || t.text == "C") {
      Next();
      MLPROD_ASSIGN_OR_RETURN(Variable v, t.text == "C" ? ParseContrastCall(t) : ParseBasisCall(t));
      set.terms.Add({AddVariable(std::move(v))});
      return set;
    }
    if (t.text != "I" && t.text != "log" && t.text != "exp" && t.text != "sqrt")
      return PositionError(t.position, "unknown function '" + t.text + "'");
    Next();
    MLPROD_ASSIGN_OR_RETURN(Expr e, ParseArith());
    MLPROD_RETURN_IF_ERROR(Expect(")"));
    if (call_node) {
      MLPROD_ASSIGN_OR_RETURN(
          e, MakeNode(Expr::Op::kCall, t.position, t.position, {std::move(e)}, t.text));
    }
    std::string label = t.text == "I" ? "I(" + DeparseExpr(e) + ")" : DeparseExpr(e);
    set.terms.Add({AddVariable(std::move(e), std::move(label))});
    return set;
  }
  MLPROD_RETURN_IF_ERROR(CheckColumn(t));
  Expr e{Expr::Op::kColumn, 0, t.text, t.position, {}};
  set.terms.Add({AddVariable(std::move(e), QuoteName(t.text))});
  return set;
}

// After "poly(" or "ns(": the expression, then the degree (poly) or df (ns), positional or named.
Result<Variable> Parser::ParseBasisCall(const Token& fn) {
  const bool poly = fn.text == "poly";
  const std::string arg_name = poly ? "degree" : "df";
  if (AtOp(")"))
    return PositionError(Peek().position,
                         fn.text + "() needs an argument: " + fn.text + "(x, " + arg_name + ")");
  Variable v;
  v.kind = poly ? Variable::Kind::kPoly : Variable::Kind::kSpline;
  v.position = fn.position;
  MLPROD_ASSIGN_OR_RETURN(v.expr, ParseArith());
  bool have_size = false, named = false;
  while (AtOp(",")) {
    Next();
    const Token& arg = Peek();
    bool is_named = arg.kind == Tok::kName && !arg.quoted && pos_ + 1 < tokens_.size() &&
                    tokens_[pos_ + 1].kind == Tok::kOp && tokens_[pos_ + 1].text == "=";
    if (is_named) {
      if (arg.text != arg_name)
        return PositionError(arg.position,
                             "unknown argument '" + arg.text + "' of " + fn.text + "()");
      pos_ += 2;
    }
    if (have_size) return PositionError(arg.position, "too many arguments to " + fn.text + "()");
    const Token& value = Peek();
    bool negative = AtOp("-");
    if (negative) Next();
    if (Peek().kind != Tok::kNumber)
      return PositionError(Peek().position,
                           fn.text + "() needs a number for '" + arg_name + "'" + Found());
    double d = std::strtod(Next().text.c_str(), nullptr);
    if (negative) d = -d;
    if (d != std::floor(d) || d < 1 || d > 1000)
      return PositionError(value.position, fn.text + "() '" + arg_name +
                                               "' must be a whole number from 1 to 1000, not " +
                                               FormatNumber(d));
    v.size = static_cast<int>(d);
    have_size = true;
    named = is_named;
  }
  if (!have_size)
    return PositionError(Peek().position, fn.text + "() needs '" + arg_name + "': " + fn.text +
                                              "(x, " + arg_name + ")" + Found());
  MLPROD_RETURN_IF_ERROR(Expect(")"));
  v.label = fn.text + "(" + DeparseExpr(v.expr) + ", " + (named ? arg_name + " = " : "") +
            std::to_string(v.size) + ")";
  return v;
}

// After "C(": a column, then ref = "level".
Result<Variable> Parser::ParseContrastCall(const Token& fn) {
  Variable v;
  v.kind = Variable::Kind::kContrast;
  v.position = fn.position;
  const Token& col = Peek();
  if (col.kind != Tok::kName ||
      (!col.quoted && pos_ + 1 < tokens_.size() && tokens_[pos_ + 1].kind == Tok::kOp &&
       tokens_[pos_ + 1].text == "("))
    return PositionError(col.position, "C() needs a column: C(x, ref = \"level\")" + Found());
  MLPROD_RETURN_IF_ERROR(CheckColumn(col));
  Next();
  v.expr = Expr{Expr::Op::kColumn, 0, col.text, col.position, {}};
  if (!AtOp(","))
    return PositionError(Peek().position,
                         "C() needs a reference level: C(x, ref = \"level\")" + Found());
  Next();
  const Token& arg = Peek();
  if (arg.kind != Tok::kName || arg.quoted || arg.text != "ref" || pos_ + 1 >= tokens_.size() ||
      tokens_[pos_ + 1].kind != Tok::kOp || tokens_[pos_ + 1].text != "=")
    return PositionError(arg.position, "C() takes only ref = \"level\"" + Found());
  pos_ += 2;
  if (Peek().kind != Tok::kString)
    return PositionError(Peek().position, "C() needs a quoted level: ref = \"level\"" + Found());
  v.ref = Peek().text;
  v.ref_position = Next().position;
  if (AtOp(",")) return PositionError(Peek().position, "too many arguments to C()");
  MLPROD_RETURN_IF_ERROR(Expect(")"));
  std::string quoted;
  for (char c : v.ref) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  v.label = "C(" + QuoteName(col.text) + ", ref = \"" + quoted + "\")";
  return v;
}

// One left-associative level: operand ((op1 | op2) operand)*, as R parses a + b - c.
Result<Expr> Parser::ParseLeftAssociative(const char* op1, Expr::Op kind1, const char* op2,
                                          Expr::Op kind2, Result<Expr> (Parser::*operand)()) {
  MLPROD_ASSIGN_OR_RETURN(Expr left, (this->*operand)());
  while (AtOp(op1) || AtOp(op2)) {
    const Token& op = Next();
    MLPROD_ASSIGN_OR_RETURN(Expr right, (this->*operand)());
    const int p = left.position;
    MLPROD_ASSIGN_OR_RETURN(left, MakeNode(op.text == op1 ? kind1 : kind2, p, op.position,
                                           {std::move(left), std::move(right)}));
  }
  return left;
}

Result<Expr> Parser::ParseArith() {
  return ParseLeftAssociative("+", Expr::Op::kAdd, "-", Expr::Op::kSub, &Parser::ParseMulDiv);
}

Result<Expr> Parser::ParseMulDiv() {
  return ParseLeftAssociative("*", Expr::Op::kMul, "/", Expr::Op::kDiv, &Parser::ParseUnary);
}

Result<Expr> Parser::ParseUnary() {
  if (AtOp("-") || AtOp("+")) {
    ScopedDepth level(&depth_);
    const Token& op = Next();
    MLPROD_RETURN_IF_ERROR(CheckDepth(op.position));
    MLPROD_ASSIGN_OR_RETURN(Expr inner, ParseUnary());
    if (op.text == "+") return inner;
    return MakeNode(Expr::Op::kNeg, op.position, op.position, {std::move(inner)});
  }
  return ParsePower();
}

Result<Expr> Parser::ParsePower() {
  MLPROD_ASSIGN_OR_RETURN(Expr base, ParsePrimary());
  if (!AtOp("^")) return base;
  ScopedDepth level(&depth_);
  const int op_position = Next().position;
  MLPROD_RETURN_IF_ERROR(CheckDepth(op_position));
  MLPROD_ASSIGN_OR_RETURN(Expr exponent, ParseUnary());  // right-associative, allows x^-1
  const int p = base.position;
  return MakeNode(Expr::Op::kPow, p, op_position, {std::move(base), std::move(exponent)});
}

Result<Expr> Parser::ParsePrimary() {
  const Token& t = Next();
  if (t.kind == Tok::kNumber) {
    char* end = nullptr;
    double v = std::strtod(t.text.c_str(), &end);
    if (*end != '\0') return PositionError(t.position, "malformed number '" + t.text + "'");
    // R would read 1e999 as Inf, but our labels must parse again ("Inf" names no column).
    if (!std::isfinite(v)) return PositionError(t.position, "number '" + t.text + "' is too large");
    return Expr{Expr::Op::kNumber, v, "", t.position, {}};
  }
  if (t.kind == Tok::kOp && t.text == "(") {
    ScopedDepth level(&depth_);
    MLPROD_RETURN_IF_ERROR(CheckDepth(t.position));
    MLPROD_ASSIGN_OR_RETURN(Expr inner, ParseArith());
    MLPROD_RETURN_IF_ERROR(Expect(")"));
    return MakeNode(Expr::Op::kParen, t.position, t.position, {std::move(inner)});
  }
  if (t.kind == Tok::kName) {
    if (!t.quoted && AtOp("(")) {
      if (t.text != "log" && t.text != "exp" && t.text != "sqrt")
        return PositionError(t.position, "unknown function '" + t.text + "'");
      ScopedDepth level(&depth_);
      MLPROD_RETURN_IF_ERROR(CheckDepth(t.position));
      Next();
      MLPROD_ASSIGN_OR_RETURN(Expr inner, ParseArith());
      MLPROD_RETURN_IF_ERROR(Expect(")"));
      return MakeNode(Expr::Op::kCall, t.position, t.position, {std::move(inner)}, t.text);
    }
    MLPROD_RETURN_IF_ERROR(CheckColumn(t));
    return Expr{Expr::Op::kColumn, 0, t.text, t.position, {}};
  }
  --pos_;
  return PositionError(t.position, "expected a number, a column or '('" + Found());
}

}  // namespace

double EvalCall(const std::string& name, double x) {
  if (name == "log") return std::log(x);
  if (name == "exp") return std::exp(x);
  if (name == "sqrt") return std::sqrt(x);
  return NAN;
}

double PowForFormula(double x, double y) { return y == 2.0 ? x * x : std::pow(x, y); }

std::string DeparseExpr(const Expr& e) {
  switch (e.op) {
    case Expr::Op::kNumber:
      return FormatNumber(e.number);
    case Expr::Op::kColumn:
      return QuoteName(e.name);
    case Expr::Op::kNeg:
      return "-" + DeparseExpr(e.args[0]);
    case Expr::Op::kParen:
      return "(" + DeparseExpr(e.args[0]) + ")";
    case Expr::Op::kCall:
      return e.name + "(" + DeparseExpr(e.args[0]) + ")";
    case Expr::Op::kAdd:
      return DeparseExpr(e.args[0]) + " + " + DeparseExpr(e.args[1]);
    case Expr::Op::kSub:
      return DeparseExpr(e.args[0]) + " - " + DeparseExpr(e.args[1]);
    case Expr::Op::kMul:
      return DeparseExpr(e.args[0]) + " * " + DeparseExpr(e.args[1]);
    case Expr::Op::kDiv:
      return DeparseExpr(e.args[0]) + "/" + DeparseExpr(e.args[1]);
    case Expr::Op::kPow:
      return DeparseExpr(e.args[0]) + "^" + DeparseExpr(e.args[1]);
  }
  return "";
}

Result<ParsedFormula> ParseFormula(std::string_view text, const std::vector<std::string>& available,
                                   const FormulaLimits& limits) {
  if (text.size() > limits.max_length)
    return PositionError(
        static_cast<int>(std::min<size_t>(limits.max_length, INT32_MAX - 1)) + 1,
        "the formula is longer than " + std::to_string(limits.max_length) + " bytes");
  MLPROD_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  Parser parser(std::move(tokens), available, limits);
  return parser.Parse(text);
}

std::string TermLabel(const ParsedFormula& formula, const std::vector<int>& term) {
  std::string label;
  for (int v : term) {
    if (!label.empty()) label += ":";
    label += formula.variables[v].label;
  }
  return label;
}

}  // namespace mlprod::ml
