// Design::Build (column by column), ExtractInputs and OlsModel::PredictDesign: a row's design
// values and prediction have the same bits whether it is built with others (training) or alone
// (serving), and errors still name the first bad row.
#include "ml/design_matrix.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "ml/model.h"
#include "ml/ols.h"
#include "ml/ols_model.h"

namespace mlprod::ml {
namespace {

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// x, z numeric (z > 0), g categorical {a, b, c}, f boolean {no, yes}; y = response.
Frame MakeFrame(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  Frame frame;
  frame.rows = n;
  Column y{"y", ColumnType::kNumeric, {}, {}, {}, 0};
  Column x{"x", ColumnType::kNumeric, {}, {}, {}, 0};
  Column z{"z", ColumnType::kNumeric, {}, {}, {}, 0};
  Column g{"g", ColumnType::kCategorical, {}, {}, {"a", "b", "c"}, 0};
  Column f{"f", ColumnType::kBoolean, {}, {}, {"no", "yes"}, 0};
  for (size_t i = 0; i < n; ++i) {
    x.values.push_back(normal(rng));
    z.values.push_back(std::fabs(normal(rng)) + 0.5);
    g.codes.push_back(static_cast<int32_t>(rng() % 3));
    f.codes.push_back(static_cast<int32_t>(rng() % 2));
    y.values.push_back(1 + 2 * x.values.back() - z.values.back() + g.codes.back() +
                       0.5 * f.codes.back() + normal(rng));
  }
  frame.columns = {y, x, z, g, f};
  return frame;
}

// The row `r` of `frame` as a frame of its own.
Frame RowOf(const Frame& frame, size_t r) {
  Frame one;
  one.rows = 1;
  for (const Column& c : frame.columns) {
    Column copy{c.name, c.type, {}, {}, c.levels, 0};
    if (c.type == ColumnType::kNumeric)
      copy.values = {c.values[r]};
    else
      copy.codes = {c.codes[r]};
    one.columns.push_back(std::move(copy));
  }
  return one;
}

std::vector<size_t> AllRows(size_t n) {
  std::vector<size_t> rows(n);
  for (size_t i = 0; i < n; ++i) rows[i] = i;
  return rows;
}

constexpr const char* kFormula =
    "y ~ x * g + I(x^2 - z/3) + log(z):f + poly(x, 2) + ns(z, 3) + C(g, ref = \"c\"):f + "
    "sqrt(exp(-x))";

TEST(DesignBuild, RowsBuiltTogetherMatchRowsBuiltAlone) {
  const Frame frame = MakeFrame(300, 11);
  TrainOptions options;
  options.formula = kFormula;
  auto trained = Train(frame, options);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  const auto* ols = dynamic_cast<const OlsModel*>(trained->model.get());
  ASSERT_NE(ols, nullptr);
  const Design& design = ols->design();

  auto table = ExtractInputs(frame, design.signature(), AllRows(frame.rows));
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto all = design.Build(*table);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(static_cast<size_t>(all->cols()), design.cols());
  for (size_t r = 0; r < frame.rows; r += 7) {
    const Frame row = RowOf(frame, r);
    auto one_table = ExtractInputs(row, design.signature(), {0});
    ASSERT_TRUE(one_table.ok());
    auto one = design.Build(*one_table);
    ASSERT_TRUE(one.ok()) << one.status().ToString();
    for (Eigen::Index j = 0; j < all->cols(); ++j)
      ASSERT_TRUE(SameBits((*all)(r, j), (*one)(0, j)))
          << "row " << r << ", column " << design.column_names()[j];
  }
  // BuildRow, as a prediction builds each row, gives every row the same bits as well.
  auto reader = RowReader::Create(frame, design.signature());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::vector<double> inputs(design.signature().size()), scratch(design.row_scratch()),
      x(design.cols());
  for (size_t r = 0; r < frame.rows; ++r) {
    ASSERT_TRUE(reader->Read(r, MissingStrategy::kDrop, {}, inputs.data()).ok());
    const Status built = design.BuildRow(inputs.data(), r + 1, scratch.data(), x.data());
    ASSERT_TRUE(built.ok()) << built.ToString();
    for (Eigen::Index j = 0; j < all->cols(); ++j)
      ASSERT_TRUE(SameBits((*all)(static_cast<Eigen::Index>(r), j), x[j]))
          << "row " << r << ", column " << design.column_names()[j];
  }
}

TEST(DesignBuild, InteractionIsProductOfFactorValuesFirstFactorFastest) {
  auto f = ParseFormula("y ~ 0 + x:g", {"y", "x", "g"});
  ASSERT_TRUE(f.ok());
  auto d = Design::Create(
      *f, {{"x", ColumnType::kNumeric, {}}, {"g", ColumnType::kCategorical, {"a", "b"}}});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->column_names(), (std::vector<std::string>{"x:ga", "x:gb"}));
  InputTable t;
  t.rows = 3;
  t.row_numbers = {1, 2, 3};
  t.columns = {{2.5, -3.0, 4.0}, {0, 1, 1}};
  auto x = d->Build(t);
  ASSERT_TRUE(x.ok());
  EXPECT_EQ((*x)(0, 0), 2.5);
  EXPECT_EQ((*x)(0, 1), 0.0);
  EXPECT_TRUE(std::signbit((*x)(1, 0)));  // -3 * 0 is -0, as the row-by-row product gives
  EXPECT_EQ((*x)(1, 1), -3.0);
  EXPECT_EQ((*x)(2, 1), 4.0);
}

TEST(DesignBuild, NonFiniteValueErrorNamesFirstRowThenFirstColumn) {
  auto f = ParseFormula("y ~ log(x) + log(z)", {"y", "x", "z"});
  ASSERT_TRUE(f.ok());
  auto d = Design::Create(*f, {{"x", ColumnType::kNumeric, {}}, {"z", ColumnType::kNumeric, {}}});
  ASSERT_TRUE(d.ok());
  InputTable t;
  t.rows = 4;
  t.row_numbers = {10, 20, 30, 40};
  t.columns = {{1, 1, -1, -1}, {1, -1, 1, -1}};  // log(z) fails first (row 20), log(x) at row 30
  auto x = d->Build(t);
  ASSERT_FALSE(x.ok());
  EXPECT_EQ(x.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(x.status().message().find("row 20"), std::string::npos) << x.status().message();
  EXPECT_NE(x.status().message().find("'log(z)'"), std::string::npos) << x.status().message();

  t.columns = {{1, -1, 1, 1}, {1, -1, 1, 1}};  // both fail at row 20: the first column is named
  x = d->Build(t);
  ASSERT_FALSE(x.ok());
  EXPECT_NE(x.status().message().find("row 20"), std::string::npos) << x.status().message();
  EXPECT_NE(x.status().message().find("'log(x)'"), std::string::npos) << x.status().message();
}

TEST(ExtractInputs, MapsLevelsByTextAndKeepsMissingCells) {
  Frame frame;
  frame.rows = 4;
  // The frame's level order differs from the training levels {a, b, c}.
  frame.columns = {{"g", ColumnType::kCategorical, {}, {0, 1, -1, 2}, {"c", "a", "b"}, 1},
                   {"x", ColumnType::kNumeric, {1.5, NAN, 3.5, 4.5}, {}, {}, 1}};
  const std::vector<InputColumn> signature = {{"x", ColumnType::kNumeric, {}},
                                              {"g", ColumnType::kCategorical, {"a", "b", "c"}}};
  auto t = ExtractInputs(frame, signature, {3, 0, 2});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->rows, 3u);
  EXPECT_EQ(t->row_numbers, (std::vector<size_t>{4, 1, 3}));
  EXPECT_EQ(t->columns[0], (std::vector<double>{4.5, 1.5, 3.5}));
  EXPECT_EQ(t->columns[1][0], 1.0);  // "b"
  EXPECT_EQ(t->columns[1][1], 2.0);  // "c"
  EXPECT_TRUE(std::isnan(t->columns[1][2]));

  auto all = ExtractInputs(frame, signature, AllRows(4));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->column(0)[0], 1.5);  // every row in order: read in place from the frame
  EXPECT_EQ(all->column(0), frame.columns[1].values.data());
  EXPECT_TRUE(std::isnan(all->column(0)[1]));
}

TEST(ExtractInputs, UnseenLevelNamesTheRow) {
  Frame frame;
  frame.rows = 3;
  frame.columns = {{"g", ColumnType::kCategorical, {}, {0, 0, 1}, {"a", "zz"}, 0}};
  auto t = ExtractInputs(frame, {{"g", ColumnType::kCategorical, {"a", "b"}}}, AllRows(3));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("row 3"), std::string::npos) << t.status().message();
}

TEST(OlsPredictDesign, TrainingRowValuesEqualServedPredictions) {
  const Frame frame = MakeFrame(500, 5);
  TrainOptions options;
  options.formula = kFormula;
  auto trained = Train(frame, options);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  const auto* ols = dynamic_cast<const OlsModel*>(trained->model.get());
  ASSERT_NE(ols, nullptr);
  auto table = ExtractInputs(frame, ols->signature(), AllRows(frame.rows));
  ASSERT_TRUE(table.ok());
  auto x = ols->design().Build(*table);
  ASSERT_TRUE(x.ok());
  auto fitted = ols->PredictDesign(
      ColumnMatrix(x->data(), static_cast<size_t>(x->rows()), static_cast<size_t>(x->cols())));
  ASSERT_TRUE(fitted.ok()) << fitted.status().ToString();
  auto served = ols->Predict(frame, {});
  ASSERT_TRUE(served.ok());
  auto reloaded = DeserializeModel(ols->Serialize());
  ASSERT_TRUE(reloaded.ok());
  auto again = (*reloaded)->Predict(frame, {});
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(fitted->size(), frame.rows);
  for (size_t r = 0; r < frame.rows; ++r) {
    std::vector<double> row(x->cols());
    for (Eigen::Index j = 0; j < x->cols(); ++j) row[j] = (*x)(r, j);
    ASSERT_TRUE(SameBits((*fitted)[r], OlsPredictRow(ols->fit(), row.data()))) << "row " << r;
    ASSERT_TRUE(SameBits((*fitted)[r], (*served)[r].value)) << "row " << r;
    ASSERT_TRUE(SameBits((*fitted)[r], (*again)[r].value)) << "row " << r;
  }
  // One row served alone: the same bits again.
  auto alone = ols->Predict(RowOf(frame, 123), {});
  ASSERT_TRUE(alone.ok());
  EXPECT_TRUE(SameBits((*alone)[0].value, (*fitted)[123]));
}

TEST(OlsPredictDesign, WrongColumnCountIsInvalidArgument) {
  const Frame frame = MakeFrame(50, 3);
  TrainOptions options;
  options.formula = "y ~ x + z";
  auto trained = Train(frame, options);
  ASSERT_TRUE(trained.ok());
  const auto* ols = dynamic_cast<const OlsModel*>(trained->model.get());
  ASSERT_NE(ols, nullptr);
  const Eigen::MatrixXd zero = Eigen::MatrixXd::Zero(4, 2);
  auto out = ols->PredictDesign(ColumnMatrix(zero.data(), 4, 2));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlprod::ml
