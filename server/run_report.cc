#include "server/run_report.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

namespace mlprod::server {
namespace {

using nlohmann::json;

// JSON has no NaN: nlohmann writes null, and null reads back as NaN.
double Number(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::numeric_limits<double>::quiet_NaN();
  return it->get<double>();
}

json SignatureJson(const std::vector<ml::InputColumn>& signature) {
  json out = json::array();
  for (const ml::InputColumn& c : signature) {
    out.push_back({{"name", c.name},
                   {"type", std::string(ml::ColumnTypeName(c.type))},
                   {"levels", c.levels}});
  }
  return out;
}

std::vector<ml::InputColumn> SignatureFromJson(const json& j) {
  std::vector<ml::InputColumn> out;
  if (!j.is_array()) return out;
  for (const json& c : j) {
    ml::InputColumn col;
    col.name = c.value("name", "");
    auto type = ml::ParseColumnType(c.value("type", "numeric"));
    col.type = type.ok() ? *type : ml::ColumnType::kNumeric;
    col.levels = c.value("levels", std::vector<std::string>{});
    out.push_back(std::move(col));
  }
  return out;
}

}  // namespace

std::string EncodeReport(const ml::FitReport& report, const ml::Model& model) {
  json coefs = json::array();
  for (const ml::CoefficientRow& c : report.coefficients) {
    coefs.push_back({{"term", c.term},
                     {"estimate", c.estimate},
                     {"std_error", c.std_error},
                     {"t_value", c.t_value},
                     {"p_value", c.p_value},
                     {"ci_lower", c.ci_lower},
                     {"ci_upper", c.ci_upper},
                     {"aliased", c.aliased}});
  }
  json j = {{"coefficients", coefs},
            {"sigma", report.sigma},
            {"df_residual", report.df_residual},
            {"n_obs", report.n_obs},
            {"rows_dropped", report.rows_dropped},
            {"n_test", report.n_test},
            {"log", report.log},
            {"response", model.response()},
            {"plot_fitted", report.plot_fitted},
            {"plot_actual", report.plot_actual},
            {"signature", SignatureJson(model.signature())}};
  return j.dump();
}

namespace {

void DecodeReport(std::string_view text, v1::Run* run) {
  if (text.empty()) return;
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return;
  for (const json& c : j.value("coefficients", json::array())) {
    v1::Coefficient* out = run->add_coefficients();
    out->set_term(c.value("term", ""));
    out->set_estimate(Number(c, "estimate"));
    out->set_std_error(Number(c, "std_error"));
    out->set_t_value(Number(c, "t_value"));
    out->set_p_value(Number(c, "p_value"));
    out->set_ci_lower(Number(c, "ci_lower"));
    out->set_ci_upper(Number(c, "ci_upper"));
    out->set_aliased(c.value("aliased", false));
  }
  run->set_sigma(Number(j, "sigma"));
  run->set_df_residual(Number(j, "df_residual"));
  run->set_n_obs(j.value("n_obs", int64_t{0}));
  run->set_rows_dropped(j.value("rows_dropped", int64_t{0}));
  run->set_n_test(j.value("n_test", int64_t{0}));
  for (const json& line : j.value("log", json::array())) {
    if (line.is_string()) run->add_log(line.get<std::string>());
  }
  run->set_response(j.value("response", ""));
  ToProto(SignatureFromJson(j.value("signature", json::array())), run->mutable_signature());
}

void DecodePlotData(std::string_view text, v1::RunPlotData* data) {
  if (text.empty()) return;
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return;
  const json fitted = j.value("plot_fitted", json::array());
  const json actual = j.value("plot_actual", json::array());
  if (!fitted.is_array() || !actual.is_array()) return;
  const size_t n = std::min(fitted.size(), actual.size());
  for (size_t i = 0; i < n; ++i) {
    // null (NaN) pairs are kept as NaN; the plot skips them
    data->add_fitted(fitted[i].is_number() ? fitted[i].get<double>()
                                           : std::numeric_limits<double>::quiet_NaN());
    data->add_actual(actual[i].is_number() ? actual[i].get<double>()
                                           : std::numeric_limits<double>::quiet_NaN());
  }
  data->set_response(j.value("response", ""));
}

}  // namespace

// value() and get() throw on a member of another type, which only a damaged row has: decode as
// far as it goes rather than let the exception reach a handler (UNKNOWN) or a worker thread.
void DecodeReportInto(std::string_view text, v1::Run* run) {
  try {
    DecodeReport(text, run);
  } catch (const json::exception&) {
  }
}

void DecodePlotDataInto(std::string_view text, v1::RunPlotData* data) {
  try {
    DecodePlotData(text, data);
  } catch (const json::exception&) {
  }
}

std::string EncodeSignature(const std::vector<ml::InputColumn>& signature) {
  return SignatureJson(signature).dump();
}

std::vector<ml::InputColumn> DecodeSignature(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return {};
  try {
    return SignatureFromJson(j);
  } catch (const json::exception&) {
    return {};
  }
}

v1::ColumnType ToProto(ml::ColumnType type) {
  switch (type) {
    case ml::ColumnType::kNumeric: return v1::COLUMN_TYPE_NUMERIC;
    case ml::ColumnType::kCategorical: return v1::COLUMN_TYPE_CATEGORICAL;
    case ml::ColumnType::kBoolean: return v1::COLUMN_TYPE_BOOLEAN;
  }
  return v1::COLUMN_TYPE_UNSPECIFIED;
}

void ToProto(const std::vector<ml::InputColumn>& signature,
             google::protobuf::RepeatedPtrField<v1::InputColumn>* out) {
  out->Clear();
  for (const ml::InputColumn& c : signature) {
    v1::InputColumn* col = out->Add();
    col->set_name(c.name);
    col->set_type(ToProto(c.type));
    for (const std::string& level : c.levels) col->add_levels(level);
  }
}

}  // namespace mlprod::server
