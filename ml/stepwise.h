// Stepwise model selection for OLS, as R's step(): forward from the intercept-only model or
// backward from the full one, over the terms of the formula (a categorical term, an interaction,
// poly() or ns() enters or leaves as one block). At each step every allowed move (adding or
// dropping one term) is fitted and the one with the lowest criterion is taken; selection stops
// when no move lowers it. Criterion as R's extractAIC(fit, k): n log(RSS/n) + k * edf, edf the
// rank of the fit (sigma NOT counted), k = 2 for AIC and log(n) for BIC. This differs from the
// run's "aic"/"bic" metrics (R's AIC()/BIC(), logLik convention) by a constant that is the same
// for every candidate on the same rows, so both pick the same model; the log prints extractAIC's
// numbers, as step() does. Hierarchy is kept: a term is dropped only when no remaining term
// contains it (x1 stays while x1:x2 is in) and added only when its marginal terms are in.
// Selection runs on the training rows (after --test-fraction's split) usable under the full
// formula, so every candidate sees the same rows; the run then fits the selected formula with
// the run's evaluation plan (split or folds). Internal to ml/; thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "ml/design_matrix.h"
#include "ml/frame.h"
#include "ml/model.h"

namespace mlprod::ml {

// REQUIRES: options.select is "forward" or "backward" and options passed CheckSpec (model.cc).
Result<TrainOutput> TrainStepwise(const Frame& frame, const TrainOptions& options,
                                  const ProgressFn& progress);

// Shared with model.cc's cross-validation (defined there).
// The rows of `frame` a fit can use: response present (when not null) and, under kDrop, every
// signature column present. Ascending.
std::vector<size_t> UsableRows(const Frame& frame, const Column* response,
                               const std::vector<InputColumn>& signature, MissingStrategy missing);
// `frame` restricted to `rows` (in that order), every column kept with its levels.
Frame SubFrame(const Frame& frame, const std::vector<size_t>& rows);

}  // namespace mlprod::ml
