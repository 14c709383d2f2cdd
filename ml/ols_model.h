// OlsModel: a fitted OLS model with its whole pipeline (formula, signature with levels, missing
// strategy and imputation values), its coefficients and unscaled covariance. Immutable and
// thread-safe once constructed. Serialised as JSON (see docs in Serialize()).
#pragma once

#include <Eigen/Dense>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ml/design_matrix.h"
#include "ml/model.h"
#include "ml/ols.h"

namespace mlprod::ml {

class OlsModel final : public Model {
 public:
  OlsModel(Design design, MissingStrategy missing, std::vector<double> imputation, OlsFit fit)
      : design_(std::move(design)),
        missing_(missing),
        imputation_(std::move(imputation)),
        fit_(std::move(fit)) {}

  std::string_view kind() const override { return "ols"; }
  const std::string& formula() const override { return design_.formula().text; }
  const std::string& response() const override { return design_.formula().response; }
  const std::vector<InputColumn>& signature() const override { return design_.signature(); }
  Result<std::vector<Prediction>> Predict(const Frame& rows,
                                          const PredictOptions& options) const override;
  std::string Serialize() const override;

  const Design& design() const { return design_; }
  const OlsFit& fit() const { return fit_; }

  // Fills missing cells of `table` with the imputation values (mean/median strategies);
  // INVALID_ARGUMENT naming the row and column of a missing cell it cannot fill.
  Status Impute(InputTable* table) const;
  // Point predictions for complete (imputed) inputs: design().BuildColumns, then PredictDesign.
  Result<std::vector<double>> PredictInputs(const InputTable& table) const;
  // Point predictions for the rows of `x`, a matrix built by design().BuildColumns, by
  // OlsPredictColumns: a row's value has the same bits here as when Predict serves that row.
  // INVALID_ARGUMENT when `x` does not have design().cols() columns.
  Result<std::vector<double>> PredictDesign(const ColumnMatrix& x) const;

 private:
  Design design_;
  MissingStrategy missing_;
  std::vector<double> imputation_;  // per signature column; NaN = none
  OlsFit fit_;
};

// Restores an OlsModel from Serialize()'s JSON object text; see DeserializeModel.
Result<std::shared_ptr<const Model>> DeserializeOlsModel(std::string_view bytes);

}  // namespace mlprod::ml
