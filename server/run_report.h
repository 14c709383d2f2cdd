// The JSON the server stores with a run (its fit report) and with a model version (its
// signature), and their conversion to the API's messages. Stored as JSON so the registry keeps
// them opaque and later fields need no migration.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ml/model.h"
#include "mlprod/v1/training.pb.h"
#include "mlprod/v1/types.pb.h"

namespace mlprod::server {

std::string EncodeReport(const ml::FitReport& report, const ml::Model& model);
// Fills coefficients, sigma, df_residual, n_obs, rows_dropped, n_test, log, response and
// signature of `run` from EncodeReport's output. Ignores an empty `json`; a damaged one is
// decoded as far as it goes.
void DecodeReportInto(std::string_view json, v1::Run* run);

// Fills fitted, actual and response of `data` from EncodeReport's output (plot_fitted,
// plot_actual). Ignores an empty or malformed `json`.
void DecodePlotDataInto(std::string_view json, v1::RunPlotData* data);

std::string EncodeSignature(const std::vector<ml::InputColumn>& signature);
// Empty on malformed or damaged input (the server wrote it, so that is a storage fault).
std::vector<ml::InputColumn> DecodeSignature(std::string_view json);

v1::ColumnType ToProto(ml::ColumnType type);
void ToProto(const std::vector<ml::InputColumn>& signature,
             google::protobuf::RepeatedPtrField<v1::InputColumn>* out);

}  // namespace mlprod::server
