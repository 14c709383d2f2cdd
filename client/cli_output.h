// How the `mlprod` CLI shows results: aligned tables, CSV, and the JSON documents whose field
// names SPEC §6 fixes (other tools parse them).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <google/protobuf/timestamp.pb.h>
#include <nlohmann/json.hpp>

#include "mlprod/v1/datasets.pb.h"
#include "mlprod/v1/inference.pb.h"
#include "mlprod/v1/registry.pb.h"
#include "mlprod/v1/training.pb.h"

namespace mlprod::client {

enum class OutputFormat { kTable, kJson, kCsv };

struct Table {
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
};

// Columns padded to their widest cell; numbers as given.
void PrintTable(const Table& table, std::ostream& out);
// RFC 4180: fields with a comma, quote or line break are quoted.
void PrintCsv(const Table& table, std::ostream& out);
// The table as `format` asks (kJson is not a table format: use the JSON builders).
void PrintTabular(const Table& table, OutputFormat format, std::ostream& out);

// `significant` digits in fixed or scientific notation, whichever is shorter (as R's format()),
// "NA" for NaN (as R prints a missing number).
std::string FormatNumber(double value, int significant = 6);
// ISO 8601 UTC with milliseconds, e.g. "2026-12-02T17:04:05.123Z".
std::string FormatTime(const google::protobuf::Timestamp& time);
// "numeric", "categorical", "boolean".
std::string ColumnTypeName(v1::ColumnType type);
// "QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED".
std::string RunStatusName(v1::RunStatus status);
// "salaries@1"
std::string FormatRef(const v1::DatasetRef& ref);

nlohmann::json ToJson(const v1::DatasetVersion& dataset);
nlohmann::json ToJson(const v1::DescribeDatasetResponse& describe);
nlohmann::json ToJson(const v1::Run& run);
nlohmann::json ToJson(const v1::ModelVersion& version);
nlohmann::json ToJson(const v1::AliasChange& change);
nlohmann::json ToJson(const v1::PredictResponse& response);

// The coefficient table as CSV (term, estimate, std_error, t_value, p_value, ci_lower, ci_upper,
// aliased), numbers with 15 significant digits, NA for an aliased term's numbers.
void PrintCoefficientCsv(const v1::Run& run, std::ostream& out);

// The run as R prints its summary: summary(lm) for ols, summary(glm) for logistic, glmnet-style
// estimates for ridge/lasso/elasticnet, the clusters for kmeans; then the held-out split's and the
// cross-validation's metrics when the run had them.
void PrintRunSummary(const v1::Run& run, std::ostream& out);

}  // namespace mlprod::client
