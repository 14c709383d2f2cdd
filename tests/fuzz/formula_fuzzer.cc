// Formula parser: any text as a formula over fixed columns (one-sided when it starts with '~',
// as for k-means). An error is INVALID_ARGUMENT naming a position inside the text (or just past
// it). A parsed formula prints back (response, intercept, term labels) to a formula that parses
// to the same terms; what parses under tight limits parses alike under the defaults; and the
// design matrix it asks for builds, or is refused with an error, on a few rows.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ml/design_matrix.h"
#include "ml/fit_data.h"
#include "ml/formula.h"
#include "tests/fuzz/fuzz_check.h"

namespace mlprod::fuzz {
namespace {

using ml::ColumnType;
using ml::InputColumn;
using ml::ParsedFormula;

constexpr size_t kRows = 7;

// The frame the formula is parsed against: name, type, levels, and kRows values (codes for
// categorical and boolean columns).
struct FuzzColumn {
  InputColumn column;
  std::vector<double> values;
};

const std::vector<FuzzColumn>& Columns() {
  static const auto* columns = new std::vector<FuzzColumn>{
      {{"y", ColumnType::kNumeric, {}}, {1, 3, 2, 5, 4, 7, 6}},
      {{"x", ColumnType::kNumeric, {}}, {0.5, 1, 2, 3, -1, 4, 2}},
      {{"z", ColumnType::kNumeric, {}}, {1, 2, 3, 4, 5, 6, 7}},
      {{"my col", ColumnType::kNumeric, {}}, {0, 0, 1e300, -2, 3, 0.25, 9}},
      {{"g", ColumnType::kCategorical, {"a", "b", "c"}}, {0, 1, 2, 0, 1, 2, 0}},
      {{"f", ColumnType::kBoolean, {"no", "yes"}}, {0, 1, 1, 0, 0, 1, 1}},
  };
  return *columns;
}

std::vector<std::string> Names() {
  std::vector<std::string> names;
  for (const FuzzColumn& c : Columns()) names.push_back(c.column.name);
  return names;
}

// "formula position P: ..." with 1 <= P <= size + 1.
void CheckError(const Status& status, size_t size) {
  FUZZ_CHECK(status.code() == StatusCode::kInvalidArgument, status.ToString());
  const std::string key = "formula position ";
  const std::string& m = status.message();
  FUZZ_CHECK(m.compare(0, key.size(), key) == 0, status.ToString());
  const long position = std::strtol(m.c_str() + key.size(), nullptr, 10);
  FUZZ_CHECK(position >= 1 && static_cast<size_t>(position) <= size + 1, status.ToString());
}

// Each term as the sorted labels of its variables (labels within a term follow variable order,
// which printing may change).
std::vector<std::vector<std::string>> Terms(const ParsedFormula& f) {
  std::vector<std::vector<std::string>> terms;
  for (const auto& term : f.terms) {
    std::vector<std::string> labels;
    for (int v : term) labels.push_back(f.variables[v].label);
    std::sort(labels.begin(), labels.end());
    terms.push_back(std::move(labels));
  }
  return terms;
}

// The formula as stepwise selection prints its candidates: response, intercept, term labels.
std::string Print(const ParsedFormula& f, bool one_sided) {
  std::string rhs = f.intercept ? "" : "0";
  for (const auto& term : f.terms) rhs += (rhs.empty() ? "" : " + ") + ml::TermLabel(f, term);
  if (rhs.empty()) rhs = "1";
  return (one_sided ? "" : "`" + f.response + "` ") + "~ " + rhs;
}

void BuildDesign(ParsedFormula parsed) {
  std::vector<InputColumn> signature;
  ml::InputTable table;
  table.rows = kRows;
  for (const std::string& name : parsed.columns) {
    const auto& all = Columns();
    auto it = std::find_if(all.begin(), all.end(),
                           [&](const FuzzColumn& c) { return c.column.name == name; });
    FUZZ_CHECK(it != all.end(), "parsed column '" + name + "' is not available");
    signature.push_back(it->column);
    table.columns.push_back(it->values);
  }
  Result<ml::Design> design = ml::Design::Create(std::move(parsed), signature);
  if (!design.ok()) {
    FUZZ_CHECK(design.status().code() == StatusCode::kInvalidArgument, design.status().ToString());
    return;
  }
  const Status fit = design->Fit(table);
  if (!fit.ok()) {
    FUZZ_CHECK(
        fit.code() == StatusCode::kInvalidArgument || fit.code() == StatusCode::kFailedPrecondition,
        fit.ToString());
    return;
  }
  Result<ml::ColumnMatrix> x = design->BuildColumns(table);
  if (!x.ok()) {
    FUZZ_CHECK(x.status().code() == StatusCode::kInvalidArgument, x.status().ToString());
    return;
  }
  FUZZ_CHECK(x->cols() == design->cols(), "design width");
  // The fitted state reads back into an equal design.
  Result<ml::Design> again = ml::Design::Create(design->formula(), signature);
  FUZZ_CHECK(again.ok(), again.status().ToString());
  const Status restored = again->RestoreState(design->StateJson());
  FUZZ_CHECK(restored.ok(), restored.ToString());
  FUZZ_CHECK(again->StateJson() == design->StateJson(), "state round trip");
}

void FuzzOne(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const size_t first = text.find_first_not_of(" \t");
  const bool one_sided = first != std::string::npos && text[first] == '~';
  const std::vector<std::string> names = Names();

  const Result<ParsedFormula> parsed = ml::ParseModelFormula(text, names, one_sided, {});
  ml::FormulaLimits tight;
  tight.max_length = 64;
  tight.max_depth = 4;
  tight.max_terms = 8;
  const Result<ParsedFormula> small = ml::ParseModelFormula(text, names, one_sided, tight);
  if (!small.ok()) CheckError(small.status(), size);
  if (!parsed.ok()) {
    CheckError(parsed.status(), size);
    FUZZ_CHECK(!small.ok(), "parses under tight limits only");
    return;
  }
  if (small.ok()) FUZZ_CHECK(Terms(*small) == Terms(*parsed), "tight and default limits differ");

  for (const ml::Variable& v : parsed->variables) {
    FUZZ_CHECK(v.expr.height <= ml::FormulaLimits{}.max_depth, "expression too tall");
    const double value = ml::EvalExpr(
        v.expr, [](const std::string& name) { return static_cast<double>(name.size()) - 2.5; });
    (void)value;
  }

  const std::string printed = Print(*parsed, one_sided);
  ml::FormulaLimits roomy;
  roomy.max_length = printed.size();
  const Result<ParsedFormula> reparsed = ml::ParseModelFormula(printed, names, one_sided, roomy);
  FUZZ_CHECK(reparsed.ok(), "'" + printed + "': " + reparsed.status().ToString());
  FUZZ_CHECK(reparsed->intercept == parsed->intercept, printed);
  FUZZ_CHECK(reparsed->response == parsed->response, printed);
  FUZZ_CHECK(Terms(*reparsed) == Terms(*parsed), "terms of '" + printed + "'");
  std::vector<std::string> a = parsed->columns, b = reparsed->columns;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  FUZZ_CHECK(a == b, "columns of '" + printed + "'");

  BuildDesign(*parsed);
}

}  // namespace
}  // namespace mlprod::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mlprod::fuzz::FuzzOne(data, size);
  return 0;
}
