// Train / Predict / Serialize / FrameFromRecords through the public API of ml/model.h.
#include "ml/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "ml/split.h"
#include "tests/ml/test_columns.h"

namespace mlprod::ml {
namespace {

using testing::CodedColumn;
using testing::NumericColumn;
using testing::ReadReference;

// 12 developers: salary depends on years, country and remote, with a little noise.
Frame Salaries() {
  Frame f;
  f.rows = 12;
  std::vector<double> years = {1, 3, 5, 7, 2, 4, 6, 8, 10, 12, 9, 11};
  std::vector<int32_t> country = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2};  // France Germany US
  std::vector<int32_t> remote = {0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 0};
  std::vector<double> salary;
  for (size_t i = 0; i < f.rows; ++i)
    salary.push_back(30000 + 4000 * years[i] - 90 * years[i] * years[i] + 5000 * country[i] +
                     2500 * remote[i] + 300.0 * (static_cast<double>(i * 7 % 5) - 2));
  f.columns.push_back(NumericColumn("salary", salary));
  f.columns.push_back(NumericColumn("years_code", years));
  f.columns.push_back(
      CodedColumn("country", ColumnType::kCategorical, {"France", "Germany", "US"}, country));
  f.columns.push_back(CodedColumn("remote", ColumnType::kBoolean, {"no", "yes"}, remote));
  return f;
}

TrainOptions Opts(std::string formula, MissingStrategy missing = MissingStrategy::kDrop,
                  double test_fraction = 0, uint64_t seed = 0) {
  TrainOptions o;
  o.formula = std::move(formula);
  o.missing = missing;
  o.test_fraction = test_fraction;
  o.seed = seed;
  return o;
}

TrainOptions WithKind(TrainOptions o, std::string kind) {
  o.kind = std::move(kind);
  return o;
}

TrainOptions WithParam(TrainOptions o, std::string key, std::string value) {
  o.params[key] = value;
  return o;
}

// The first n rows of `f`.
Frame FirstRows(Frame f, size_t n) {
  f.rows = n;
  for (auto& c : f.columns) {
    if (c.type == ColumnType::kNumeric)
      c.values.resize(n);
    else
      c.codes.resize(n);
  }
  return f;
}

const char* kSalaryFormula = "salary ~ years_code + I(years_code^2) + country + remote";

TrainOutput MustTrain(const Frame& frame, TrainOptions options) {
  auto out = Train(frame, options);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? std::move(out).value() : TrainOutput{};
}

bool BitEqual(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(ModelTrain, TermNamesAndSignatureFollowR) {
  TrainOutput out = MustTrain(Salaries(), Opts(kSalaryFormula));
  std::vector<std::string> terms;
  for (const auto& row : out.report.coefficients) terms.push_back(row.term);
  EXPECT_EQ(terms, (std::vector<std::string>{"(Intercept)", "years_code", "I(years_code^2)",
                                             "countryGermany", "countryUS", "remoteyes"}));
  const auto& sig = out.model->signature();
  ASSERT_EQ(sig.size(), 3u);
  EXPECT_EQ(sig[0].name, "years_code");
  EXPECT_EQ(sig[1].name, "country");
  EXPECT_EQ(sig[1].levels, (std::vector<std::string>{"France", "Germany", "US"}));
  EXPECT_EQ(sig[2].type, ColumnType::kBoolean);
  EXPECT_EQ(out.model->response(), "salary");
  EXPECT_EQ(out.model->kind(), "ols");
  EXPECT_EQ(out.report.n_obs, 12u);
  EXPECT_EQ(out.report.df_residual, 6);
  EXPECT_NEAR(out.report.coefficients[3].estimate, 5000, 1000);
  for (const char* key : {"r_squared", "adj_r_squared", "f_statistic", "f_p_value",
                          "log_likelihood", "aic", "bic", "rmse", "mae"})
    EXPECT_TRUE(out.report.metrics.count(key)) << key;
  EXPECT_FALSE(out.report.metrics.count("test_rmse"));
}

TEST(ModelTrain, AliasedDummyIsReported) {
  Frame f = Salaries();
  // remote2 duplicates remote: its coefficient is aliased (NaN), as R's NA.
  Column dup = f.columns[3];
  dup.name = "remote2";
  f.columns.push_back(dup);
  TrainOutput out = MustTrain(f, Opts("salary ~ years_code + remote + remote2"));
  ASSERT_EQ(out.report.coefficients.size(), 4u);
  EXPECT_EQ(out.report.coefficients[3].term, "remote2yes");
  EXPECT_TRUE(out.report.coefficients[3].aliased);
  EXPECT_TRUE(std::isnan(out.report.coefficients[3].estimate));
  EXPECT_EQ(out.report.df_residual, 9);
  auto pred = out.model->Predict(f, {});
  ASSERT_TRUE(pred.ok());
  EXPECT_FALSE(std::isnan((*pred)[0].value));
}

TEST(ModelTrain, ErrorsUseTheRightCodes) {
  Frame f = Salaries();
  auto unknown = Train(f, Opts("salary ~ yeers"));
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("position 10"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("yeers"), std::string::npos);
  EXPECT_EQ(Train(f, Opts("country ~ years_code")).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Train(f, WithKind(Opts("salary ~ years_code"), "forest")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Train(f, WithParam(Opts("salary ~ years_code"), "alpha", "1")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Train(f, Opts("salary ~ years_code", MissingStrategy::kDrop, 1.0)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Train(FirstRows(f, 3), Opts(kSalaryFormula)).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(ModelTrain, ASplitThatLeavesNoTrainingRowsSaysSo) {
  const Frame tiny = FirstRows(Salaries(), 4);
  for (const char* kind : {"ols", "lasso"}) {
    auto out = Train(tiny, WithKind(Opts("salary ~ years_code", MissingStrategy::kDrop, 0.9), kind));
    EXPECT_EQ(out.status().code(), StatusCode::kFailedPrecondition) << kind;
    EXPECT_NE(out.status().message().find("the test split leaves no training rows"),
              std::string::npos)
        << out.status().message();
  }
}

TEST(ModelTrain, ProgressLogsAndCancels) {
  std::vector<std::string> lines;
  auto out = Train(Salaries(), Opts(kSalaryFormula), [&](double p, const std::string& l) {
    lines.push_back(l);
    return true;
  });
  ASSERT_TRUE(out.ok());
  EXPECT_GE(lines.size(), 4u);
  EXPECT_EQ(out->report.log, lines);
  EXPECT_NE(lines[1].find("design matrix 12 x 6"), std::string::npos) << lines[1];
  int calls = 0;
  auto cancelled = Train(Salaries(), Opts(kSalaryFormula),
                         [&](double, const std::string&) { return ++calls < 2; });
  EXPECT_EQ(cancelled.status().code(), StatusCode::kCancelled);
}

TEST(ModelTrain, CancelTakesEffectInsideTheQr) {
  // Large enough that the QR asks to keep going while it runs: the run stops there, before the
  // "QR done" line.
  const size_t n = 400000;
  std::vector<double> x(n), y(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = static_cast<double>(i % 1000);
    y[i] = 2 * x[i] + static_cast<double>(i % 7);
  }
  Frame f;
  f.rows = n;
  f.columns = {NumericColumn("y", y), NumericColumn("x", x)};
  std::vector<std::string> lines;
  bool asked_inside = false;
  auto out = Train(f, Opts("y ~ x"), [&](double p, const std::string& line) {
    lines.push_back(line);
    if (line.empty() && p > 0.3 && p < 0.7) asked_inside = true;
    return !asked_inside;
  });
  EXPECT_EQ(out.status().code(), StatusCode::kCancelled);
  EXPECT_TRUE(asked_inside);
  for (const std::string& line : lines) EXPECT_EQ(line.find("QR done"), std::string::npos);
}

Frame WithMissing() {
  Frame f;
  f.rows = 8;
  f.columns.push_back(NumericColumn("y", {3, 5, 7, 9, NAN, 13, 15, 18}));
  f.columns.push_back(NumericColumn("x", {1, 2, NAN, 4, 5, 6, 7, 10}));
  f.columns.push_back(CodedColumn("g", ColumnType::kCategorical, {"a", "b"}, {0, 1, 1, -1, 0, 1, 0, 1}));
  return f;
}

TEST(ModelMissing, DropCountsRowsIncludingMissingResponse) {
  TrainOutput out = MustTrain(WithMissing(), Opts("y ~ x + g"));
  EXPECT_EQ(out.report.rows_dropped, 3u);  // x missing, g missing, y missing
  EXPECT_EQ(out.report.n_obs, 5u);
  Frame one;
  one.rows = 1;
  one.columns = {NumericColumn("x", {NAN}), CodedColumn("g", ColumnType::kCategorical, {"a", "b"}, {0})};
  auto pred = out.model->Predict(one, {});
  ASSERT_FALSE(pred.ok());
  EXPECT_EQ(pred.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(pred.status().message().find("row 1"), std::string::npos);
  EXPECT_NE(pred.status().message().find("'x'"), std::string::npos);
}

TEST(ModelMissing, MeanAndMedianImputeFromTrainingRows) {
  for (MissingStrategy s : {MissingStrategy::kMean, MissingStrategy::kMedian}) {
    TrainOutput out = MustTrain(WithMissing(), Opts("y ~ x + g", s));
    EXPECT_EQ(out.report.rows_dropped, 1u);  // only the missing response
    EXPECT_EQ(out.report.n_obs, 7u);
    // Training rows with y present: x = 1 2 4 6 7 10 (mean 5, median 5); g: b is most frequent.
    double fill = s == MissingStrategy::kMean ? 5.0 : 5.0;
    Frame missing, filled;
    missing.rows = filled.rows = 1;
    missing.columns = {NumericColumn("x", {NAN}),
                       CodedColumn("g", ColumnType::kCategorical, {"a", "b"}, {-1})};
    filled.columns = {NumericColumn("x", {fill}), CodedColumn("g", ColumnType::kCategorical, {"a", "b"}, {1})};
    auto a = out.model->Predict(missing, {});
    auto b = out.model->Predict(filled, {});
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    ASSERT_TRUE(b.ok());
    EXPECT_TRUE(BitEqual((*a)[0].value, (*b)[0].value));
  }
  // Median differs from mean when the data are skewed.
  Frame f = WithMissing();
  f.columns[1].values[7] = 100;  // x: 1 2 4 6 7 100 -> mean 20, median 5
  TrainOutput mean = MustTrain(f, Opts("y ~ x", MissingStrategy::kMean));
  TrainOutput median = MustTrain(f, Opts("y ~ x", MissingStrategy::kMedian));
  Frame q;
  q.rows = 2;
  q.columns = {NumericColumn("x", {NAN, 20})};
  auto pm = mean.model->Predict(q, {});
  ASSERT_TRUE(pm.ok());
  EXPECT_TRUE(BitEqual((*pm)[0].value, (*pm)[1].value));
  q.columns = {NumericColumn("x", {NAN, 5})};
  auto pd = median.model->Predict(q, {});
  ASSERT_TRUE(pd.ok());
  EXPECT_TRUE(BitEqual((*pd)[0].value, (*pd)[1].value));
}

TEST(ModelMissing, EveryRowDroppedIsFailedPrecondition) {
  Frame f;
  f.rows = 3;
  f.columns = {NumericColumn("y", {1, 2, 3}), NumericColumn("x", {NAN, NAN, NAN})};
  EXPECT_EQ(Train(f, Opts("y ~ x")).status().code(), StatusCode::kFailedPrecondition);
}

TEST(ModelSplit, DeterministicBySeed) {
  Frame f = Salaries();
  TrainOptions o = Opts("salary ~ years_code + remote", MissingStrategy::kDrop, 0.25, 42);
  TrainOutput a = MustTrain(f, o);
  TrainOutput b = MustTrain(f, o);
  EXPECT_EQ(a.report.n_test, 3u);  // round(12 * 0.25)
  EXPECT_EQ(a.report.n_obs, 9u);
  ASSERT_TRUE(a.report.metrics.count("test_rmse"));
  EXPECT_TRUE(BitEqual(a.report.metrics["test_rmse"], b.report.metrics["test_rmse"]));
  EXPECT_TRUE(BitEqual(a.report.metrics["test_mae"], b.report.metrics["test_mae"]));
  EXPECT_TRUE(a.report.metrics.count("test_r_squared"));
  EXPECT_TRUE(BitEqual(a.report.coefficients[1].estimate, b.report.coefficients[1].estimate));
  bool differs = false;
  for (uint64_t seed = 1; seed < 6 && !differs; ++seed) {
    o.seed = seed;
    TrainOutput c = MustTrain(f, o);
    differs = !BitEqual(c.report.coefficients[1].estimate, a.report.coefficients[1].estimate);
  }
  EXPECT_TRUE(differs);
}

TEST(ModelSplit, SplitIsPinnedForASeed) {
  // Pinned so that a change of engine, draw or shuffle (which would move every run's split) fails.
  std::vector<size_t> train, test;
  SplitRows(20, 0.25, 42, &train, &test);
  ASSERT_EQ(test.size(), 5u);
  ASSERT_EQ(train.size(), 15u);
  std::string got;
  for (size_t r : test) got += std::to_string(r) + " ";
  std::printf("  seed 42 test rows: %s\n", got.c_str());
  EXPECT_EQ(got, "1 2 7 11 13 ");  // checked against an independent Python mt19937_64
  SplitRows(10, 0.0, 42, &train, &test);
  EXPECT_TRUE(test.empty());
  EXPECT_EQ(train.size(), 10u);
  SplitRows(10, 0.25, 1, &train, &test);
  EXPECT_EQ(test.size(), 3u);  // round(2.5) = 3
}

TEST(ModelSplit, TestRowsWithMissingCellsAreSkippedUnderDrop) {
  Frame f = WithMissing();
  TrainOutput out = MustTrain(f, Opts("y ~ x", MissingStrategy::kDrop, 0.5, 7));
  EXPECT_EQ(out.report.n_obs + out.report.rows_dropped + out.report.n_test +
                (4 - out.report.n_test),  // test rows skipped
            8u);
  EXPECT_LE(out.report.n_test, 4u);
}

TEST(ModelSerialize, RoundTripPredictsBitForBit) {
  Frame f = Salaries();
  for (MissingStrategy s : {MissingStrategy::kDrop, MissingStrategy::kMedian}) {
    TrainOutput out = MustTrain(f, Opts(kSalaryFormula + std::string(" + years_code:remote"), s));
    std::string bytes = out.model->Serialize();
    auto back = DeserializeModel(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ((*back)->Serialize(), bytes);
    EXPECT_EQ((*back)->formula(), out.model->formula());
    EXPECT_EQ((*back)->signature().size(), out.model->signature().size());
    PredictOptions po{.intervals = true, .level = 0.9};
    auto p1 = out.model->Predict(f, po);
    auto p2 = (*back)->Predict(f, po);
    ASSERT_TRUE(p1.ok() && p2.ok());
    for (size_t i = 0; i < f.rows; ++i) {
      EXPECT_TRUE(BitEqual((*p1)[i].value, (*p2)[i].value));
      EXPECT_TRUE(BitEqual((*p1)[i].lower, (*p2)[i].lower));
      EXPECT_TRUE(BitEqual((*p1)[i].upper, (*p2)[i].upper));
      EXPECT_LT((*p1)[i].lower, (*p1)[i].value);
    }
  }
}

TEST(ModelSerialize, DotFormulaAndAwkwardDoublesRoundTrip) {
  Frame f;
  f.rows = 6;
  f.columns = {NumericColumn("a", {0.1, 1e-300, 3.3333333333333335, 7, 2.5e10, -4}),
               NumericColumn("y", {1.0 / 3, 2, 2.7182818284590451, 9, 11, 0.1}),
               NumericColumn("b", {5, 1, 8, 2, 2, 6})};
  TrainOutput out = MustTrain(f, Opts("y ~ . + I(b^2)"));
  std::vector<std::string> terms;
  for (const auto& row : out.report.coefficients) terms.push_back(row.term);
  EXPECT_EQ(terms, (std::vector<std::string>{"(Intercept)", "a", "b", "I(b^2)"}));
  auto back = DeserializeModel(out.model->Serialize());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  auto p1 = out.model->Predict(f, {});
  auto p2 = (*back)->Predict(f, {});
  ASSERT_TRUE(p1.ok() && p2.ok());
  for (size_t i = 0; i < f.rows; ++i) EXPECT_TRUE(BitEqual((*p1)[i].value, (*p2)[i].value));
}

TEST(ModelSerialize, BadBytesAreRejected) {
  EXPECT_EQ(DeserializeModel("not json at all").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DeserializeModel("[1,2]").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DeserializeModel(R"({"format":"mlprod-model","format_version":1})").status().code(),
            StatusCode::kInvalidArgument);
  TrainOutput out = MustTrain(Salaries(), Opts(kSalaryFormula));
  std::string bytes = out.model->Serialize();
  std::string broken = bytes;
  broken.replace(broken.find("\"terms\":["), 9, "\"terms\":[\"zzz\",");
  EXPECT_EQ(DeserializeModel(broken).status().code(), StatusCode::kInvalidArgument);
}

TEST(ModelPredict, UnseenLevelNamesRowAndColumn) {
  TrainOutput out = MustTrain(Salaries(), Opts(kSalaryFormula));
  Frame rows;
  rows.rows = 2;
  rows.columns = {NumericColumn("years_code", {3, 4}),
                  CodedColumn("country", ColumnType::kCategorical, {"Germany", "Spain"}, {0, 1}),
                  CodedColumn("remote", ColumnType::kBoolean, {"no", "yes"}, {0, 1})};
  auto pred = out.model->Predict(rows, {});
  ASSERT_FALSE(pred.ok());
  EXPECT_EQ(pred.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(pred.status().message().find("row 2"), std::string::npos);
  EXPECT_NE(pred.status().message().find("country"), std::string::npos);
  // Levels are matched by text, not by code: "Germany" here is code 0, in training code 1.
  rows.columns[1].codes = {0, 0};
  auto ok = out.model->Predict(rows, {});
  ASSERT_TRUE(ok.ok());
  auto same = FrameFromRecords(out.model->signature(),
                               {{{"years_code", "3"}, {"country", "Germany"}, {"remote", "no"}}});
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  auto p = out.model->Predict(*same, {});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(BitEqual((*p)[0].value, (*ok)[0].value));
}

TEST(ModelPredict, BadInputsAreInvalidArgument) {
  TrainOutput out = MustTrain(Salaries(), Opts(kSalaryFormula));
  Frame f = Salaries();
  EXPECT_EQ(out.model->Predict(f, {true, 1.5}).status().code(), StatusCode::kInvalidArgument);
  f.columns.erase(f.columns.begin() + 2);  // no country
  auto r = out.model->Predict(f, {});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("country"), std::string::npos);
  Frame g = Salaries();
  g.columns[1] = CodedColumn("years_code", ColumnType::kCategorical, {"a"}, std::vector<int32_t>(12, 0));
  EXPECT_EQ(out.model->Predict(g, {}).status().code(), StatusCode::kInvalidArgument);
  // A non-finite computed term names the row and the term.
  TrainOutput logged = MustTrain(Salaries(), Opts("salary ~ log(years_code)"));
  Frame zero;
  zero.rows = 2;
  zero.columns = {NumericColumn("years_code", {1, 0})};
  auto z = logged.model->Predict(zero, {});
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.status().message().find("row 2"), std::string::npos);
  EXPECT_NE(z.status().message().find("log(years_code)"), std::string::npos);
}

TEST(ModelRecords, ErrorsNameRowAndColumn) {
  std::vector<InputColumn> sig = {{"x", ColumnType::kNumeric, {}},
                                  {"remote", ColumnType::kBoolean, {"no", "yes"}}};
  auto good =
      FrameFromRecords(sig, {{{"x", "1.5"}, {"remote", "yes"}}, {{"x", "-2e3"}, {"remote", "no"}}});
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->rows, 2u);
  EXPECT_EQ(good->columns[0].values[1], -2000);
  EXPECT_EQ(good->columns[1].codes[0], 1);
  struct Case {
    TextRecord second_row;
    std::string column;
  };
  for (const Case& c : std::vector<Case>{
           {{{"remote", "no"}}, "x"},                                      // absent
           {{{"x", "1"}, {"remote", "no"}, {"extra", "1"}}, "extra"},      // not in signature
           {{{"x", "abc"}, {"remote", "no"}}, "x"},                        // not a number
           {{{"x", "1.5x"}, {"remote", "no"}}, "x"},                       // trailing junk
           {{{"x", std::string_view("1\0x", 3)}, {"remote", "no"}}, "x"},  // a NUL inside
           {{{"x", "nan"}, {"remote", "no"}}, "x"},                        // NaN
           {{{"x", "inf"}, {"remote", "no"}}, "x"},                        // infinite
           {{{"x", "1"}, {"remote", "maybe"}}, "remote"},                  // unseen level
       }) {
    auto r = FrameFromRecords(sig, {{{"x", "1"}, {"remote", "no"}}, c.second_row});
    ASSERT_FALSE(r.ok()) << c.column;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("row 2"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("'" + c.column + "'"), std::string::npos)
        << r.status().message();
  }
}

TEST(ModelPredict, MissingCellsAreImputedAsInTrainingOrRefusedUnderDrop) {
  for (MissingStrategy strategy : {MissingStrategy::kMean, MissingStrategy::kDrop}) {
    const TrainOutput out = MustTrain(Salaries(), Opts(kSalaryFormula, strategy));
    ASSERT_TRUE(out.model);
    auto missing = FrameFromRecords(
        out.model->signature(),
        {{{"years_code", ""}, {"country", "Germany"}, {"remote", "yes"}},
         {{"years_code", "4"}, {"country", "NA"}, {"remote", "null"}}});
    ASSERT_TRUE(missing.ok()) << missing.status().ToString();
    EXPECT_EQ(missing->columns[0].missing, 1u);
    auto predicted = out.model->Predict(*missing, {});
    if (strategy == MissingStrategy::kDrop) {
      ASSERT_FALSE(predicted.ok());
      EXPECT_EQ(predicted.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(predicted.status().message().find("row 1, column 'years_code': missing value"),
                std::string::npos)
          << predicted.status().message();
      EXPECT_NE(predicted.status().message().find("--missing drop"), std::string::npos);
      continue;
    }
    ASSERT_TRUE(predicted.ok()) << predicted.status().ToString();
    // The same rows with the training means and modes written in: the same bits.
    const Frame train = Salaries();
    double mean_years = 0;
    for (double v : train.columns[1].values) mean_years += v;
    mean_years /= static_cast<double>(train.rows);
    auto filled = FrameFromRecords(
        out.model->signature(),
        {{{"years_code", "0"}, {"country", "Germany"}, {"remote", "yes"}},
         {{"years_code", "4"}, {"country", "France"}, {"remote", "no"}}});  // modes; ties: first
    ASSERT_TRUE(filled.ok());
    filled->columns[0].values[0] = mean_years;
    auto expected = out.model->Predict(*filled, {});
    ASSERT_TRUE(expected.ok());
    EXPECT_TRUE(BitEqual((*predicted)[0].value, (*expected)[0].value));
    EXPECT_TRUE(BitEqual((*predicted)[1].value, (*expected)[1].value));
  }
}

TEST(ModelMissingStrategy, NamesRoundTrip) {
  for (MissingStrategy s :
       {MissingStrategy::kDrop, MissingStrategy::kMean, MissingStrategy::kMedian}) {
    auto parsed = ParseMissingStrategy(MissingStrategyName(s));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, s);
  }
  EXPECT_EQ(ParseMissingStrategy("zero").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlprod::ml
