// The feature pipeline: from typed input columns to the numeric design matrix of a formula.
//
// Inputs are first read into an InputTable (one vector of doubles per signature column: numeric
// values, or level codes into the training levels; NaN marks a missing cell), imputed if the
// model says so, then expanded into design columns named as R names them: "(Intercept)",
// "years_code", "I(years_code^2)", "countryGermany", "x:countryGermany". Categorical and boolean
// columns are treatment-coded against their first level; R's rule decides where a factor gets
// full indicator coding instead (a term whose margin is absent, the first factor of a model
// without intercept). poly(x, d) and ns(x, df) expand to d / df columns "poly(x, 2)1", ...; their
// coefficients and knots are learnt from the training rows by Fit (or restored from a saved model
// by RestoreState) and then applied unchanged by Build, for training and new rows alike.
// C(x, ref = "b") codes x against level b. A Design is set up by Create, then Fit or RestoreState;
// after that every method used is const and it may be shared between threads.
#pragma once

#include <Eigen/Dense>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ml/basis.h"
#include "ml/column_matrix.h"
#include "ml/formula.h"
#include "ml/frame.h"
#include "ml/model.h"
#include "ml/status.h"

namespace mlprod::ml {

struct InputTable {
  size_t rows = 0;
  // The 1-based frame row of each table row, as error messages name the rows; empty when the
  // table's rows are the frame's rows 1..rows in order.
  std::vector<size_t> row_numbers;
  // Per signature column: its values, or empty when `borrowed` holds them.
  std::vector<std::vector<double>> columns;
  // Empty, or per signature column: the values read in place from a Frame (null when `columns`
  // holds them). The Frame must then outlive the table.
  std::vector<const double*> borrowed;

  const double* column(size_t c) const {
    return !borrowed.empty() && borrowed[c] != nullptr ? borrowed[c] : columns[c].data();
  }
  // Column c to change in place; a borrowed column is copied into `columns` first.
  std::vector<double>& MutableColumn(size_t c);
  size_t RowNumber(size_t r) const { return row_numbers.empty() ? r + 1 : row_numbers[r]; }
  // Keeps the rows r with keep[r], in order.
  void KeepRows(const std::vector<bool>& keep);
};

// Whether any of the n values is NaN (branch-free, vectorised: a column is scanned at memory
// speed, and only one with a missing cell needs a walk row by row).
bool HasNaN(const double* values, size_t n);

// Reads the signature columns of `frame` at `rows` (0-based). Category and boolean cells are
// mapped to the signature's levels by their text. When `rows` is every row in order, numeric
// columns are borrowed from `frame` rather than copied (see InputTable). INVALID_ARGUMENT naming
// the column for an absent or wrongly typed column, and the 1-based row for a level not seen in
// training.
Result<InputTable> ExtractInputs(const Frame& frame, const std::vector<InputColumn>& signature,
                                 const std::vector<size_t>& rows);
// A temporary frame would not outlive the table that may borrow from it.
Result<InputTable> ExtractInputs(const Frame&& frame, const std::vector<InputColumn>& signature,
                                 const std::vector<size_t>& rows) = delete;

// Per-column imputation values from `table` (mean or median for numeric columns, the most frequent
// level's code otherwise; ties go to the first level). NaN when a column has no value at all.
std::vector<double> ComputeImputation(const InputTable& table,
                                      const std::vector<InputColumn>& signature,
                                      MissingStrategy strategy);

// Fills the missing cells of `table` with `imputation` (mean/median strategies). INVALID_ARGUMENT
// naming the 1-based row and the column of a missing cell under kDrop or without a value.
Status FillMissing(const std::vector<InputColumn>& signature, MissingStrategy missing,
                   const std::vector<double>& imputation, InputTable* table);

// The signature columns of a Frame, read one row at a time in place: how a prediction reads its
// rows without building an InputTable. The Frame and the signature must outlive the reader.
class RowReader {
 public:
  // INVALID_ARGUMENT naming the column for an absent or wrongly typed column, as ExtractInputs.
  static Result<RowReader> Create(const Frame& frame, const std::vector<InputColumn>& signature);
  static Result<RowReader> Create(const Frame&& frame,
                                  const std::vector<InputColumn>& signature) = delete;

  // Frame row r (0-based) into inputs[0..signature size): the numeric value or the training level
  // code of each column, a missing cell filled from `imputation` as FillMissing does.
  // INVALID_ARGUMENT naming the 1-based row and the column, as ExtractInputs and FillMissing, for a
  // level not seen in training or a missing cell it cannot fill.
  Status Read(size_t r, MissingStrategy missing, const std::vector<double>& imputation,
              double* inputs) const;

 private:
  const std::vector<InputColumn>* signature_ = nullptr;
  std::vector<const Column*> columns_;
  std::vector<std::vector<int>> codes_;  // per factor column: frame code -> training code
};

class Design {
 public:
  // The widest design Create accepts, and the most bytes its column names may take: a few bytes
  // of formula can ask for a billion columns (poly(x, 1000):poly(z, 1000):poly(w, 1000)), each
  // costing a name before any row is read. No fit uses 65 536 columns.
  static constexpr size_t kMaxColumns = 65536;
  static constexpr size_t kMaxNameBytes = 64 << 20;

  // Checks `formula` against `signature` (the formula's input columns with their types).
  // INVALID_ARGUMENT naming the formula position when a categorical column is used in arithmetic
  // or in poly()/ns(), a numeric column in C(), or C()'s reference is not a level of its column,
  // and naming the term that makes the design wider than kMaxColumns or its names longer than
  // kMaxNameBytes.
  static Result<Design> Create(ParsedFormula formula, std::vector<InputColumn> signature);

  // Learns the poly() coefficients and ns() knots from `training` (complete, as for Build): call
  // it once, on the rows the model is fitted on, before Build. A no-op without poly/ns terms.
  // INVALID_ARGUMENT naming the row and term when a poly/ns argument is not finite;
  // FAILED_PRECONDITION naming the formula position when a poly degree is not below the number of
  // unique training values or an ns argument is constant.
  Status Fit(const InputTable& training);
  // True once Build can run: no poly/ns terms, or Fit or RestoreState succeeded.
  bool fitted() const { return fitted_; }

  // The state Fit learnt, as JSON array text: one object per poly/ns variable, in formula order,
  // {"label": "poly(x, 2)", "alpha": [...], "norm2": [...]} or
  // {"label": "ns(x, 3)", "knots": [interior...], "boundary": [lower, upper]}; "[]" without any.
  // Doubles are written to round-trip exactly.
  std::string StateJson() const;
  // Restores what StateJson wrote, so Build reproduces the saved model's columns bit for bit.
  // INVALID_ARGUMENT when the text does not match this formula's poly/ns variables.
  Status RestoreState(std::string_view json);

  const ParsedFormula& formula() const { return formula_; }
  const std::vector<InputColumn>& signature() const { return signature_; }
  bool intercept() const { return formula_.intercept; }
  const std::vector<std::string>& column_names() const { return names_; }
  size_t cols() const { return names_.size(); }

  // The design matrix of `table`, which must have no missing cell. INVALID_ARGUMENT naming the
  // row and the design column when a computed value is not finite; FAILED_PRECONDITION before
  // Fit/RestoreState when the formula has poly/ns terms. The matrix is written column by column
  // in O(rows x columns) (names and levels resolved once per call); each value has the same bits
  // whether its row is built alone or among others, so training and serving agree. The error names
  // the first non-finite value in row order, then column order.
  Result<Eigen::MatrixXd> Build(const InputTable& table) const;
  // The same columns without copying the bare numeric ones: they are read in place from `table`
  // (which, and whose borrowed Frame, must outlive the result); the others are computed into
  // buffers the result owns. Build is this, copied into one matrix.
  Result<ColumnMatrix> BuildColumns(const InputTable& table) const;

  // Doubles of scratch BuildRow needs.
  size_t row_scratch() const { return value_slots_; }
  // One design row into out[0..cols()), with no allocation: `inputs` holds one complete value per
  // signature column (as RowReader::Read fills it), `scratch` row_scratch() doubles. The same bits
  // as BuildColumns gives the row, and its errors, naming `row_number` (1-based).
  Status BuildRow(const double* inputs, size_t row_number, double* scratch, double* out) const;

 private:
  struct Factor {
    int variable = 0;
    int input = -1;     // categorical: the signature column; numeric: -1
    bool full = false;  // categorical: indicator coding of every level
    size_t width = 1;
    std::vector<int> levels;  // categorical: level codes in coding order (reference first)
  };
  struct Term {
    std::vector<Factor> factors;
    size_t width = 1;
  };

  template <typename SlotFn, typename InputFn>
  void TermColumn(const Term& term, size_t c, size_t n, const SlotFn& slot, const InputFn& input,
                  double* out) const;
  // Builds the state of variable `v` from x; the error names its formula position.
  Status FitVariable(int v, const std::vector<double>& x);

  ParsedFormula formula_;
  std::vector<InputColumn> signature_;
  std::map<std::string, int> input_index_;
  std::vector<Term> terms_;
  std::vector<std::string> names_;
  std::vector<int> numeric_vars_;   // used numeric variables, formula order
  std::vector<size_t> var_offset_;  // per variable: first slot in the row's value array
  size_t value_slots_ = 0;
  std::vector<std::optional<PolyCoefs>> poly_;        // per variable (kPoly, once fitted)
  std::vector<std::optional<NaturalSpline>> spline_;  // per variable (kSpline, once fitted)
  bool fitted_ = true;
};

// Calls fn(r, x) for each row r of `rows` in order with its design row x (design.cols() values):
// the row read by a RowReader, imputed with `imputation` under `missing`, and built by BuildRow,
// in one buffer for all rows. Stops at the first error (RowReader's or BuildRow's) and returns it.
// A model's Predict: a row gets the bits BuildColumns gives it in training.
template <typename Fn>
Status ForEachDesignRow(const Design& design, const Frame& rows, MissingStrategy missing,
                        const std::vector<double>& imputation, const Fn& fn) {
  MLPROD_ASSIGN_OR_RETURN(RowReader reader, RowReader::Create(rows, design.signature()));
  const size_t k = design.signature().size();
  std::vector<double> buffer(k + design.row_scratch() + design.cols());
  double* inputs = buffer.data();
  double* scratch = inputs + k;
  double* x = scratch + design.row_scratch();
  for (size_t r = 0; r < rows.rows; ++r) {
    MLPROD_RETURN_IF_ERROR(reader.Read(r, missing, imputation, inputs));
    MLPROD_RETURN_IF_ERROR(design.BuildRow(inputs, r + 1, scratch, x));
    fn(r, static_cast<const double*>(x));
  }
  return Status::Ok();
}

}  // namespace mlprod::ml
