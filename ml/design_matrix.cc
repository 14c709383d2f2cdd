#include "ml/design_matrix.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace mlprod::ml {
namespace {

bool IsFactorType(ColumnType t) { return t != ColumnType::kNumeric; }

// Branch-free count over n values, vectorised as HasNaN is.
size_t CountNonFinite(const double* v, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += (v[i] - v[i]) != 0.0;  // inf - inf and NaN are NaN
  return count;
}

// Evaluates `expr` on n rows at once into out[0..n): each node of the tree is one pass over the
// rows doing what EvalExpr does for one row, so every value has the bits EvalExpr gives it.
// `column_of(name)` returns the n values of an input column. Recurses expr.height deep (bounded
// by FormulaLimits::max_depth) and holds one n-row temporary per right operand on the path.
template <typename ColumnOfFn>
void EvalRows(const Expr& expr, size_t n, const ColumnOfFn& column_of, double* out) {
  using Op = Expr::Op;
  switch (expr.op) {
    case Op::kNumber:
      std::fill(out, out + n, expr.number);
      return;
    case Op::kColumn: {
      const double* c = column_of(expr.name);
      std::copy(c, c + n, out);
      return;
    }
    case Op::kParen:
      EvalRows(expr.args[0], n, column_of, out);
      return;
    case Op::kNeg:
      EvalRows(expr.args[0], n, column_of, out);
      for (size_t r = 0; r < n; ++r) out[r] = -out[r];
      return;
    case Op::kCall:
      EvalRows(expr.args[0], n, column_of, out);
      for (size_t r = 0; r < n; ++r) out[r] = EvalCall(expr.name, out[r]);
      return;
    default:
      break;
  }
  EvalRows(expr.args[0], n, column_of, out);
  // A few rows (a prediction) keep their right operand on the stack, not the heap.
  constexpr size_t kStackRows = 16;
  double stack[kStackRows];
  DoubleBuffer heap = n > kStackRows ? AllocateDoubles(n) : nullptr;
  double* rhs = n > kStackRows ? heap.get() : stack;
  EvalRows(expr.args[1], n, column_of, rhs);
  switch (expr.op) {
    case Op::kAdd:
      for (size_t r = 0; r < n; ++r) out[r] += rhs[r];
      return;
    case Op::kSub:
      for (size_t r = 0; r < n; ++r) out[r] -= rhs[r];
      return;
    case Op::kMul:
      for (size_t r = 0; r < n; ++r) out[r] *= rhs[r];
      return;
    case Op::kDiv:
      for (size_t r = 0; r < n; ++r) out[r] /= rhs[r];
      return;
    case Op::kPow:
      for (size_t r = 0; r < n; ++r) out[r] = PowForFormula(out[r], rhs[r]);
      return;
    default:
      std::fill(out, out + n, 0.0);  // as EvalExpr for an unknown operator
  }
}

// EvalRows over blocks of kEvalBlockRows rows: a right-nested expression such as
// I(x + (x + (x + ...))) holds a temporary per level, and in blocks those stay a few MiB in all
// instead of one column of the whole frame per level. Bits as EvalRows (rows are independent).
constexpr size_t kEvalBlockRows = 4096;

template <typename ColumnOfFn>
void EvalColumn(const Expr& expr, size_t n, const ColumnOfFn& column_of, double* out) {
  for (size_t first = 0; first < n; first += kEvalBlockRows) {
    const size_t rows = std::min(kEvalBlockRows, n - first);
    EvalRows(
        expr, rows, [&](const std::string& name) { return column_of(name) + first; }, out + first);
  }
}

}  // namespace

bool HasNaN(const double* values, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) count += values[i] != values[i];
  return count > 0;
}

std::vector<double>& InputTable::MutableColumn(size_t c) {
  if (!borrowed.empty() && borrowed[c] != nullptr) {
    columns[c].assign(borrowed[c], borrowed[c] + rows);
    borrowed[c] = nullptr;
  }
  return columns[c];
}

void InputTable::KeepRows(const std::vector<bool>& keep) {
  size_t kept = 0;
  for (size_t r = 0; r < rows; ++r) kept += keep[r];
  if (kept == rows) return;
  if (row_numbers.empty()) {
    row_numbers.resize(rows);
    for (size_t r = 0; r < rows; ++r) row_numbers[r] = r + 1;
  }
  for (size_t c = 0; c < columns.size(); ++c) MutableColumn(c);
  size_t out = 0;
  for (size_t r = 0; r < rows; ++r) {
    if (!keep[r]) continue;
    for (auto& col : columns) col[out] = col[r];
    row_numbers[out] = row_numbers[r];
    ++out;
  }
  for (auto& col : columns) col.resize(out);
  row_numbers.resize(out);
  rows = out;
}

namespace {

// `in`'s column of `frame`; INVALID_ARGUMENT naming it when absent or of another type.
Result<const Column*> InputColumnOf(const Frame& frame, const InputColumn& in) {
  const Column* col = frame.Find(in.name);
  if (col == nullptr) return Status::InvalidArgument("column '" + in.name + "' is missing");
  if (in.type == ColumnType::kNumeric && col->type != ColumnType::kNumeric)
    return Status::InvalidArgument("column '" + in.name + "' must be numeric, not " +
                                   std::string(ColumnTypeName(col->type)));
  if (in.type != ColumnType::kNumeric && !IsFactorType(col->type))
    return Status::InvalidArgument("column '" + in.name + "' must be " +
                                   std::string(ColumnTypeName(in.type)) + ", not numeric");
  return col;
}

// The training level code of each of `col`'s levels (-1: not a training level), matched by text;
// empty when `col` has the training levels themselves (a frame FrameFromRecords typed), whose
// codes are kept.
std::vector<int> TrainingCodes(const Column& col, const InputColumn& in) {
  std::vector<int> map;
  if (col.levels == in.levels) return map;
  std::unordered_map<std::string_view, int> training_code;
  for (size_t l = 0; l < in.levels.size(); ++l)
    training_code.emplace(in.levels[l], static_cast<int>(l));
  map.assign(col.levels.size(), -1);
  for (size_t l = 0; l < col.levels.size(); ++l) {
    auto it = training_code.find(col.levels[l]);
    if (it != training_code.end()) map[l] = it->second;
  }
  return map;
}

// Frame row r's cell of a factor column as a training code: NaN when missing, -1 for a level not
// seen in training.
double TrainingCode(const Column& col, const std::vector<int>& map, size_t r) {
  const int code = col.codes[r];
  if (code < 0) return NAN;
  return map.empty() ? code : map[code];
}

Status UnseenLevel(size_t r, const Column& col, const InputColumn& in) {
  return Status::InvalidArgument("row " + std::to_string(r + 1) + ", column '" + in.name +
                                 "': level '" + col.levels[col.codes[r]] +
                                 "' was not seen in training");
}

Status MissingCell(size_t row_number, const InputColumn& in, MissingStrategy missing) {
  return Status::InvalidArgument(
      "row " + std::to_string(row_number) + ", column '" + in.name + "': missing value" +
      (missing == MissingStrategy::kDrop
           ? " (the model was trained with --missing drop, so it has no value to impute)"
           : ""));
}

}  // namespace

Result<InputTable> ExtractInputs(const Frame& frame, const std::vector<InputColumn>& signature,
                                 const std::vector<size_t>& rows) {
  const size_t n = rows.size();
  InputTable table;
  table.rows = n;
  bool identity = n == frame.rows;  // every row in order: numeric columns are borrowed
  for (size_t i = 0; i < n && identity; ++i) identity = rows[i] == i;
  if (!identity) {
    table.row_numbers.reserve(n);
    for (size_t r : rows) table.row_numbers.push_back(r + 1);
  }
  table.columns.reserve(signature.size());
  table.borrowed.assign(signature.size(), nullptr);
  for (const InputColumn& in : signature) {
    MLPROD_ASSIGN_OR_RETURN(const Column* col, InputColumnOf(frame, in));
    std::vector<double> values;
    if (in.type == ColumnType::kNumeric) {
      if (identity) {
        table.borrowed[table.columns.size()] = col->values.data();
      } else {
        values.reserve(n);
        for (size_t r : rows) values.push_back(col->values[r]);
      }
    } else {
      const std::vector<int> map = TrainingCodes(*col, in);  // once per column
      values.reserve(n);
      for (size_t r : rows) {
        const double code = TrainingCode(*col, map, r);
        if (code < 0) return UnseenLevel(r, *col, in);
        values.push_back(code);
      }
    }
    table.columns.push_back(std::move(values));
  }
  return table;
}

Result<RowReader> RowReader::Create(const Frame& frame,
                                    const std::vector<InputColumn>& signature) {
  RowReader reader;
  reader.signature_ = &signature;
  reader.columns_.reserve(signature.size());
  reader.codes_.resize(signature.size());
  for (size_t c = 0; c < signature.size(); ++c) {
    MLPROD_ASSIGN_OR_RETURN(const Column* col, InputColumnOf(frame, signature[c]));
    reader.columns_.push_back(col);
    if (signature[c].type != ColumnType::kNumeric)
      reader.codes_[c] = TrainingCodes(*col, signature[c]);
  }
  return reader;
}

Status RowReader::Read(size_t r, MissingStrategy missing, const std::vector<double>& imputation,
                       double* inputs) const {
  for (size_t c = 0; c < columns_.size(); ++c) {
    const Column& col = *columns_[c];
    const InputColumn& in = (*signature_)[c];
    double v;
    if (in.type == ColumnType::kNumeric) {
      v = col.values[r];
    } else {
      v = TrainingCode(col, codes_[c], r);
      if (v < 0) return UnseenLevel(r, col, in);
    }
    if (std::isnan(v)) {
      if (missing == MissingStrategy::kDrop || std::isnan(imputation[c]))
        return MissingCell(r + 1, in, missing);
      v = imputation[c];
    }
    inputs[c] = v;
  }
  return Status::Ok();
}

std::vector<double> ComputeImputation(const InputTable& table,
                                      const std::vector<InputColumn>& signature,
                                      MissingStrategy strategy) {
  std::vector<double> out(signature.size(), NAN);
  for (size_t c = 0; c < signature.size(); ++c) {
    const std::span<const double> v(table.column(c), table.rows);
    if (signature[c].type != ColumnType::kNumeric) {
      std::vector<size_t> counts(signature[c].levels.size(), 0);
      for (double x : v)
        if (!std::isnan(x)) ++counts[static_cast<size_t>(x)];
      size_t best = 0;
      for (size_t l = 1; l < counts.size(); ++l)
        if (counts[l] > counts[best]) best = l;
      if (!counts.empty() && counts[best] > 0) out[c] = static_cast<double>(best);
      continue;
    }
    std::vector<double> present;
    for (double x : v)
      if (!std::isnan(x)) present.push_back(x);
    if (present.empty()) continue;
    if (strategy == MissingStrategy::kMedian) {
      std::sort(present.begin(), present.end());
      size_t m = present.size() / 2;
      out[c] = present.size() % 2 ? present[m] : (present[m - 1] + present[m]) / 2;
    } else {
      long double sum = 0;
      for (double x : present) sum += x;
      out[c] = static_cast<double>(sum / present.size());
    }
  }
  return out;
}

Status FillMissing(const std::vector<InputColumn>& signature, MissingStrategy missing,
                   const std::vector<double>& imputation, InputTable* table) {
  for (size_t c = 0; c < signature.size(); ++c) {
    if (!HasNaN(table->column(c), table->rows)) continue;  // nothing to fill or copy
    std::vector<double>& values = table->MutableColumn(c);
    for (size_t r = 0; r < table->rows; ++r) {
      double& v = values[r];
      if (!std::isnan(v)) continue;
      if (missing == MissingStrategy::kDrop || std::isnan(imputation[c]))
        return MissingCell(table->RowNumber(r), signature[c], missing);
      v = imputation[c];
    }
  }
  return Status::Ok();
}

Result<Design> Design::Create(ParsedFormula formula, std::vector<InputColumn> signature) {
  Design d;
  d.formula_ = std::move(formula);
  d.signature_ = std::move(signature);
  for (size_t i = 0; i < d.signature_.size(); ++i)
    d.input_index_[d.signature_[i].name] = static_cast<int>(i);
  const ParsedFormula& f = d.formula_;
  const size_t nv = f.variables.size();
  d.var_offset_.assign(nv, 0);
  d.poly_.resize(nv);
  d.spline_.resize(nv);

  // Which variables are factors; arithmetic, poly or ns on a factor column is an error, and so is
  // C() on a numeric one.
  std::vector<int> factor_input(nv, -1);
  std::vector<bool> used(nv, false);
  for (const auto& term : f.terms) {
    for (int v : term) {
      const Variable& var = f.variables[v];
      if (used[v]) continue;
      used[v] = true;
      Status status;
      ForEachColumn(var.expr, [&](const std::string& name, int position) {
        if (!status.ok()) return;
        auto it = d.input_index_.find(name);
        if (it == d.input_index_.end()) {  // a stored model's signature may not match its formula
          status = Status::InvalidArgument("formula position " + std::to_string(position) +
                                           ": column '" + name + "' has no type");
          return;
        }
        const InputColumn& in = d.signature_[it->second];
        const std::string where = "formula position " + std::to_string(position) + ": column '" +
                                  name + "' is " + std::string(ColumnTypeName(in.type));
        if (var.kind == Variable::Kind::kContrast) {
          if (!IsFactorType(in.type))
            status = Status::InvalidArgument(where + "; C() needs a categorical or boolean column");
          else
            factor_input[v] = it->second;
          return;
        }
        if (!IsFactorType(in.type)) return;
        if (var.IsColumn()) {
          factor_input[v] = it->second;
        } else if (var.kind == Variable::Kind::kPlain) {
          status = Status::InvalidArgument(where + " and cannot be used in arithmetic");
        } else {
          status = Status::InvalidArgument(where + "; " + var.label.substr(0, var.label.find('(')) +
                                           "() needs a numeric argument");
        }
      });
      MLPROD_RETURN_IF_ERROR(status);
      if (factor_input[v] >= 0) continue;
      d.numeric_vars_.push_back(v);
      d.var_offset_[v] = d.value_slots_;
      d.value_slots_ += var.kind == Variable::Kind::kPlain ? 1 : static_cast<size_t>(var.size);
      if (var.kind != Variable::Kind::kPlain) d.fitted_ = false;
    }
  }

  if (f.intercept) d.names_.push_back("(Intercept)");
  bool full_given = f.intercept;  // without an intercept, the first factor gets full coding
  const std::set<std::vector<int>> term_set(f.terms.begin(), f.terms.end());
  size_t name_bytes = 0;
  for (const auto& term : f.terms) {
    Term t;
    std::vector<std::vector<std::string>> factor_names;
    size_t longest_name = 0;  // of the term's columns: the factors' longest names, joined
    auto too_large = [&](const std::string& what) {
      return Status::InvalidArgument("formula position " +
                                     std::to_string(f.variables[term[0]].position) + ": term '" +
                                     TermLabel(f, term) + "' makes the design's " + what);
    };
    const std::string too_wide = "width more than " + std::to_string(kMaxColumns) + " columns";
    for (int v : term) {
      Factor factor;
      factor.variable = v;
      factor.input = factor_input[v];
      std::vector<std::string> names;
      const Variable& var = f.variables[v];
      const std::string& label = var.label;
      if (factor.input < 0) {
        if (var.kind == Variable::Kind::kPlain) {
          names.push_back(label);
        } else {
          for (int c = 1; c <= var.size; ++c) names.push_back(label + std::to_string(c));
        }
      } else {
        std::vector<int> margin;
        for (int w : term)
          if (w != v) margin.push_back(w);
        bool margin_present = margin.empty() || term_set.count(margin) != 0;
        factor.full = !margin_present;
        if (!full_given) {
          factor.full = true;
          full_given = true;
        }
        const auto& levels = d.signature_[factor.input].levels;
        for (size_t l = 0; l < levels.size(); ++l) factor.levels.push_back(static_cast<int>(l));
        if (var.kind == Variable::Kind::kContrast) {
          auto it = std::find(levels.begin(), levels.end(), var.ref);
          if (it == levels.end()) {
            std::string known;
            for (const auto& l : levels) known += (known.empty() ? "" : ", ") + l;
            return Status::InvalidArgument("formula position " + std::to_string(var.ref_position) +
                                           ": '" + var.ref + "' is not a level of column '" +
                                           var.expr.name + "' (levels: " + known + ")");
          }
          int ref = static_cast<int>(it - levels.begin());
          factor.levels.erase(factor.levels.begin() + ref);
          factor.levels.insert(factor.levels.begin(), ref);
        }
        for (size_t l = factor.full ? 0 : 1; l < levels.size(); ++l)
          names.push_back(label + levels[factor.levels[l]]);
      }
      factor.width = names.size();
      if (factor.width != 0 && t.width > kMaxColumns / factor.width) return too_large(too_wide);
      t.width *= factor.width;
      for (const std::string& n : names) longest_name = std::max(longest_name, n.size() + 1);
      t.factors.push_back(std::move(factor));
      factor_names.push_back(std::move(names));
    }
    if (d.names_.size() + t.width > kMaxColumns) return too_large(too_wide);
    name_bytes += t.width * longest_name;
    if (name_bytes > kMaxNameBytes)
      return too_large("column names longer than " + std::to_string(kMaxNameBytes >> 20) + " MiB");
    // First factor varies fastest, as in R.
    std::vector<std::string> combined = {""};
    for (const auto& names : factor_names) {
      std::vector<std::string> next;
      for (const auto& n : names)
        for (const auto& prefix : combined) next.push_back(prefix.empty() ? n : prefix + ":" + n);
      combined = std::move(next);
    }
    for (auto& n : combined) d.names_.push_back(std::move(n));
    d.terms_.push_back(std::move(t));
  }
  return d;
}

// Column c of `term` over n rows into out: the product of one value per factor, first factor
// varying fastest, multiplied left to right: (v1 * v2) * v3 (R's model.matrix order). `slot(at)`
// gives the n values of a numeric variable's value slot, `input(c)` the n level codes of
// signature column c. BuildColumns (n rows) and BuildRow (one) both build a column here, so a
// row has the same bits either way.
template <typename SlotFn, typename InputFn>
void Design::TermColumn(const Term& term, size_t c, size_t n, const SlotFn& slot,
                        const InputFn& input, double* out) const {
  size_t rest = c;
  bool first = true;
  for (const Factor& factor : term.factors) {
    const size_t j = rest % factor.width;
    rest /= factor.width;
    if (factor.input < 0) {
      const double* v = slot(var_offset_[factor.variable] + j);
      if (first) {
        std::copy(v, v + n, out);
      } else {
        for (size_t r = 0; r < n; ++r) out[r] *= v[r];
      }
    } else {
      const double* codes = input(factor.input);
      const double level = factor.levels[j + (factor.full ? 0 : 1)];
      if (first) {
        for (size_t r = 0; r < n; ++r) out[r] = codes[r] == level ? 1.0 : 0.0;
      } else {
        for (size_t r = 0; r < n; ++r) out[r] *= codes[r] == level ? 1.0 : 0.0;
      }
    }
    first = false;
  }
}

Status Design::BuildRow(const double* inputs, size_t row_number, double* scratch,
                        double* out) const {
  if (!fitted_)
    return Status::FailedPrecondition("the formula's poly()/ns() terms have not been fitted");
  auto column_of = [&](const std::string& name) { return inputs + input_index_.at(name); };
  for (int v : numeric_vars_) {
    const Variable& var = formula_.variables[v];
    double* at = scratch + var_offset_[v];
    if (var.kind == Variable::Kind::kPlain) {
      EvalColumn(var.expr, 1, column_of, at);
      continue;
    }
    double x;
    EvalColumn(var.expr, 1, column_of, &x);
    if (var.kind == Variable::Kind::kPoly)
      PolyBasis(*poly_[v], x, at);
    else
      spline_[v]->Basis(x, at);
  }
  size_t col = 0;
  if (formula_.intercept) out[col++] = 1.0;
  for (const Term& term : terms_) {
    for (size_t c = 0; c < term.width; ++c) {
      TermColumn(
          term, c, 1, [&](size_t at) { return scratch + at; },
          [&](int input) { return inputs + input; }, out + col++);
    }
  }
  for (size_t j = 0; j < col; ++j) {
    if (!std::isfinite(out[j]))
      return Status::InvalidArgument("row " + std::to_string(row_number) + ", term '" + names_[j] +
                                     "': value is not finite");
  }
  return Status::Ok();
}

Result<Eigen::MatrixXd> Design::Build(const InputTable& table) const {
  MLPROD_ASSIGN_OR_RETURN(ColumnMatrix columns, BuildColumns(table));
  const size_t n = columns.rows();
  Eigen::MatrixXd x(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(columns.cols()));
  for (size_t j = 0; j < columns.cols(); ++j)
    std::copy(columns.col(j), columns.col(j) + n, x.col(static_cast<Eigen::Index>(j)).data());
  return x;
}

Result<ColumnMatrix> Design::BuildColumns(const InputTable& table) const {
  if (!fitted_)
    return Status::FailedPrecondition("the formula's poly()/ns() terms have not been fitted");
  const size_t n = table.rows;
  // Input columns are resolved by name once per expression node, not per row.
  auto column_of = [&](const std::string& name) { return table.column(input_index_.at(name)); };

  // Intermediate values live in one block: per computed variable, its n values, then for
  // poly()/ns() the n values of each basis column.
  const size_t stride = AlignedStride(n);
  size_t scratch_cols = 0;
  for (int v : numeric_vars_) {
    const Variable& var = formula_.variables[v];
    if (var.IsColumn()) continue;
    scratch_cols += 1 + (var.kind == Variable::Kind::kPlain ? 0 : static_cast<size_t>(var.size));
  }
  DoubleBuffer scratch = scratch_cols > 0 ? AllocateDoubles(stride * scratch_cols) : nullptr;
  double* next_scratch = scratch.get();
  auto take_scratch = [&] {
    double* column = next_scratch;
    next_scratch += stride;
    return column;
  };

  // The numeric variables, one column of n values per slot. A bare column is read in place.
  std::vector<const double*> slot(value_slots_);
  std::vector<double> basis;
  for (int v : numeric_vars_) {
    const Variable& var = formula_.variables[v];
    const size_t at = var_offset_[v];
    if (var.IsColumn()) {
      slot[at] = column_of(var.expr.name);
      continue;
    }
    double* x = take_scratch();
    EvalColumn(var.expr, n, column_of, x);
    if (var.kind == Variable::Kind::kPlain) {
      slot[at] = x;
      continue;
    }
    // poly()/ns(): the basis of each row's value, the same call per row as for a single row.
    const size_t width = static_cast<size_t>(var.size);
    basis.resize(width);
    std::vector<double*> out(width);
    for (size_t k = 0; k < width; ++k) {
      out[k] = take_scratch();
      slot[at + k] = out[k];
    }
    for (size_t r = 0; r < n; ++r) {
      if (var.kind == Variable::Kind::kPoly)
        PolyBasis(*poly_[v], x[r], basis.data());
      else
        spline_[v]->Basis(x[r], basis.data());
      for (size_t k = 0; k < width; ++k) out[k][r] = basis[k];
    }
  }

  // Column by column (TermColumn). A term that is one input column as it is reads it in place.
  auto borrowed = [&](const Term& term) {
    return term.factors.size() == 1 && term.factors[0].input < 0 &&
           formula_.variables[term.factors[0].variable].IsColumn();
  };
  size_t owned_cols = formula_.intercept ? 1 : 0;
  for (const Term& term : terms_) owned_cols += borrowed(term) ? 0 : term.width;
  ColumnMatrix x(n);
  x.Reserve(names_.size(), owned_cols);
  if (formula_.intercept) std::fill_n(x.AddOwned(), n, 1.0);
  for (const Term& term : terms_) {
    if (borrowed(term)) {
      x.AddBorrowed(slot[var_offset_[term.factors[0].variable]]);
      continue;
    }
    for (size_t c = 0; c < term.width; ++c) {
      TermColumn(
          term, c, n, [&](size_t at) { return slot[at]; },
          [&](int input) { return table.column(input); }, x.AddOwned());
    }
  }

  // The first non-finite value in row order (then column order) names the error.
  size_t bad_row = n, bad_col = 0;
  for (size_t j = 0; j < x.cols(); ++j) {
    const double* v = x.col(j);
    if (CountNonFinite(v, bad_row) == 0) continue;
    for (size_t r = 0; r < bad_row; ++r) {
      if (!std::isfinite(v[r])) {
        bad_row = r;
        bad_col = j;
        break;
      }
    }
  }
  if (bad_row < n)
    return Status::InvalidArgument("row " + std::to_string(table.RowNumber(bad_row)) +
                                   ", term '" + names_[bad_col] + "': value is not finite");
  return x;
}

Status Design::FitVariable(int v, const std::vector<double>& x) {
  const Variable& var = formula_.variables[v];
  Status status;
  if (var.kind == Variable::Kind::kPoly) {
    Result<PolyCoefs> coefs = FitPoly(x, var.size);
    if (coefs.ok()) poly_[v] = std::move(*coefs);
    status = coefs.status();
  } else {
    Result<NaturalSpline> spline = NaturalSpline::Fit(x, var.size);
    if (spline.ok()) spline_[v] = std::move(*spline);
    status = spline.status();
  }
  if (status.ok()) return status;
  return Status(status.code(), "formula position " + std::to_string(var.position) + ": " +
                                   var.label + ": " + status.message());
}

Status Design::Fit(const InputTable& training) {
  auto column_of = [&](const std::string& name) {
    return training.column(input_index_.at(name));
  };
  for (int v : numeric_vars_) {
    const Variable& var = formula_.variables[v];
    if (var.kind == Variable::Kind::kPlain) continue;
    std::vector<double> x(training.rows);
    EvalColumn(var.expr, training.rows, column_of, x.data());
    for (size_t r = 0; r < training.rows; ++r) {
      if (!std::isfinite(x[r]))
        return Status::InvalidArgument("row " + std::to_string(training.RowNumber(r)) +
                                       ", term '" + var.label + "': value is not finite");
    }
    MLPROD_RETURN_IF_ERROR(FitVariable(v, x));
  }
  fitted_ = true;
  return Status::Ok();
}

std::string Design::StateJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (int v : numeric_vars_) {
    const Variable& var = formula_.variables[v];
    if (var.kind == Variable::Kind::kPoly && poly_[v]) {
      out.push_back({{"label", var.label}, {"alpha", poly_[v]->alpha}, {"norm2", poly_[v]->norm2}});
    } else if (var.kind == Variable::Kind::kSpline && spline_[v]) {
      out.push_back({{"label", var.label},
                     {"knots", spline_[v]->interior_knots()},
                     {"boundary", {spline_[v]->lower(), spline_[v]->upper()}}});
    }
  }
  return out.dump();
}

Status Design::RestoreState(std::string_view text) {
  nlohmann::json state = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (state.is_discarded() || !state.is_array())
    return Status::InvalidArgument("model transform state is not a JSON array");
  size_t next = 0;
  try {
    for (int v : numeric_vars_) {
      const Variable& var = formula_.variables[v];
      if (var.kind == Variable::Kind::kPlain) continue;
      if (next >= state.size() || state[next].at("label").get<std::string>() != var.label)
        return Status::InvalidArgument("model transform state does not match term " + var.label);
      const nlohmann::json& s = state[next++];
      if (var.kind == Variable::Kind::kPoly) {
        PolyCoefs coefs;
        coefs.alpha = s.at("alpha").get<std::vector<double>>();
        coefs.norm2 = s.at("norm2").get<std::vector<double>>();
        if (coefs.degree() != var.size || coefs.norm2.size() != coefs.alpha.size() + 2)
          return Status::InvalidArgument("model poly state does not match term " + var.label);
        poly_[v] = std::move(coefs);
      } else {
        auto boundary = s.at("boundary").get<std::vector<double>>();
        auto knots = s.at("knots").get<std::vector<double>>();
        if (boundary.size() != 2 || static_cast<int>(knots.size()) != var.size - 1)
          return Status::InvalidArgument("model spline state does not match term " + var.label);
        MLPROD_ASSIGN_OR_RETURN(
            NaturalSpline spline,
            NaturalSpline::FromKnots(std::move(knots), boundary[0], boundary[1]));
        spline_[v] = std::move(spline);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidArgument(std::string("malformed model transform state: ") + e.what());
  }
  if (next != state.size())
    return Status::InvalidArgument("model transform state has entries no term uses");
  fitted_ = true;
  return Status::Ok();
}

}  // namespace mlprod::ml
