// Shared by the model kinds (OLS's Train uses ReadRows and the report helpers too): the
// formula/pipeline steps every kind runs the same way (parse, split, read rows under the
// missing-data strategy, impute), the JSON form of a fitted pipeline, and the assessment metrics.
// Internal to ml/; plain functions, thread-compatible.
#pragma once

#include <Eigen/Dense>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ml/design_matrix.h"
#include "ml/formula.h"
#include "ml/keep_going.h"
#include "ml/model.h"
#include "ml/status.h"

namespace mlprod::ml {

// Parses `text` against `available` under `limits`. With `one_sided` (k-means: "~ x1 + x2", no
// response) the formula must start with '~'; it is parsed with a placeholder response that names
// no column (and that `text` may not name either), and error positions (and limits.max_length)
// are those of `text`. ParseFormula itself requires a response.
Result<ParsedFormula> ParseModelFormula(const std::string& text,
                                        const std::vector<std::string>& available, bool one_sided,
                                        const FormulaLimits& limits);

// The signature (input columns with types and levels) of `parsed` over `frame`.
std::vector<InputColumn> SignatureOf(const Frame& frame, const ParsedFormula& parsed);

// Reads `rows` of `frame`: the signature columns and, unless `response` is null, the response
// into `y` (numeric value, or level code of a boolean/categorical column), dropping a row with a
// missing response and, under kDrop, one with any missing input. Returns the number dropped.
Result<size_t> ReadRows(const Frame& frame, const Column* response,
                        const std::vector<InputColumn>& signature, const std::vector<size_t>& rows,
                        MissingStrategy missing, InputTable* table, std::vector<double>* y);

// The FAILED_PRECONDITION for a fit left with no training rows: the split took them all (none of
// `split_rows` left for training), or missing-data handling dropped the `dropped` there were.
Status NoTrainingRows(size_t split_rows, size_t dropped);

// Training and test rows after the split and the missing-data strategy, imputed.
struct FitData {
  std::vector<double> imputation;  // per signature column; NaN = none
  InputTable train, test;
  // The response per row: numeric value, or level code of a boolean/categorical column. Empty
  // without a response.
  std::vector<double> y_train, y_test;
  size_t rows_dropped = 0;  // training rows dropped (missing response, or any cell under kDrop)
};

// Splits `frame` by options.test_fraction/seed, reads the signature columns (and `response`,
// which may be null), drops rows as the strategy says, computes imputation values on the training
// rows and applies them to both sides (test rows with a cell it cannot fill are skipped).
// FAILED_PRECONDITION when every training row is dropped.
Result<FitData> PrepareFitData(const Frame& frame, const Column* response, const Design& design,
                               const TrainOptions& options);

// Keeps at most FitReport::kMaxPlotPoints of the n (fitted, actual) pairs, evenly spaced in row
// order.
void SamplePlotPoints(const double* fitted, const double* actual, size_t n, FitReport* report);

// rmse, mae, r_squared (centred; NaN for a constant response) under `prefix` ("" or "test_").
void AddRegressionMetrics(const std::vector<double>& y, const std::vector<double>& fitted,
                          const std::string& prefix, std::map<std::string, double>* metrics);

// Appends non-empty lines to report->log and reports progress; false when the fit should stop.
struct Emitter {
  FitReport* report;
  const ProgressFn* progress;
  bool operator()(double fraction, const std::string& line) const {
    if (!line.empty()) report->log.push_back(line);
    return !*progress || (*progress)(fraction, line);
  }
  // A long step's KeepGoing: its own fraction done maps to [from, to] of the run's progress.
  KeepGoing Span(double from, double to) const {
    if (!*progress) return nullptr;
    return [this, from, to](double f) { return (*this)(from + (to - from) * f, ""); };
  }
};

// "%.6g".
std::string FormatG(double x, int digits = 6);

// Reads a non-negative or bounded number param; INVALID_ARGUMENT naming the key otherwise.
Result<double> ParseNumberParam(const std::string& key, const std::string& value, double lo,
                                double hi);
Result<long long> ParseIntParam(const std::string& key, const std::string& value, long long lo,
                                long long hi);

// JSON of a fitted pipeline, the fields OLS's format uses too: "format", "format_version",
// "kind", "formula", "response", "missing", "parse_columns", "signature", "imputation", "terms".
nlohmann::json PipelineToJson(std::string_view kind, const Design& design,
                              const std::string& formula_text, MissingStrategy missing,
                              const std::vector<double>& imputation);

struct Pipeline {
  Design design;
  std::string formula_text;
  MissingStrategy missing = MissingStrategy::kDrop;
  std::vector<double> imputation;
};
// The pipeline's inputs for every row of `rows` (a prediction request), missing cells filled
// with the training imputation values. INVALID_ARGUMENT naming row and column as ExtractInputs.
Result<InputTable> PipelineInputs(const Pipeline& pipeline, const Frame& rows);

// Inverse of PipelineToJson. May throw nlohmann::json::exception (callers catch).
Result<Pipeline> PipelineFromJson(const nlohmann::json& j, bool one_sided);

nlohmann::json JsonNumber(double x);           // null for NaN/inf
double JsonNumberOr(const nlohmann::json& j);  // NaN for null

}  // namespace mlprod::ml
