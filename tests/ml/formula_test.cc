#include "ml/formula.h"

#include <gtest/gtest.h>

#include "ml/design_matrix.h"

namespace mlprod::ml {
namespace {

const std::vector<std::string> kColumns = {"salary", "years_code", "country", "remote",
                                           "x1",     "x2",         "my col"};

std::vector<std::string> Labels(const ParsedFormula& f) {
  std::vector<std::string> out;
  for (const auto& t : f.terms) out.push_back(TermLabel(f, t));
  return out;
}

TEST(FormulaParse, SimpleSum) {
  auto f = ParseFormula("salary ~ years_code + country", kColumns);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->response, "salary");
  EXPECT_TRUE(f->intercept);
  EXPECT_EQ(Labels(*f), (std::vector<std::string>{"years_code", "country"}));
  EXPECT_EQ(f->columns, (std::vector<std::string>{"years_code", "country"}));
}

TEST(FormulaParse, IdentityExpressionsAreLabelledAsR) {
  auto f = ParseFormula("salary~years_code+I(years_code^2)+I(x1*2)+I(x1/2)+I((x1+1)^-1)", kColumns);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(Labels(*f), (std::vector<std::string>{"years_code", "I(years_code^2)", "I(x1 * 2)",
                                                  "I(x1/2)", "I((x1 + 1)^-1)"}));
  EXPECT_EQ(f->columns, (std::vector<std::string>{"years_code", "x1"}));
}

TEST(FormulaParse, NumbersDeparseAsR) {
  auto f = ParseFormula("salary ~ I(x1 * 100000) + I(x1 * 0.5) + I(x1 + 10000) + I(x1 * 1e-10)",
                        kColumns);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(Labels(*f), (std::vector<std::string>{"I(x1 * 1e+05)", "I(x1 * 0.5)", "I(x1 + 10000)",
                                                  "I(x1 * 1e-10)"}));
}

TEST(FormulaParse, InteractionsOrderedByDegreeAndAppearance) {
  auto f = ParseFormula("salary ~ x2:x1 + x1 + x2", kColumns);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(Labels(*f), (std::vector<std::string>{"x1", "x2", "x2:x1"}));
  auto g = ParseFormula("salary ~ x1 * country", kColumns);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(Labels(*g), (std::vector<std::string>{"x1", "country", "x1:country"}));
}

TEST(FormulaParse, InterceptRemovalAndTermRemoval) {
  auto a = ParseFormula("salary ~ x1 - 1", kColumns);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->intercept);
  auto b = ParseFormula("salary ~ 0 + x1", kColumns);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->intercept);
  EXPECT_EQ(Labels(*b), (std::vector<std::string>{"x1"}));
  auto d = ParseFormula("salary ~ -1 + x1", kColumns);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->intercept);
  auto e = ParseFormula("salary ~ 1", kColumns);
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->intercept);
  EXPECT_TRUE(e->terms.empty());
  auto c = ParseFormula("salary ~ x1 * x2 - x1:x2", kColumns);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Labels(*c), (std::vector<std::string>{"x1", "x2"}));
}

TEST(FormulaParse, DotExpandsToOtherColumns) {
  auto f = ParseFormula("salary ~ . - country", kColumns);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(Labels(*f), (std::vector<std::string>{"years_code", "remote", "x1", "x2", "`my col`"}));
}

TEST(FormulaParse, BackquotedNames) {
  auto f = ParseFormula("salary ~ `my col` + log(x1)", kColumns);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(Labels(*f), (std::vector<std::string>{"`my col`", "log(x1)"}));
  EXPECT_EQ(f->columns, (std::vector<std::string>{"my col", "x1"}));
}

void ExpectErrorAt(const std::string& formula, int position, const std::string& fragment = "") {
  auto f = ParseFormula(formula, kColumns);
  ASSERT_FALSE(f.ok()) << formula;
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(f.status().message().find("formula position " + std::to_string(position) + ":"),
            std::string::npos)
      << formula << " -> " << f.status().message();
  if (!fragment.empty()) {
    EXPECT_NE(f.status().message().find(fragment), std::string::npos) << f.status().message();
  }
}

TEST(FormulaErrors, UnknownColumnNamesPosition) {
  ExpectErrorAt("salary ~ yeers", 10, "'yeers'");
  ExpectErrorAt("salary ~ x1 + I(yeers^2)", 17, "'yeers'");
  ExpectErrorAt("pay ~ x1", 1, "'pay'");
}

TEST(FormulaErrors, SyntaxErrorsNamePosition) {
  ExpectErrorAt("salary x1", 8);       // missing ~
  ExpectErrorAt("salary ~ x1 +", 14);  // ends after +
  ExpectErrorAt("salary ~ (x1 + x2", 18);
  ExpectErrorAt("salary ~ x1 $ x2", 13);
  ExpectErrorAt("salary ~ I(x1^)", 15);
  ExpectErrorAt("salary ~ foo(x1)", 10, "foo");
  ExpectErrorAt("salary ~ x1 + 2", 15);
}

TEST(FormulaDesign, TreatmentCodingNames) {
  auto f = ParseFormula("salary ~ years_code + country + remote + years_code:country", kColumns);
  ASSERT_TRUE(f.ok());
  std::vector<InputColumn> sig = {
      {"years_code", ColumnType::kNumeric, {}},
      {"country", ColumnType::kCategorical, {"France", "Germany", "US"}},
      {"remote", ColumnType::kBoolean, {"no", "yes"}}};
  auto d = Design::Create(*f, sig);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(
      d->column_names(),
      (std::vector<std::string>{"(Intercept)", "years_code", "countryGermany", "countryUS",
                                "remoteyes", "years_code:countryGermany", "years_code:countryUS"}));
}

TEST(FormulaDesign, NoInterceptGivesFirstFactorFullCoding) {
  auto f = ParseFormula("salary ~ 0 + country + remote", kColumns);
  ASSERT_TRUE(f.ok());
  std::vector<InputColumn> sig = {{"country", ColumnType::kCategorical, {"France", "Germany"}},
                                  {"remote", ColumnType::kBoolean, {"no", "yes"}}};
  auto d = Design::Create(*f, sig);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->column_names(),
            (std::vector<std::string>{"countryFrance", "countryGermany", "remoteyes"}));
}

TEST(FormulaDesign, ArithmeticOnCategoricalIsRejectedWithPosition) {
  auto f = ParseFormula("salary ~ I(country^2)", kColumns);
  ASSERT_TRUE(f.ok());
  auto d = Design::Create(*f, {{"country", ColumnType::kCategorical, {"a", "b"}}});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("formula position 12"), std::string::npos)
      << d.status().message();
}

TEST(FormulaDesign, InteractionColumnsFirstFactorFastest) {
  auto f = ParseFormula("salary ~ country:remote", kColumns);
  ASSERT_TRUE(f.ok());
  auto d = Design::Create(*f, {{"country", ColumnType::kCategorical, {"a", "b"}},
                               {"remote", ColumnType::kBoolean, {"no", "yes"}}});
  ASSERT_TRUE(d.ok());
  // No margins present: full indicator coding, as R's model.matrix.
  EXPECT_EQ(d->column_names(),
            (std::vector<std::string>{"(Intercept)", "countrya:remoteno", "countryb:remoteno",
                                      "countrya:remoteyes", "countryb:remoteyes"}));
  InputTable t;
  t.rows = 1;
  t.row_numbers = {1};
  t.columns = {{1.0}, {1.0}};
  auto x = d->Build(t);
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->row(0)(4), 1.0);
  EXPECT_EQ(x->row(0).sum(), 2.0);
}

}  // namespace
}  // namespace mlprod::ml
