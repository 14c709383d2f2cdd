// poly(), ns(), interactions and C(x, ref = ...) against R: the numbers in
// tests/reference/formula_refs.json were printed by tests/reference/generate_formula_refs.R (R's
// poly, splines::ns, lm, relevel) and must agree to at least 6 significant digits. Each fit is
// also saved and reloaded, and the reloaded model must predict the same bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ml/basis.h"
#include "ml/design_matrix.h"
#include "ml/model.h"
#include "ml/ols_model.h"

namespace mlprod::ml {
namespace {

using nlohmann::json;

const json& Refs() {
  static const json refs = [] {
    std::ifstream in(std::string(MLPROD_REFERENCE_DIR) + "/formula_refs.json");
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  }();
  return refs;
}

// Significant digits to which `got` agrees with `want`; entries far below `scale` (the largest
// magnitude of the reference array) are judged relative to scale * 1e-9, as R's own rounding
// noise there is of that order.
double AgreementDigits(double got, double want, double scale) {
  double denom = std::max(std::abs(want), scale * 1e-9);
  double rel = std::abs(got - want) / denom;
  return rel == 0 ? 17 : std::min(17.0, -std::log10(rel));
}

// Tracks the worst agreement of a group and checks every value has at least 6 digits.
class Agreement {
 public:
  explicit Agreement(std::string what) : what_(std::move(what)) {}
  ~Agreement() { std::printf("  %-44s worst agreement %.1f digits\n", what_.c_str(), worst_); }
  void Check(double got, double want, double scale, const std::string& where) {
    double digits = AgreementDigits(got, want, scale);
    worst_ = std::min(worst_, digits);
    EXPECT_GE(digits, 6.0) << what_ << " " << where << ": got " << got << ", R " << want;
  }
  void CheckVector(const std::vector<double>& got, const json& want, const std::string& where) {
    ASSERT_EQ(got.size(), want.size()) << what_ << " " << where;
    double scale = 0;
    for (const json& w : want) scale = std::max(scale, std::abs(w.get<double>()));
    for (size_t i = 0; i < got.size(); ++i)
      Check(got[i], want[i].get<double>(), scale, where + "[" + std::to_string(i) + "]");
  }
  void CheckMatrix(const Eigen::MatrixXd& got, const json& want, const std::string& where) {
    ASSERT_EQ(static_cast<size_t>(got.rows()), want.size()) << what_ << " " << where;
    for (Eigen::Index r = 0; r < got.rows(); ++r) {
      ASSERT_EQ(static_cast<size_t>(got.cols()), want[r].size()) << what_ << " " << where;
      for (Eigen::Index c = 0; c < got.cols(); ++c) {
        double scale = 0;
        for (const json& row : want) scale = std::max(scale, std::abs(row[c].get<double>()));
        Check(got(r, c), want[r][c].get<double>(), scale,
              where + "(" + std::to_string(r) + "," + std::to_string(c) + ")");
      }
    }
  }

 private:
  std::string what_;
  double worst_ = 17;
};

std::vector<double> Doubles(const json& j) { return j.get<std::vector<double>>(); }

Frame MakeFrame(const json& data, bool with_response) {
  Frame f;
  f.rows = data.at("x").size();
  for (const char* name : {"y", "x", "x1"}) {
    if (!data.contains(name) || (!with_response && std::string(name) == "y")) continue;
    Column c;
    c.name = name;
    c.values = Doubles(data.at(name));
    f.columns.push_back(std::move(c));
  }
  Column g;
  g.name = "g";
  g.type = ColumnType::kCategorical;
  g.levels = {"a", "b", "c"};
  for (const json& v : data.at("g"))
    g.codes.push_back(static_cast<int32_t>(v.get<std::string>()[0] - 'a'));
  f.columns.push_back(std::move(g));
  return f;
}

TEST(FormulaReference, PolyCoefficientsAndBasisMatchR) {
  ASSERT_FALSE(Refs().is_discarded()) << "cannot read " MLPROD_REFERENCE_DIR "/formula_refs.json";
  const json& ref = Refs().at("poly3");
  std::vector<double> x = Doubles(Refs().at("data").at("x"));
  auto coefs = FitPoly(x, 3);
  ASSERT_TRUE(coefs.ok()) << coefs.status().ToString();
  Agreement agree("poly(x, 3) alpha, norm2, basis");
  agree.CheckVector(coefs->alpha, ref.at("alpha"), "alpha");
  agree.CheckVector(coefs->norm2, ref.at("norm2"), "norm2");
  auto basis_at = [&](const std::vector<double>& at) {
    Eigen::MatrixXd b(at.size(), 3);
    for (size_t i = 0; i < at.size(); ++i) {
      double row[3];
      PolyBasis(*coefs, at[i], row);
      for (int c = 0; c < 3; ++c) b(i, c) = row[c];
    }
    return b;
  };
  agree.CheckMatrix(basis_at(x), ref.at("basis"), "basis");
  agree.CheckMatrix(basis_at(Doubles(Refs().at("new_data").at("x"))), ref.at("basis_new"),
                    "predict(poly)");
}

// Given R's own alpha and norm2, the recurrence performs R's operations in R's order: the values
// are predict(poly)'s to the bit.
TEST(FormulaReference, PolyBasisFromRCoefficientsIsBitIdenticalToPredictPoly) {
  ASSERT_FALSE(Refs().is_discarded());
  const json& ref = Refs().at("poly3");
  PolyCoefs coefs{Doubles(ref.at("alpha")), Doubles(ref.at("norm2"))};
  std::vector<double> new_x = Doubles(Refs().at("new_data").at("x"));
  for (size_t i = 0; i < new_x.size(); ++i) {
    double row[3];
    PolyBasis(coefs, new_x[i], row);
    for (int c = 0; c < 3; ++c)
      EXPECT_EQ(row[c], ref.at("basis_new")[i][c].get<double>()) << "x = " << new_x[i];
  }
}

TEST(FormulaReference, NaturalSplineKnotsAndBasisMatchR) {
  ASSERT_FALSE(Refs().is_discarded());
  std::vector<double> x = Doubles(Refs().at("data").at("x"));
  std::vector<double> new_x = Doubles(Refs().at("new_data").at("x"));
  for (int df : {1, 4, 7}) {
    const json& ref = Refs().at("ns" + std::to_string(df));
    auto spline = NaturalSpline::Fit(x, df);
    ASSERT_TRUE(spline.ok()) << spline.status().ToString();
    ASSERT_EQ(spline->df(), df);
    Agreement agree("ns(x, " + std::to_string(df) + ") knots, basis");
    if (df > 1) agree.CheckVector(spline->interior_knots(), ref.at("knots"), "knots");
    if (ref.contains("boundary"))
      agree.CheckVector({spline->lower(), spline->upper()}, ref.at("boundary"), "boundary");
    auto basis_at = [&](const std::vector<double>& at) {
      Eigen::MatrixXd b(at.size(), df);
      std::vector<double> row(df);
      for (size_t i = 0; i < at.size(); ++i) {
        spline->Basis(at[i], row.data());
        for (int c = 0; c < df; ++c) b(i, c) = row[c];
      }
      return b;
    };
    agree.CheckMatrix(basis_at(x), ref.at("basis"), "basis");
    // New points include both boundaries and points beyond them (linear extrapolation).
    if (ref.contains("basis_new"))
      agree.CheckMatrix(basis_at(new_x), ref.at("basis_new"), "predict(ns)");
  }
}

// R's labels for relevel(g, ref = "b") are mlprod's for C(g, ref = "b").
std::string MlprodName(std::string r_name) {
  const std::string from = "relevel(", to = "C(";
  for (size_t at = r_name.find(from); at != std::string::npos; at = r_name.find(from, at))
    r_name.replace(at, from.size(), to);
  return r_name;
}

TEST(FormulaReference, LinearModelsMatchR) {
  ASSERT_FALSE(Refs().is_discarded());
  const Frame train = MakeFrame(Refs().at("data"), true);
  const Frame fresh = MakeFrame(Refs().at("new_data"), false);
  for (const json& ref : Refs().at("fits")) {
    const std::string formula = ref.at("formula").get<std::string>();
    SCOPED_TRACE(formula);
    TrainOptions options;
    options.formula = formula;
    auto out = Train(train, options);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    Agreement agree("lm(" + formula + ")");

    std::vector<std::string> want_names;
    for (const json& n : ref.at("r_terms")) want_names.push_back(MlprodName(n.get<std::string>()));
    std::vector<std::string> names;
    std::vector<double> estimate, std_error;
    for (const CoefficientRow& row : out->report.coefficients) {
      names.push_back(row.term);
      estimate.push_back(row.estimate);
      std_error.push_back(row.std_error);
      EXPECT_FALSE(row.aliased) << row.term;
    }
    EXPECT_EQ(names, want_names);
    agree.CheckVector(estimate, ref.at("estimate"), "estimate");
    agree.CheckVector(std_error, ref.at("std_error"), "std. error");
    agree.CheckVector({out->report.sigma}, ref.at("sigma"), "sigma");
    agree.CheckVector({out->report.metrics.at("r_squared")}, ref.at("r_squared"), "R^2");

    const auto* ols = dynamic_cast<const OlsModel*>(out->model.get());
    ASSERT_NE(ols, nullptr);
    std::vector<size_t> all(train.rows);
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    auto table = ExtractInputs(train, ols->signature(), all);
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    auto x = ols->design().Build(*table);
    ASSERT_TRUE(x.ok()) << x.status().ToString();
    agree.CheckMatrix(*x, ref.at("design"), "model.matrix");

    auto predicted = out->model->Predict(fresh, {});
    ASSERT_TRUE(predicted.ok()) << predicted.status().ToString();
    std::vector<double> values;
    for (const Prediction& p : *predicted) values.push_back(p.value);
    agree.CheckVector(values, ref.at("predict_new"), "predict");

    // A saved and reloaded model predicts the same bits.
    auto reloaded = DeserializeModel(out->model->Serialize());
    ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
    auto again = (*reloaded)->Predict(fresh, {});
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    for (size_t i = 0; i < values.size(); ++i)
      EXPECT_EQ(std::memcmp(&values[i], &(*again)[i].value, sizeof(double)), 0)
          << "row " << i << ": " << values[i] << " vs " << (*again)[i].value;
  }
}

}  // namespace
}  // namespace mlprod::ml
