// Parameter checking and training for the kinds beyond OLS: logistic, ridge, lasso, elasticnet
// and kmeans. model.cc dispatches here; see model.h for the contract (codes, cancellation).
// Internal to ml/; plain functions, thread-compatible.
#pragma once

#include <string>

#include "ml/design_matrix.h"
#include "ml/fit_data.h"
#include "ml/model.h"

namespace mlprod::ml {

// True for the kinds this file trains.
bool IsOtherKind(const std::string& kind);
// Whether `kind` takes a one-sided formula (kmeans).
bool KindIsOneSided(const std::string& kind);

// INVALID_ARGUMENT for an unknown param or a bad value, naming the param.
//  logistic: none.
//  ridge, lasso: lambda = <number >= 0> | cv | cv1se (default cv), folds (2..1000, default 10,
//    cv only), cv_seed (default the run's seed).
//  elasticnet: the same plus alpha in [0, 1] (default 0.5).
//  kmeans: k (required, >= 1), n_init (default 10), max_iter (default 300), seed (default the
//    run's seed).
Status CheckKindParams(const TrainOptions& options);

// FAILED_PRECONDITION when `response` cannot be the target of `kind`: ridge/lasso/elasticnet need
// a numeric one; logistic a boolean, two-level categorical or numeric 0/1 one (naming the first
// row that is neither 0 nor 1, so a submit is refused before it queues).
Status CheckKindResponse(const std::string& kind, const Column& response);

// Fits `options.kind` (one of IsOtherKind) with its checked design. `response` is null for kmeans.
Result<TrainOutput> TrainOtherKind(const Frame& frame, const TrainOptions& options,
                                   const Column* response, Design design,
                                   const ProgressFn& progress);

}  // namespace mlprod::ml
