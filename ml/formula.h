// R-style model formulas: "salary ~ years_code + I(years_code^2) + country".
//
// ParseFormula turns the text into the response, the intercept flag, the variables (bare columns,
// I(...) expressions, log/exp/sqrt calls) and the terms (sets of variables, ordered as R orders
// them: by degree, then by first appearance). Labels follow R's deparse, so term names match R's.
//
// Supported: `+`, `-` (term removal), `:` (interaction), `*` (a*b = a + b + a:b), parentheses,
// `0 +` / `- 1` / `+ 1`, `.` (every available column except the response), backquoted names,
// `I(expr)` with + - * / ^, numbers, columns, parentheses and log/exp/sqrt, and log/exp/sqrt(expr)
// as variables. Thread-compatible plain values.
//
// Data-dependent terms (their state is learnt from the training rows by Design::Fit):
//   poly(expr, d) or poly(expr, degree = d): R's orthogonal polynomials of degree d >= 1, design
//     columns "poly(x, 2)1", "poly(x, 2)2" (R's label, the deparsed call, then the column number);
//   ns(expr, df) or ns(expr, df = k): R's splines::ns natural cubic spline basis, df >= 1
//     columns "ns(x, 3)1" ... "ns(x, 3)3";
//   C(column, ref = "b") (or ref = 'b'): a categorical or boolean column treatment-coded against
//     level b, the other levels keeping their order (R's relevel). Its label is the call as R
//     deparses it, strings in double quotes: C(x, ref = "b"), so its design columns are
//     "C(x, ref = \"b\")a", "C(x, ref = \"b\")c".
// Argument errors (unknown function or argument, missing or extra arguments, a non-integer or
// d < 1 / df < 1) are INVALID_ARGUMENT with the 1-based position of the offending token.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ml/formula_limits.h"
#include "ml/status.h"

namespace mlprod::ml {

// A numeric expression over columns, as written inside I(...).
struct Expr {
  enum class Op { kNumber, kColumn, kNeg, kAdd, kSub, kMul, kDiv, kPow, kParen, kCall };
  Op op = Op::kNumber;
  double number = 0;       // kNumber
  std::string name;        // kColumn: the column; kCall: the function (log, exp, sqrt)
  int position = 0;        // 1-based position of the node's first character in the formula
  std::vector<Expr> args;  // operands (1 for kNeg/kParen/kCall, 2 for binary operators)
  // Levels below this node: 0 for a number or a column. ParseFormula keeps it within
  // FormulaLimits::max_depth, which bounds every recursive walk (DeparseExpr, EvalExpr,
  // ForEachColumn, the destructor).
  int height = 0;
};

// R's deparse of `expr`: "x^2", "x * 2", "x/2", "(x + 1)^2", "log(x)".
std::string DeparseExpr(const Expr& expr);

// Calls `visit(name, position)` for each column referenced in `expr`, left to right.
template <typename Visit>
void ForEachColumn(const Expr& expr, const Visit& visit) {
  if (expr.op == Expr::Op::kColumn) visit(expr.name, expr.position);
  for (const Expr& arg : expr.args) ForEachColumn(arg, visit);
}

// Evaluates `expr`; `value(name)` returns a column's value for the current row.
template <typename Value>
double EvalExpr(const Expr& expr, const Value& value);

// A variable of the model: a bare column (expr.op == kColumn), a computed numeric one, a
// poly/ns basis of an expression, or a C() recoded categorical column.
struct Variable {
  enum class Kind {
    kPlain,     // a bare column or a numeric expression (I(...), log, exp, sqrt)
    kPoly,      // poly(expr, size): `size` orthogonal polynomial columns
    kSpline,    // ns(expr, size): `size` natural cubic spline columns
    kContrast,  // C(column, ref = "ref"): a factor with reference level `ref`
  };
  std::string label;  // R's label: "years_code", "I(years_code^2)", "log(x)", "poly(x, 2)"
  Expr expr;          // the column or expression (for poly/ns/C: the first argument)
  Kind kind = Kind::kPlain;
  int size = 1;          // kPoly: the degree; kSpline: the df
  std::string ref;       // kContrast: the reference level
  int position = 0;      // 1-based position of the variable's first character
  int ref_position = 0;  // kContrast: position of the reference level's string
  bool IsColumn() const { return kind == Kind::kPlain && expr.op == Expr::Op::kColumn; }
};

struct ParsedFormula {
  std::string text;
  std::string response;
  int response_position = 1;
  bool intercept = true;
  std::vector<Variable> variables;       // in order of first appearance (unused ones included)
  std::vector<std::vector<int>> terms;   // each a sorted set of indices into `variables`
  std::vector<std::string> columns;      // input columns the terms use, first appearance first
  std::vector<std::string> dot_columns;  // what `.` expanded to (empty without `.`)
};

// Parses `text`, checking every column name against `available` (in frame order; `.` expands to
// these, minus the response). INVALID_ARGUMENT "formula position P: ..." naming the 1-based
// character position on a syntax error or an unknown column, and on going past `limits`: for a
// formula longer than max_length, P is max_length + 1, checked before anything else; for
// nesting deeper than max_depth, P is the token that opens the level past it (before the parser
// descends into it); for more than max_terms terms, the operator or `.` that expands past them.
Result<ParsedFormula> ParseFormula(std::string_view text, const std::vector<std::string>& available,
                                   const FormulaLimits& limits = {});

// "a:b" for the term's variables.
std::string TermLabel(const ParsedFormula& formula, const std::vector<int>& term);

// ---- implementation of the template ----

double EvalCall(const std::string& name, double x);
// x^y as R computes it (x * x for y == 2, std::pow otherwise).
double PowForFormula(double x, double y);

template <typename Value>
double EvalExpr(const Expr& expr, const Value& value) {
  switch (expr.op) {
    case Expr::Op::kNumber:
      return expr.number;
    case Expr::Op::kColumn:
      return value(expr.name);
    case Expr::Op::kNeg:
      return -EvalExpr(expr.args[0], value);
    case Expr::Op::kParen:
      return EvalExpr(expr.args[0], value);
    case Expr::Op::kCall:
      return EvalCall(expr.name, EvalExpr(expr.args[0], value));
    case Expr::Op::kAdd:
      return EvalExpr(expr.args[0], value) + EvalExpr(expr.args[1], value);
    case Expr::Op::kSub:
      return EvalExpr(expr.args[0], value) - EvalExpr(expr.args[1], value);
    case Expr::Op::kMul:
      return EvalExpr(expr.args[0], value) * EvalExpr(expr.args[1], value);
    case Expr::Op::kDiv:
      return EvalExpr(expr.args[0], value) / EvalExpr(expr.args[1], value);
    case Expr::Op::kPow:
      return PowForFormula(EvalExpr(expr.args[0], value), EvalExpr(expr.args[1], value));
  }
  return 0;
}

}  // namespace mlprod::ml
