// Training and prediction: the API the server calls. A fitted Model owns its whole feature
// pipeline (formula, categorical levels, imputation values, ...) so prediction reproduces
// training bit for bit, and serialises to bytes that a later process loads unchanged.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ml/formula_limits.h"
#include "ml/frame.h"
#include "ml/status.h"

namespace mlprod::ml {

enum class MissingStrategy {
  kDrop,    // rows with a missing cell in a used column are dropped and counted
  kMean,    // numeric: training mean; categorical/boolean: most frequent training level
  kMedian,  // numeric: training median; categorical/boolean: most frequent training level
};
std::string_view MissingStrategyName(MissingStrategy s);  // "drop", "mean", "median"
Result<MissingStrategy> ParseMissingStrategy(std::string_view text);

struct TrainOptions {
  std::string formula;         // R syntax, e.g. "salary ~ years_code + I(years_code^2) + country"
  std::string kind = "ols";    // ols, logistic, ridge, lasso, elasticnet or kmeans
  std::map<std::string, std::string> params;  // kind-specific; unknown keys are INVALID_ARGUMENT
  MissingStrategy missing = MissingStrategy::kDrop;
  double test_fraction = 0;    // in [0, 1); 0 = fit on every usable row, no test metrics
  uint64_t seed = 0;           // drives the train/test split and the fold assignment
  // k-fold cross-validation: 0 = none, else K in [2, usable rows]; exclusive with test_fraction.
  // Each fold is fitted (pipeline included) on the other folds and scored on itself; the mean
  // over folds of each test metric is reported under "cv_" keys, then the final model is fitted
  // on every usable row. See ml/model.cc (TrainCrossValidated).
  int folds = 0;
  // Stepwise selection (ols only): "" = none, "forward" or "backward"; criterion "aic" or "bic"
  // (empty = aic). See ml/stepwise.h.
  std::string select;
  std::string criterion;
  // Caps on `formula` (client text): over one, Train and ValidateTrainOptions answer
  // INVALID_ARGUMENT naming the position. The server sets them from its flags.
  FormulaLimits formula_limits;
};

// The run registry keeps a run's params as a string map; the server stores the k-fold plan and
// the stepwise selection there under these keys (so they show in `runs show` and filter as
// params.cv_folds, params.select, params.criterion). TakePlanParams moves them back into the
// option fields before Train; INVALID_ARGUMENT when cv_folds is not an integer.
inline constexpr char kFoldsParam[] = "cv_folds";
inline constexpr char kSelectParam[] = "select";
inline constexpr char kCriterionParam[] = "criterion";
Status TakePlanParams(TrainOptions* options);

// One row of the coefficient table, as R's summary(lm) prints it. Aliased terms (dropped for
// collinearity) have aliased = true and NaN in every number.
struct CoefficientRow {
  std::string term;  // R's name: "(Intercept)", "years_code", "I(years_code^2)", "countryGermany"
  double estimate = NAN, std_error = NAN, t_value = NAN, p_value = NAN;
  double ci_lower = NAN, ci_upper = NAN;  // 95%
  bool aliased = false;
};

struct FitReport {
  std::vector<CoefficientRow> coefficients;
  double sigma = NAN;        // residual standard error
  double df_residual = NAN;
  size_t n_obs = 0;          // rows the model was fitted on
  size_t rows_dropped = 0;   // training rows dropped by the missing-data strategy
  size_t n_test = 0;         // rows the test metrics were computed on
  // r_squared adj_r_squared f_statistic f_p_value log_likelihood aic bic rmse mae, and with a
  // test split test_rmse test_mae test_r_squared. AIC/BIC in R's convention (sigma counted).
  std::map<std::string, double> metrics;
  std::vector<std::string> log;  // human-readable lines written during the fit
  // Up to kMaxPlotPoints training rows, evenly spaced in row order, for residual and
  // actual-vs-fitted plots: the fitted value and the observed response of each.
  static constexpr size_t kMaxPlotPoints = 2000;
  std::vector<double> plot_fitted, plot_actual;
};

// One input column the model needs at prediction time: the model's signature.
struct InputColumn {
  std::string name;
  ColumnType type = ColumnType::kNumeric;
  std::vector<std::string> levels;  // categorical/boolean: the training levels
};

struct PredictOptions {
  bool intervals = false;  // fill lower/upper with a prediction interval
  double level = 0.95;     // in (0, 1)
};

struct Prediction {
  double value = NAN;
  double lower = NAN, upper = NAN;  // only with PredictOptions::intervals
};

// An immutable fitted model. Thread-safe: every method is const.
class Model {
 public:
  virtual ~Model() = default;

  virtual std::string_view kind() const = 0;
  virtual const std::string& formula() const = 0;
  virtual const std::string& response() const = 0;
  // Input columns, in the order they first appear in the formula (the response excluded).
  virtual const std::vector<InputColumn>& signature() const = 0;

  // Predicts one value per row of `rows`, which must hold every signature column with its type
  // (see FrameFromRecords). Missing cells get the training imputation values when the model was
  // trained with --missing mean or median. INVALID_ARGUMENT naming the 1-based row and the column
  // for a missing value the model cannot impute (trained with drop) or a level not seen in
  // training.
  virtual Result<std::vector<Prediction>> Predict(const Frame& rows,
                                                  const PredictOptions& options) const = 0;

  // Bytes that Deserialize turns back into an equal model (doubles round-trip exactly).
  virtual std::string Serialize() const = 0;
};

// INVALID_ARGUMENT (or DATA_LOSS for bytes that are not a model at all) when `bytes` cannot be
// read.
Result<std::shared_ptr<const Model>> DeserializeModel(std::string_view bytes);

struct TrainOutput {
  std::shared_ptr<const Model> model;
  FitReport report;
};

// Called during a fit with progress in [0, 1] and a log line (may be empty). Returning false asks
// the fit to stop; Train then returns CANCELLED.
using ProgressFn = std::function<bool(double progress, const std::string& line)>;

// Fits `options.kind` on `frame`. Errors:
//  INVALID_ARGUMENT: formula syntax error or unknown column (message names the 1-based position
//    in the formula, e.g. "formula position 12: unknown column 'yeers'"), bad option values;
//  FAILED_PRECONDITION: more parameters than rows, every row dropped by missing-data handling,
//    a non-numeric response for ols;
//  CANCELLED: `progress` returned false.
Result<TrainOutput> Train(const Frame& frame, const TrainOptions& options,
                          const ProgressFn& progress = nullptr);

// Checks `options` against `frame` without fitting: the formula parses and names existing
// columns, the kind and its params are known, the missing strategy and test fraction are valid.
// Returns the INVALID_ARGUMENT that Train would (SubmitRun answers it before queueing).
Status ValidateTrainOptions(const Frame& frame, const TrainOptions& options);

// Whether a predict cell is a missing value: "", "NA", "N/A" or "null" (the CSV reader's default
// markers but "NaN", which predict refuses as a non-finite number, SPEC §7).
bool IsMissingCell(std::string_view text);

// One predict record: (column name, cell text) pairs, each name at most once (as the predict
// RPC's map field holds them). The views must outlive the FrameFromRecords call only.
using TextRecord = std::vector<std::pair<std::string_view, std::string_view>>;

// Builds a Frame typed by `signature` from text records, as the predict RPC receives them. Its
// categorical and boolean columns take the signature's levels, so ExtractInputs keeps their codes.
// A missing cell (IsMissingCell) stays missing: a model trained with
// --missing mean or median fills it with its training value, one trained with drop refuses it
// (Model::Predict). INVALID_ARGUMENT naming the 1-based row and the column for: a signature
// column absent from a record, a column not in the signature, a numeric cell that does not parse
// or is NaN/inf, a category or boolean spelling not among the training levels.
Result<Frame> FrameFromRecords(const std::vector<InputColumn>& signature,
                               const std::vector<TextRecord>& records);

}  // namespace mlprod::ml
