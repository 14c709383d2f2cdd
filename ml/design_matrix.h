// The feature pipeline: from typed input columns to the numeric design matrix of a formula.
//
// Inputs are first read into an InputTable (one vector of doubles per signature column: numeric
// values, or level codes into the training levels; NaN marks a missing cell), imputed if the
// model says so, then expanded into design columns named as R names them: "(Intercept)",
// "years_code", "I(years_code^2)", "countryGermany", "x:countryGermany". Categorical and boolean
// columns are treatment-coded against their first level; R's rule decides where a factor gets
// full indicator coding instead (a term whose margin is absent, the first factor of a model
// without intercept). A Design is immutable after Create; every method is const.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "ml/formula.h"
#include "ml/frame.h"
#include "ml/model.h"
#include "ml/status.h"

namespace mlprod::ml {

struct InputTable {
  size_t rows = 0;
  std::vector<size_t> row_numbers;           // 1-based, as error messages name the rows
  std::vector<std::vector<double>> columns;  // per signature column
};

// Reads the signature columns of `frame` at `rows` (0-based). Category and boolean cells are
// mapped to the signature's levels by their text. INVALID_ARGUMENT naming the column for an absent
// or wrongly typed column, and the 1-based row for a level not seen in training.
Result<InputTable> ExtractInputs(const Frame& frame, const std::vector<InputColumn>& signature,
                                 const std::vector<size_t>& rows);

// Per-column imputation values from `table` (mean or median for numeric columns, the most frequent
// level's code otherwise; ties go to the first level). NaN when a column has no value at all.
std::vector<double> ComputeImputation(const InputTable& table,
                                      const std::vector<InputColumn>& signature,
                                      MissingStrategy strategy);

// Fills the missing cells of `table` with `imputation` (mean/median strategies). INVALID_ARGUMENT
// naming the 1-based row and the column of a missing cell under kDrop or without a value.
Status FillMissing(const std::vector<InputColumn>& signature, MissingStrategy missing,
                   const std::vector<double>& imputation, InputTable* table);

class Design {
 public:
  // Checks `formula` against `signature` (the formula's input columns with their types).
  // INVALID_ARGUMENT naming the formula position when a categorical column is used in arithmetic.
  static Result<Design> Create(ParsedFormula formula, std::vector<InputColumn> signature);

  const ParsedFormula& formula() const { return formula_; }
  const std::vector<InputColumn>& signature() const { return signature_; }
  bool intercept() const { return formula_.intercept; }
  const std::vector<std::string>& column_names() const { return names_; }
  size_t cols() const { return names_.size(); }

  // The design matrix of `table`, which must have no missing cell. INVALID_ARGUMENT naming the
  // row and the design column when a computed value is not finite.
  Result<Eigen::MatrixXd> Build(const InputTable& table) const;

 private:
  struct Factor {
    int variable = 0;
    int input = -1;     // categorical: the signature column; numeric: -1
    bool full = false;  // categorical: indicator coding of every level
    size_t width = 1;
  };
  struct Term {
    std::vector<Factor> factors;
    size_t width = 1;
  };

  // Writes the term's columns for one row at `out`.
  void TermRow(const Term& term, const std::vector<double>& inputs,
               const std::vector<double>& variable_values, double* out) const;

  ParsedFormula formula_;
  std::vector<InputColumn> signature_;
  std::map<std::string, int> input_index_;
  std::vector<Term> terms_;
  std::vector<std::string> names_;
};

}  // namespace mlprod::ml
