#include "ml/formula.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>

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
  char buf[64];
  int digits = 1;
  for (; digits < 15; ++digits) {
    std::snprintf(buf, sizeof(buf), "%.*e", digits - 1, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
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

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::vector<std::string>& available)
      : tokens_(std::move(tokens)), available_(available) {}

  Result<ParsedFormula> Parse(std::string_view text);

 private:
  struct TermSet {
    std::vector<std::vector<int>> terms;
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
    for (size_t i = 0; i < formula_.variables.size(); ++i)
      if (formula_.variables[i].label == v.label) return static_cast<int>(i);
    formula_.variables.push_back(std::move(v));
    return static_cast<int>(formula_.variables.size()) - 1;
  }
  static void AddTerm(std::vector<std::vector<int>>* terms, const std::vector<int>& t) {
    if (std::find(terms->begin(), terms->end(), t) == terms->end()) terms->push_back(t);
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
  size_t pos_ = 0;
  ParsedFormula formula_;
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
  formula_.terms = std::move(rhs.terms);
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
    for (const auto& t : item.terms) {
      if (minus) {
        auto it = std::find(result.terms.begin(), result.terms.end(), t);
        if (it != result.terms.end()) result.terms.erase(it);
      } else {
        AddTerm(&result.terms, t);
      }
    }
  }
  return result;
}

Result<Parser::TermSet> Parser::ParseProduct() {
  MLPROD_ASSIGN_OR_RETURN(TermSet left, ParseInteraction());
  while (AtOp("*")) {
    int op_pos = Next().position;
    MLPROD_ASSIGN_OR_RETURN(TermSet right, ParseInteraction());
    if (left.number || right.number) return PositionError(op_pos, "'*' needs terms on both sides");
    TermSet merged;
    merged.position = left.position;
    for (const auto& t : left.terms) AddTerm(&merged.terms, t);
    for (const auto& t : right.terms) AddTerm(&merged.terms, t);
    AddInteractions(left, right, &merged);
    left = std::move(merged);
  }
  return left;
}

// Adds every a:b product of a term of `left` with a term of `right` (as sets of variables).
void Parser::AddInteractions(const TermSet& left, const TermSet& right, TermSet* out) {
  for (const auto& a : left.terms)
    for (const auto& b : right.terms) {
      std::vector<int> u;
      std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(u));
      AddTerm(&out->terms, u);
    }
}

Result<Parser::TermSet> Parser::ParseInteraction() {
  MLPROD_ASSIGN_OR_RETURN(TermSet left, ParseAtom());
  while (AtOp(":")) {
    int op_pos = Next().position;
    MLPROD_ASSIGN_OR_RETURN(TermSet right, ParseAtom());
    if (left.number || right.number) return PositionError(op_pos, "':' needs terms on both sides");
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
    for (const std::string& name : available_) {
      if (name == formula_.response) continue;
      Expr e{Expr::Op::kColumn, 0, name, t.position, {}};
      int v = AddVariable(e, QuoteName(name));
      AddTerm(&set.terms, {v});
      formula_.dot_columns.push_back(name);
    }
    return set;
  }
  if (AtOp("(")) {
    Next();
    MLPROD_ASSIGN_OR_RETURN(set, ParseSum(false));
    MLPROD_RETURN_IF_ERROR(Expect(")"));
    return set;
  }
  if (t.kind != Tok::kName) return PositionError(t.position, "expected a term" + Found());
  Next();
  if (!t.quoted && AtOp("(") && (t.text == "poly" || t.text == "ns" || t.text == "C")) {
    Next();
    MLPROD_ASSIGN_OR_RETURN(Variable v, t.text == "C" ? ParseContrastCall(t) : ParseBasisCall(t));
    set.terms.push_back({AddVariable(std::move(v))});
    return set;
  }
  if (!t.quoted && AtOp("(")) {
    if (t.text != "I" && t.text != "log" && t.text != "exp" && t.text != "sqrt")
      return PositionError(t.position, "unknown function '" + t.text + "'");
    Next();
    MLPROD_ASSIGN_OR_RETURN(Expr inner, ParseArith());
    MLPROD_RETURN_IF_ERROR(Expect(")"));
    Expr e = t.text == "I" ? std::move(inner)
                           : Expr{Expr::Op::kCall, 0, t.text, t.position, {std::move(inner)}};
    std::string label = t.text == "I" ? "I(" + DeparseExpr(e) + ")" : DeparseExpr(e);
    set.terms.push_back({AddVariable(std::move(e), std::move(label))});
    return set;
  }
  MLPROD_RETURN_IF_ERROR(CheckColumn(t));
  Expr e{Expr::Op::kColumn, 0, t.text, t.position, {}};
  set.terms.push_back({AddVariable(std::move(e), QuoteName(t.text))});
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
    int p = left.position;
    left = Expr{op.text == op1 ? kind1 : kind2, 0, "", p, {std::move(left), std::move(right)}};
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
    const Token& op = Next();
    MLPROD_ASSIGN_OR_RETURN(Expr inner, ParseUnary());
    if (op.text == "+") return inner;
    return Expr{Expr::Op::kNeg, 0, "", op.position, {std::move(inner)}};
  }
  return ParsePower();
}

Result<Expr> Parser::ParsePower() {
  MLPROD_ASSIGN_OR_RETURN(Expr base, ParsePrimary());
  if (!AtOp("^")) return base;
  Next();
  MLPROD_ASSIGN_OR_RETURN(Expr exponent, ParseUnary());  // right-associative, allows x^-1
  int p = base.position;
  return Expr{Expr::Op::kPow, 0, "", p, {std::move(base), std::move(exponent)}};
}

Result<Expr> Parser::ParsePrimary() {
  const Token& t = Next();
  if (t.kind == Tok::kNumber) {
    char* end = nullptr;
    double v = std::strtod(t.text.c_str(), &end);
    if (*end != '\0') return PositionError(t.position, "malformed number '" + t.text + "'");
    return Expr{Expr::Op::kNumber, v, "", t.position, {}};
  }
  if (t.kind == Tok::kOp && t.text == "(") {
    MLPROD_ASSIGN_OR_RETURN(Expr inner, ParseArith());
    MLPROD_RETURN_IF_ERROR(Expect(")"));
    return Expr{Expr::Op::kParen, 0, "", t.position, {std::move(inner)}};
  }
  if (t.kind == Tok::kName) {
    if (!t.quoted && AtOp("(")) {
      if (t.text != "log" && t.text != "exp" && t.text != "sqrt")
        return PositionError(t.position, "unknown function '" + t.text + "'");
      Next();
      MLPROD_ASSIGN_OR_RETURN(Expr inner, ParseArith());
      MLPROD_RETURN_IF_ERROR(Expect(")"));
      return Expr{Expr::Op::kCall, 0, t.text, t.position, {std::move(inner)}};
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

Result<ParsedFormula> ParseFormula(std::string_view text,
                                   const std::vector<std::string>& available) {
  MLPROD_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  Parser parser(std::move(tokens), available);
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
