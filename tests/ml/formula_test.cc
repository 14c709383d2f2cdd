#include "ml/formula.h"

#include <gtest/gtest.h>

#include <cstring>

#include "ml/design_matrix.h"
#include "ml/model.h"

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

// ---- poly(), ns(), C() ----

TEST(FormulaParse, BasisAndContrastCallsAreLabelledAsR) {
  auto f = ParseFormula(
      "salary ~ poly(x1, 2) + poly(x2, degree = 3) + ns(log(years_code), 4) + ns(x1, df=2) + "
      "C(country, ref='US') + C(`my col`, ref = \"b\")",
      kColumns);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(Labels(*f),
            (std::vector<std::string>{"poly(x1, 2)", "poly(x2, degree = 3)",
                                      "ns(log(years_code), 4)", "ns(x1, df = 2)",
                                      "C(country, ref = \"US\")", "C(`my col`, ref = \"b\")"}));
  EXPECT_EQ(f->columns, (std::vector<std::string>{"x1", "x2", "years_code", "country", "my col"}));
  EXPECT_EQ(f->variables[0].kind, Variable::Kind::kPoly);
  EXPECT_EQ(f->variables[0].size, 2);
  EXPECT_EQ(f->variables[2].kind, Variable::Kind::kSpline);
  EXPECT_EQ(f->variables[2].size, 4);
  EXPECT_EQ(f->variables[4].kind, Variable::Kind::kContrast);
  EXPECT_EQ(f->variables[4].ref, "US");
}

TEST(FormulaParse, BasisCallsInteractAndRepeatAsOneVariable) {
  auto f = ParseFormula("salary ~ poly(x1, 2) * country - poly(x1,2)", kColumns);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(Labels(*f), (std::vector<std::string>{"country", "poly(x1, 2):country"}));
}

TEST(FormulaErrors, BasisAndContrastArgumentErrorsNamePosition) {
  ExpectErrorAt("salary ~ poly(x1)", 17, "degree");              // missing degree
  ExpectErrorAt("salary ~ poly()", 15);                          // no argument at all
  ExpectErrorAt("salary ~ poly(x1, 0)", 19, "degree");           // d < 1
  ExpectErrorAt("salary ~ poly(x1, -2)", 19, "degree");          // d < 1
  ExpectErrorAt("salary ~ poly(x1, 2.5)", 19, "whole number");   // not an integer
  ExpectErrorAt("salary ~ ns(x1, df = 0)", 22, "df");            // df < 1
  ExpectErrorAt("salary ~ poly(x1, 2, 3)", 22, "too many");      // wrong arity
  ExpectErrorAt("salary ~ ns(x1, knots = 3)", 17, "knots");      // unknown argument
  ExpectErrorAt("salary ~ ns(x1, degree = 3)", 17, "degree");    // poly's argument on ns
  ExpectErrorAt("salary ~ poly(x1, x2)", 19);                    // degree is not a number
  ExpectErrorAt("salary ~ poly(yeers, 2)", 15, "'yeers'");       // unknown column inside
  ExpectErrorAt("salary ~ C(country)", 19, "ref");               // C() without a reference
  ExpectErrorAt("salary ~ C(country, \"US\")", 21, "ref");       // positional reference
  ExpectErrorAt("salary ~ C(country, ref = US)", 27, "quoted");  // unquoted level
  ExpectErrorAt("salary ~ C(country, ref = 'US', 2)", 31, "too many");
  ExpectErrorAt("salary ~ C(log(x1), ref = 'a')", 12, "column");
  ExpectErrorAt("salary ~ C(country, ref = 'US", 27, "unterminated");
  ExpectErrorAt("salary ~ splines(x1, 3)", 10, "splines");  // unknown function
  ExpectErrorAt("salary ~ I(poly(x1, 2))", 12, "poly");     // not inside arithmetic
}

const std::vector<InputColumn> kSignature = {
    {"x1", ColumnType::kNumeric, {}},
    {"country", ColumnType::kCategorical, {"France", "Germany", "US"}},
    {"remote", ColumnType::kBoolean, {"no", "yes"}}};

Result<Design> MakeDesign(const std::string& formula) {
  MLPROD_ASSIGN_OR_RETURN(ParsedFormula f, ParseFormula(formula, kColumns));
  std::vector<InputColumn> sig;
  for (const auto& name : f.columns)
    for (const auto& in : kSignature)
      if (in.name == name) sig.push_back(in);
  return Design::Create(std::move(f), std::move(sig));
}

void ExpectDesignErrorAt(const std::string& formula, int position, const std::string& fragment) {
  auto d = MakeDesign(formula);
  ASSERT_FALSE(d.ok()) << formula;
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument) << d.status().ToString();
  EXPECT_NE(d.status().message().find("formula position " + std::to_string(position) + ":"),
            std::string::npos)
      << d.status().message();
  EXPECT_NE(d.status().message().find(fragment), std::string::npos) << d.status().message();
}

TEST(FormulaDesign, BasisOnCategoricalAndContrastOnNumericAreRejectedWithPosition) {
  ExpectDesignErrorAt("salary ~ poly(country, 2)", 15, "country");
  ExpectDesignErrorAt("salary ~ x1 + ns(remote, 3)", 18, "remote");
  ExpectDesignErrorAt("salary ~ C(x1, ref = 'a')", 12, "x1");
  ExpectDesignErrorAt("salary ~ C(country, ref = 'Spain')", 27, "Spain");
}

// One complete training table over kSignature's columns.
InputTable Table(std::vector<double> x1, std::vector<double> country = {},
                 std::vector<double> remote = {}) {
  InputTable t;
  t.rows = x1.size();
  for (size_t i = 0; i < t.rows; ++i) t.row_numbers.push_back(i + 1);
  if (country.empty()) country.assign(t.rows, 0);
  if (remote.empty()) remote.assign(t.rows, 0);
  t.columns = {std::move(x1), std::move(country), std::move(remote)};
  return t;
}

TEST(FormulaDesign, ContrastNamesAndCodesAgainstTheChosenLevel) {
  auto d = MakeDesign("salary ~ x1 + C(country, ref = 'Germany') + C(remote, ref = \"yes\")");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(
      d->column_names(),
      (std::vector<std::string>{"(Intercept)", "x1", "C(country, ref = \"Germany\")France",
                                "C(country, ref = \"Germany\")US", "C(remote, ref = \"yes\")no"}));
  auto x = d->Build(Table({1, 2, 3}, {0, 1, 2}, {0, 1, 1}));
  ASSERT_TRUE(x.ok()) << x.status().ToString();
  Eigen::MatrixXd want(3, 5);
  want << 1, 1, 1, 0, 1,  //
      1, 2, 0, 0, 0,      //
      1, 3, 0, 1, 0;
  EXPECT_EQ(*x, want);
  // Without an intercept the reference level comes first in the full coding.
  auto full = MakeDesign("salary ~ 0 + C(country, ref = 'US')");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->column_names(), (std::vector<std::string>{"C(country, ref = \"US\")US",
                                                            "C(country, ref = \"US\")France",
                                                            "C(country, ref = \"US\")Germany"}));
}

TEST(FormulaDesign, PolyInteractionNamesFirstFactorFastest) {
  auto d = MakeDesign("salary ~ poly(x1, 2):country");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->column_names(),
            (std::vector<std::string>{"(Intercept)", "poly(x1, 2)1:countryFrance",
                                      "poly(x1, 2)2:countryFrance", "poly(x1, 2)1:countryGermany",
                                      "poly(x1, 2)2:countryGermany", "poly(x1, 2)1:countryUS",
                                      "poly(x1, 2)2:countryUS"}));
  ASSERT_TRUE(d->Fit(Table({1, 2, 3, 4}, {0, 1, 2, 0})).ok());
  auto x = d->Build(Table({2}, {1}));
  ASSERT_TRUE(x.ok());
  double basis[2];
  auto coefs = FitPoly({1, 2, 3, 4}, 2);
  ASSERT_TRUE(coefs.ok());
  PolyBasis(*coefs, 2, basis);
  EXPECT_EQ(x->row(0)(3), basis[0]);
  EXPECT_EQ(x->row(0)(4), basis[1]);
  EXPECT_EQ(x->row(0).sum(), 1 + basis[0] + basis[1]);
}

TEST(FormulaDesign, BasisTermsNeedFitBeforeBuild) {
  auto d = MakeDesign("salary ~ ns(x1, 3)");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->fitted());
  auto x = d->Build(Table({1, 2}));
  ASSERT_FALSE(x.ok());
  EXPECT_EQ(x.status().code(), StatusCode::kFailedPrecondition);
  auto plain = MakeDesign("salary ~ x1 + country");
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->fitted());
  EXPECT_EQ(plain->StateJson(), "[]");
}

TEST(FormulaDesign, FitFailsWithPositionOnDegenerateTrainingData) {
  auto poly = MakeDesign("salary ~ x1 + poly(x1, 3)");
  ASSERT_TRUE(poly.ok());
  Status s = poly->Fit(Table({1, 2, 3, 3, 2, 1}));  // 3 unique points for degree 3
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("formula position 15:"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("unique"), std::string::npos) << s.message();
  EXPECT_TRUE(poly->Fit(Table({1, 2, 3, 4})).ok());

  auto ns = MakeDesign("salary ~ ns(x1, 2)");
  ASSERT_TRUE(ns.ok());
  s = ns->Fit(Table({5, 5, 5}));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("formula position 10:"), std::string::npos) << s.message();

  auto logged = MakeDesign("salary ~ poly(log(x1), 2)");
  ASSERT_TRUE(logged.ok());
  s = logged->Fit(Table({1, 2, -3}));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("row 3"), std::string::npos) << s.message();
}

TEST(FormulaDesign, RestoredStateBuildsTheSameBits) {
  auto d = MakeDesign("salary ~ poly(x1, 3) + ns(x1, 4):remote + C(country, ref = 'US')");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  InputTable train = Table({0.5, 1.7, 2.2, 3.9, 4.1, 5.6, 7.3, 8.8, 9.0, 12.5},
                           {0, 1, 2, 0, 1, 2, 0, 1, 2, 0}, {0, 1, 0, 1, 0, 1, 1, 0, 0, 1});
  ASSERT_TRUE(d->Fit(train).ok());
  auto again = MakeDesign("salary ~ poly(x1, 3) + ns(x1, 4):remote + C(country, ref = 'US')");
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(again->RestoreState(d->StateJson()).ok());
  InputTable fresh = Table({-4, 0.5, 6.25, 12.5, 30}, {2, 1, 0, 2, 1}, {1, 1, 0, 1, 0});
  auto a = d->Build(fresh);
  auto b = again->Build(fresh);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  EXPECT_EQ(std::memcmp(a->data(), b->data(), sizeof(double) * a->size()), 0);

  auto other = MakeDesign("salary ~ poly(x1, 2)");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->RestoreState(d->StateJson()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(other->RestoreState("{").code(), StatusCode::kInvalidArgument);
}

TEST(FormulaTrain, PolyDegreeTooHighIsFailedPreconditionWithPosition) {
  Frame frame;
  frame.rows = 4;
  Column y, x;
  y.name = "y";
  y.values = {1, 2, 4, 3};
  x.name = "x";
  x.values = {1, 2, 2, 1};
  frame.columns = {y, x};
  TrainOptions options;
  options.formula = "y ~ poly(x, 2)";
  auto out = Train(frame, options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(out.status().message().find("formula position 5:"), std::string::npos)
      << out.status().message();
  // Caught before queueing: the syntax and the column types.
  options.formula = "y ~ poly(x, 0)";
  EXPECT_EQ(ValidateTrainOptions(frame, options).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlprod::ml
