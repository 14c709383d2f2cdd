// FormulaLimits: a formula over the length, nesting or term caps is INVALID_ARGUMENT naming the
// position, whatever its size or shape, and never reaches a recursion deeper than the cap (a
// formula nested 20 000 levels used to overflow the server's stack; issue 10).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ml/design_matrix.h"
#include "ml/fit_data.h"
#include "ml/formula.h"
#include "ml/model.h"
#include "tests/thread_stack.h"

namespace mlprod::ml {
namespace {

const std::vector<std::string> kColumns = {"y", "x", "z"};

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// The position P of an INVALID_ARGUMENT "formula position P: ...", or -1 for any other answer.
int ErrorPosition(const Status& status) {
  if (status.code() != StatusCode::kInvalidArgument) return -1;
  const std::string key = "formula position ";
  const std::string& m = status.message();
  if (m.compare(0, key.size(), key) != 0) return -1;
  return std::stoi(m.substr(key.size()));
}

template <typename T>
int ErrorPosition(const Result<T>& result) {
  return result.ok() ? -1 : ErrorPosition(result.status());
}

FormulaLimits Unbounded(int max_depth = FormulaLimits{}.max_depth) {
  FormulaLimits limits;
  limits.max_length = 100 << 20;
  limits.max_depth = max_depth;
  return limits;
}

// "y ~ " then n parentheses around x: the k-th '(' is at position 4 + k.
std::string NestedTerm(size_t n) { return "y ~ " + Repeat("(", n) + "x" + Repeat(")", n); }

TEST(FormulaLimits, HundredThousandLevelsAreRefusedByLengthFirst) {
  auto f = ParseFormula(NestedTerm(100000), kColumns);
  EXPECT_EQ(ErrorPosition(f), 8193) << f.status().ToString();
}

TEST(FormulaLimits, HundredThousandLevelsAreRefusedAtTheLevelPastTheCap) {
  // With the length cap out of the way, the 101st '(' is the one refused.
  auto f = ParseFormula(NestedTerm(100000), kColumns, Unbounded());
  EXPECT_EQ(ErrorPosition(f), 4 + 101) << f.status().ToString();
  EXPECT_NE(f.status().message().find("nested deeper than 100"), std::string::npos);
}

TEST(FormulaLimits, EveryKindOfNestingIsCounted) {
  const FormulaLimits limits = Unbounded();
  const size_t n = 100000;
  // Inside I(), the call is level 1: the 100th '(' opens level 101 at position 6 + 100.
  EXPECT_EQ(ErrorPosition(ParseFormula("y ~ I(" + Repeat("(", n) + "x" + Repeat(")", n) + ")",
                                       kColumns, limits)),
            6 + 100);
  // Unary signs: "- " per level, the 100th at 7 + 2 * 99.
  EXPECT_EQ(ErrorPosition(ParseFormula("y ~ I(" + Repeat("- ", n) + "x)", kColumns, limits)),
            7 + 2 * 99);
  EXPECT_EQ(ErrorPosition(ParseFormula("y ~ I(" + Repeat("+", n) + "x)", kColumns, limits)),
            7 + 99);
  // Right-associative powers x^x^x...: the 100th '^' at 8 + 2 * 99.
  EXPECT_EQ(ErrorPosition(ParseFormula("y ~ I(x" + Repeat("^x", n) + ")", kColumns, limits)),
            8 + 2 * 99);
  // Calls: log( is 4 characters; the outer log is level 1, the 101st at 5 + 4 * 100.
  EXPECT_EQ(ErrorPosition(
                ParseFormula("y ~ " + Repeat("log(", n) + "x" + Repeat(")", n), kColumns, limits)),
            5 + 4 * 100);
  // A left-associative chain recurses in the walks, not in the parser: I(x + x + ...) nests
  // one level per operator, the 100th '+' at 9 + 4 * 99.
  EXPECT_EQ(ErrorPosition(ParseFormula("y ~ I(x" + Repeat(" + x", n) + ")", kColumns, limits)),
            9 + 4 * 99);
  EXPECT_EQ(ErrorPosition(ParseFormula("y ~ poly(x" + Repeat("*z", n) + ", 2)", kColumns, limits)),
            11 + 2 * 99);
}

TEST(FormulaLimits, ExactlyAtTheDepthLimitParses) {
  auto at = ParseFormula(NestedTerm(100), kColumns);
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  EXPECT_EQ(at->columns, (std::vector<std::string>{"x"}));
  EXPECT_EQ(ErrorPosition(ParseFormula(NestedTerm(101), kColumns)), 4 + 101);

  // I( and 99 parentheses: 100 levels, the expression's nodes included.
  auto in_call = ParseFormula("y ~ I(" + Repeat("(", 99) + "x" + Repeat(")", 99) + ")", kColumns);
  ASSERT_TRUE(in_call.ok()) << in_call.status().ToString();
  EXPECT_EQ(in_call->variables[0].expr.height, 99);
  EXPECT_EQ(ErrorPosition(
                ParseFormula("y ~ I(" + Repeat("(", 100) + "x" + Repeat(")", 100) + ")", kColumns)),
            6 + 100);

  // A chain of 99 operators inside I() is at the limit; the 100th is past it.
  auto chain = ParseFormula("y ~ I(x" + Repeat(" + z", 99) + ")", kColumns);
  ASSERT_TRUE(chain.ok()) << chain.status().ToString();
  EXPECT_EQ(chain->variables[0].expr.height, 99);
  EXPECT_EQ(ErrorPosition(ParseFormula("y ~ I(x" + Repeat(" + z", 100) + ")", kColumns)),
            9 + 4 * 99);
  // The chain's height counts with the parentheses around its first operand.
  EXPECT_EQ(
      ErrorPosition(ParseFormula(
          "y ~ I(" + Repeat("(", 50) + "x" + Repeat(")", 50) + Repeat(" + z", 50) + ")", kColumns)),
      109 + 4 * 49);  // the first '+' is at 6 + 50 + 1 + 50 + 2
}

TEST(FormulaLimits, DepthLimitIsConfigurableUpToTheCeiling) {
  FormulaLimits limits = Unbounded(3);
  EXPECT_TRUE(ParseFormula(NestedTerm(3), kColumns, limits).ok());
  EXPECT_EQ(ErrorPosition(ParseFormula(NestedTerm(4), kColumns, limits)), 4 + 4);
  // A flag asking for more than kMaxFormulaDepth gets kMaxFormulaDepth.
  limits = Unbounded(1 << 30);
  EXPECT_TRUE(ParseFormula(NestedTerm(kMaxFormulaDepth), kColumns, limits).ok());
  EXPECT_EQ(ErrorPosition(ParseFormula(NestedTerm(100000), kColumns, limits)),
            4 + kMaxFormulaDepth + 1);
}

TEST(FormulaLimits, TheCeilingFitsTheServerThreadsStack) {
  // The costliest shapes per level: parentheses around terms, and inside an expression.
  const std::string terms = NestedTerm(kMaxFormulaDepth);
  const std::string expression =
      "y ~ I(" + Repeat("(", kMaxFormulaDepth - 1) + "x" + Repeat(")", kMaxFormulaDepth - 1) + ")";
  bool parsed = false;
  testutil::OnStackOf(testutil::kParseStack, [&] {
    const FormulaLimits limits = Unbounded(kMaxFormulaDepth);
    parsed = ParseFormula(terms, kColumns, limits).ok() &&
             ParseFormula(expression, kColumns, limits).ok();
  });
  EXPECT_TRUE(parsed);
}

TEST(FormulaLimits, TenMegabytesAreRefusedAtTheFirstByteOverTheLength) {
  const std::string huge = "y ~ x" + Repeat(" + z", (10 << 20) / 4);
  auto f = ParseFormula(huge, kColumns);
  EXPECT_EQ(ErrorPosition(f), 8193) << f.status().ToString();
  EXPECT_NE(f.status().message().find("longer than 8192 bytes"), std::string::npos);
}

TEST(FormulaLimits, ExactlyAtTheLengthLimitParses) {
  std::string at = "y ~ x";
  at.resize(8192, ' ');
  auto f = ParseFormula(at, kColumns);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(ErrorPosition(ParseFormula(at + " ", kColumns)), 8193);
  FormulaLimits small;
  small.max_length = 5;
  EXPECT_TRUE(ParseFormula("y ~ x", kColumns, small).ok());
  EXPECT_EQ(ErrorPosition(ParseFormula("y ~ xx", {"y", "xx"}, small)), 6);
}

TEST(FormulaLimits, InteractionsPastTheTermLimitAreRefusedAtTheOperator) {
  std::vector<std::string> columns = {"y"};
  std::string product = "y ~ c0";
  for (int i = 0; i < 13; ++i) {
    columns.push_back("c" + std::to_string(i));
    if (i > 0) product += "*c" + std::to_string(i);
  }
  // c0 * ... * c11 expands to 2^12 - 1 = 4095 terms; "*c12" would make 8191. Its '*' follows
  // "y ~ c0", nine "*cK" and two "*cKK".
  auto twelve = ParseFormula(product.substr(0, product.size() - 4), columns);
  ASSERT_TRUE(twelve.ok()) << twelve.status().ToString();
  EXPECT_EQ(twelve->terms.size(), 4095u);
  auto thirteen = ParseFormula(product, columns);
  EXPECT_EQ(ErrorPosition(thirteen), 6 + 9 * 3 + 2 * 4 + 1) << thirteen.status().ToString();
  EXPECT_NE(thirteen.status().message().find("more than 4096 terms"), std::string::npos);
  // ':' too: (c0 + ... + c99):(c0 + ... + c99) would be 10 000 products.
  std::vector<std::string> wide = {"y"};
  std::string sum;
  for (int i = 0; i < 100; ++i) {
    wide.push_back("w" + std::to_string(i));
    sum += (i ? " + w" : "w") + std::to_string(i);
  }
  auto square = ParseFormula("y ~ (" + sum + "):(" + sum + ")", wide);
  EXPECT_EQ(ErrorPosition(square), 6 + static_cast<int>(sum.size()) + 1)
      << square.status().ToString();
}

TEST(FormulaLimits, DesignsWiderThanTheCapAreRefusedBeforeNamingTheirColumns) {
  const std::vector<InputColumn> signature = {{"x", ColumnType::kNumeric, {}},
                                              {"z", ColumnType::kNumeric, {}}};
  auto design = [&](const std::string& text) -> Result<Design> {
    MLPROD_ASSIGN_OR_RETURN(ParsedFormula f, ParseFormula(text, kColumns));
    return Design::Create(std::move(f), signature);
  };
  // 1000^3 columns from 45 bytes: refused at the term, naming its position.
  EXPECT_EQ(ErrorPosition(design("y ~ x + poly(x, 1000):ns(z, 1000):poly(z, 1000)")), 9);
  // 256 * 256 = kMaxColumns exactly; the intercept would be one more.
  auto at = design("y ~ 0 + poly(x, 256):poly(z, 256)");
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  EXPECT_EQ(at->cols(), Design::kMaxColumns);
  EXPECT_EQ(ErrorPosition(design("y ~ poly(x, 256):poly(z, 256)")), 5);
}

TEST(FormulaLimits, RepeatedDotsOverAWideFrameParse) {
  std::vector<std::string> columns = {"y"};
  for (int i = 0; i < 2000; ++i) columns.push_back("c" + std::to_string(i));
  // 2000 dots (8001 bytes), each of 2000 columns: linear in the formula, not quadratic.
  auto f = ParseFormula("y ~ ." + Repeat(" + .", 1999), columns);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->terms.size(), 2000u);
  EXPECT_EQ(f->dot_columns.size(), 2000u);
}

TEST(FormulaLimits, NumbersTooLargeForADoubleAreRefused) {
  // The label would read "I(x * Inf)", which does not parse again (a stepwise candidate).
  auto f = ParseFormula("y ~ I(x * 1e999)", kColumns);
  EXPECT_EQ(ErrorPosition(f), 11) << f.status().ToString();
  EXPECT_TRUE(ParseFormula("y ~ I(x * 1e300)", kColumns).ok());
}

Frame SmallFrame() {
  Frame frame;
  frame.rows = 40;
  Column y{"y", ColumnType::kNumeric, {}, {}, {}, 0};
  Column x{"x", ColumnType::kNumeric, {}, {}, {}, 0};
  Column z{"z", ColumnType::kNumeric, {}, {}, {}, 0};
  for (size_t i = 0; i < frame.rows; ++i) {
    x.values.push_back(static_cast<double>(i % 7) + 1);
    z.values.push_back(static_cast<double>((i * 5) % 11) + 2);
    y.values.push_back(3 * x.values.back() - z.values.back() + static_cast<double>(i % 3));
  }
  frame.columns = {y, x, z};
  return frame;
}

TEST(FormulaLimits, TrainOptionsCarryTheLimitsForEveryKind) {
  const Frame frame = SmallFrame();
  TrainOptions options;
  options.formula = NestedTerm(100000);
  EXPECT_EQ(ErrorPosition(ValidateTrainOptions(frame, options)), 8193);
  options.formula_limits = Unbounded();
  EXPECT_EQ(ErrorPosition(ValidateTrainOptions(frame, options)), 4 + 101);
  // k-means' one-sided formula: the limits and positions are those of the client's text.
  options.kind = "kmeans";
  options.params = {{"k", "2"}};
  options.formula_limits = {};
  options.formula = "~ x + z";
  options.formula.resize(8192, ' ');
  EXPECT_TRUE(ValidateTrainOptions(frame, options).ok());
  options.formula += " ";
  EXPECT_EQ(ErrorPosition(ValidateTrainOptions(frame, options)), 8193);
  options.formula = "~ " + Repeat("(", 101) + "x" + Repeat(")", 101);
  EXPECT_EQ(ErrorPosition(ValidateTrainOptions(frame, options)), 2 + 101);
}

TEST(FormulaLimits, StoredModelsLoadWhateverTheClientLimits) {
  // A model trained under a raised length limit still loads: stored formulas are ours.
  const Frame frame = SmallFrame();
  TrainOptions options;
  options.formula = "y ~ x + z";
  options.formula.resize(20000, ' ');
  options.formula_limits.max_length = 20000;
  auto trained = Train(frame, options);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  auto loaded = DeserializeModel(trained->model->Serialize());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->formula(), options.formula);
}

TEST(FormulaLimits, StepwiseCandidatesMayBeLongerThanTheClientsFormula) {
  // y ~ x * z (9 bytes) becomes candidates such as "y ~ x + z + x:z", longer than the limit.
  const Frame frame = SmallFrame();
  TrainOptions options;
  options.formula = "y ~ x * z";
  options.formula_limits.max_length = options.formula.size();
  options.select = "backward";
  auto trained = Train(frame, options);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
}

TEST(FormulaLimits, DeepExpressionsEvaluateAsEvalExprOverManyRows) {
  // I(x + (x + (... + (x + z)))): 49 parentheses, each under a '+', height 99; over more rows
  // than one evaluation block.
  const std::string inner = Repeat("x + (", 49) + "x + z" + Repeat(")", 49);
  auto parsed = ParseFormula("y ~ I(" + inner + ")", kColumns);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const Expr expr = parsed->variables[0].expr;
  ASSERT_EQ(expr.height, 99);
  const size_t n = 10000;
  InputTable table;
  table.rows = n;
  table.columns.assign(2, std::vector<double>(n));
  for (size_t r = 0; r < n; ++r) {
    table.columns[0][r] = 0.25 * static_cast<double>(r);         // x
    table.columns[1][r] = 1.0 / (1.0 + static_cast<double>(r));  // z
  }
  table.borrowed.assign(2, nullptr);
  auto design = Design::Create(std::move(parsed).value(),
                               {{"x", ColumnType::kNumeric, {}}, {"z", ColumnType::kNumeric, {}}});
  ASSERT_TRUE(design.ok()) << design.status().ToString();
  ASSERT_TRUE(design->Fit(table).ok());
  auto columns = design->BuildColumns(table);
  ASSERT_TRUE(columns.ok()) << columns.status().ToString();
  ASSERT_EQ(columns->cols(), 2u);  // intercept, the I() term
  for (size_t r = 0; r < n; r += 997) {
    const double expected = EvalExpr(
        expr, [&](const std::string& name) { return table.columns[name == "x" ? 0 : 1][r]; });
    EXPECT_EQ(columns->col(1)[r], expected) << "row " << r;
  }
}

}  // namespace
}  // namespace mlprod::ml
