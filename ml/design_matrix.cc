#include "ml/design_matrix.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace mlprod::ml {
namespace {

bool IsFactorType(ColumnType t) { return t != ColumnType::kNumeric; }

}  // namespace

Result<InputTable> ExtractInputs(const Frame& frame, const std::vector<InputColumn>& signature,
                                 const std::vector<size_t>& rows) {
  InputTable table;
  table.rows = rows.size();
  table.row_numbers.reserve(rows.size());
  for (size_t r : rows) table.row_numbers.push_back(r + 1);
  for (const InputColumn& in : signature) {
    const Column* col = frame.Find(in.name);
    if (col == nullptr) return Status::InvalidArgument("column '" + in.name + "' is missing");
    std::vector<double> values(rows.size(), NAN);
    if (in.type == ColumnType::kNumeric) {
      if (col->type != ColumnType::kNumeric)
        return Status::InvalidArgument("column '" + in.name + "' must be numeric, not " +
                                       std::string(ColumnTypeName(col->type)));
      for (size_t i = 0; i < rows.size(); ++i) values[i] = col->values[rows[i]];
    } else {
      if (!IsFactorType(col->type))
        return Status::InvalidArgument("column '" + in.name + "' must be " +
                                       std::string(ColumnTypeName(in.type)) + ", not numeric");
      // Map the frame's codes to the training levels by their text.
      std::vector<int> map(col->levels.size(), -1);
      for (size_t l = 0; l < col->levels.size(); ++l) {
        auto it = std::find(in.levels.begin(), in.levels.end(), col->levels[l]);
        if (it != in.levels.end()) map[l] = static_cast<int>(it - in.levels.begin());
      }
      for (size_t i = 0; i < rows.size(); ++i) {
        int code = col->codes[rows[i]];
        if (code < 0) continue;  // missing
        if (map[code] < 0)
          return Status::InvalidArgument("row " + std::to_string(rows[i] + 1) + ", column '" +
                                         in.name + "': level '" + col->levels[code] +
                                         "' was not seen in training");
        values[i] = map[code];
      }
    }
    table.columns.push_back(std::move(values));
  }
  return table;
}

std::vector<double> ComputeImputation(const InputTable& table,
                                      const std::vector<InputColumn>& signature,
                                      MissingStrategy strategy) {
  std::vector<double> out(signature.size(), NAN);
  for (size_t c = 0; c < signature.size(); ++c) {
    const std::vector<double>& v = table.columns[c];
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
    for (size_t r = 0; r < table->rows; ++r) {
      double& v = table->columns[c][r];
      if (!std::isnan(v)) continue;
      if (missing == MissingStrategy::kDrop || std::isnan(imputation[c]))
        return Status::InvalidArgument("row " + std::to_string(table->row_numbers[r]) +
                                       ", column '" + signature[c].name + "': missing value");
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

  // Which variables are factors; arithmetic on a factor column is an error.
  std::vector<int> factor_input(f.variables.size(), -1);
  for (const auto& term : f.terms) {
    for (int v : term) {
      const Variable& var = f.variables[v];
      Status status;
      ForEachColumn(var.expr, [&](const std::string& name, int position) {
        auto it = d.input_index_.find(name);
        if (it == d.input_index_.end() || !status.ok()) return;
        if (!IsFactorType(d.signature_[it->second].type)) return;
        if (var.IsColumn()) {
          factor_input[v] = it->second;
        } else {
          status = Status::InvalidArgument(
              "formula position " + std::to_string(position) + ": column '" + name + "' is " +
              std::string(ColumnTypeName(d.signature_[it->second].type)) +
              " and cannot be used in arithmetic");
        }
      });
      MLPROD_RETURN_IF_ERROR(status);
      if (var.IsColumn() && !d.input_index_.count(var.expr.name))
        return Status::InvalidArgument("formula position " + std::to_string(var.expr.position) +
                                       ": column '" + var.expr.name + "' has no type");
    }
  }

  if (f.intercept) d.names_.push_back("(Intercept)");
  bool full_given = f.intercept;  // without an intercept, the first factor gets full coding
  for (const auto& term : f.terms) {
    Term t;
    std::vector<std::vector<std::string>> factor_names;
    for (int v : term) {
      Factor factor;
      factor.variable = v;
      factor.input = factor_input[v];
      std::vector<std::string> names;
      const std::string& label = f.variables[v].label;
      if (factor.input < 0) {
        names.push_back(label);
      } else {
        std::vector<int> margin;
        for (int w : term)
          if (w != v) margin.push_back(w);
        bool margin_present =
            margin.empty() || std::find(f.terms.begin(), f.terms.end(), margin) != f.terms.end();
        factor.full = !margin_present;
        if (!full_given) {
          factor.full = true;
          full_given = true;
        }
        const auto& levels = d.signature_[factor.input].levels;
        for (size_t l = factor.full ? 0 : 1; l < levels.size(); ++l)
          names.push_back(label + levels[l]);
      }
      factor.width = names.size();
      t.width *= factor.width;
      t.factors.push_back(factor);
      factor_names.push_back(std::move(names));
    }
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

void Design::TermRow(const Term& term, const std::vector<double>& inputs,
                     const std::vector<double>& variable_values, double* out) const {
  size_t len = 1;
  out[0] = 1.0;
  for (const Factor& factor : term.factors) {
    // out[i + len * j] = out[i] * value_j, from the highest j down so the source stays intact.
    for (size_t j = factor.width; j-- > 0;) {
      double value;
      if (factor.input < 0) {
        value = variable_values[factor.variable];
      } else {
        size_t level = j + (factor.full ? 0 : 1);
        value = inputs[factor.input] == static_cast<double>(level) ? 1.0 : 0.0;
      }
      for (size_t i = len; i-- > 0;) out[i + len * j] = out[i] * value;
    }
    len *= factor.width;
  }
}

Result<Eigen::MatrixXd> Design::Build(const InputTable& table) const {
  Eigen::MatrixXd x(table.rows, names_.size());
  std::vector<double> inputs(signature_.size());
  std::vector<double> variable_values(formula_.variables.size(), 0.0);
  std::vector<double> row(names_.size());
  for (size_t r = 0; r < table.rows; ++r) {
    for (size_t c = 0; c < signature_.size(); ++c) inputs[c] = table.columns[c][r];
    auto lookup = [&](const std::string& name) { return inputs[input_index_.at(name)]; };
    for (const Term& term : terms_)
      for (const Factor& factor : term.factors)
        if (factor.input < 0)
          variable_values[factor.variable] =
              EvalExpr(formula_.variables[factor.variable].expr, lookup);
    size_t at = 0;
    if (formula_.intercept) row[at++] = 1.0;
    for (const Term& term : terms_) {
      TermRow(term, inputs, variable_values, row.data() + at);
      at += term.width;
    }
    for (size_t j = 0; j < row.size(); ++j) {
      if (!std::isfinite(row[j]))
        return Status::InvalidArgument("row " + std::to_string(table.row_numbers[r]) + ", term '" +
                                       names_[j] + "': value is not finite");
      x(r, j) = row[j];
    }
  }
  return x;
}

}  // namespace mlprod::ml
