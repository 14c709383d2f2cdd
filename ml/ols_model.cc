#include "ml/ols_model.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "ml/stored_json.h"

namespace mlprod::ml {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "mlprod-model";
constexpr int kFormatVersion = 1;

json Number(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }
double NumberOr(const json& j) { return j.is_null() ? NAN : j.get<double>(); }

// Column names the formula is re-parsed against: the response, what `.` expanded to (in order),
// then the signature.
std::vector<std::string> ParseColumns(const ParsedFormula& f,
                                      const std::vector<InputColumn>& signature) {
  std::vector<std::string> out = {f.response};
  auto add = [&](const std::string& name) {
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  };
  for (const auto& name : f.dot_columns) add(name);
  for (const auto& in : signature) add(in.name);
  return out;
}

}  // namespace

Status OlsModel::Impute(InputTable* table) const {
  return FillMissing(design_.signature(), missing_, imputation_, table);
}

Result<std::vector<double>> OlsModel::PredictInputs(const InputTable& table) const {
  MLPROD_ASSIGN_OR_RETURN(ColumnMatrix x, design_.BuildColumns(table));
  return PredictDesign(x);
}

Result<std::vector<double>> OlsModel::PredictDesign(const ColumnMatrix& x) const {
  if (x.cols() != design_.cols())
    return Status::InvalidArgument("design matrix has " + std::to_string(x.cols()) +
                                   " columns; the model has " + std::to_string(design_.cols()));
  std::vector<double> out(x.rows());
  OlsPredictColumns(fit_, x, out.data());
  return out;
}

Result<std::vector<Prediction>> OlsModel::Predict(const Frame& rows,
                                                  const PredictOptions& options) const {
  if (options.intervals && !(options.level > 0 && options.level < 1))
    return Status::InvalidArgument("interval level must be in (0, 1)");
  std::vector<Prediction> out(rows.rows);
  const double t =
      options.intervals ? StudentQuantile(fit_.df_residual, (1 + options.level) / 2) : NAN;
  MLPROD_RETURN_IF_ERROR(ForEachDesignRow(
      design_, rows, missing_, imputation_, [&](size_t r, const double* x) {
        out[r].value = OlsPredictRow(fit_, x);
        if (options.intervals) {
          double half = t * fit_.sigma * std::sqrt(1 + OlsLeverage(fit_, x));
          out[r].lower = out[r].value - half;
          out[r].upper = out[r].value + half;
        }
      }));
  return out;
}

// {"format": "mlprod-model", "format_version": 1, "kind": "ols", "formula", "response",
//  "missing", "parse_columns", "signature": [{name, type, levels}], "imputation": [x|null],
//  "terms": [design column names], "transforms": Design::StateJson() (poly/ns state),
//  "coefficients": [estimate|null], "aliased": [bool], "n_obs", "rss", "sigma", "df_residual",
//  "cov_unscaled": [[...]] over the kept columns}
std::string OlsModel::Serialize() const {
  json j;
  j["format"] = kFormat;
  j["format_version"] = kFormatVersion;
  j["kind"] = "ols";
  j["formula"] = design_.formula().text;
  j["response"] = design_.formula().response;
  j["missing"] = std::string(MissingStrategyName(missing_));
  j["parse_columns"] = ParseColumns(design_.formula(), design_.signature());
  json sig = json::array();
  for (const auto& in : design_.signature())
    sig.push_back({{"name", in.name}, {"type", ColumnTypeName(in.type)}, {"levels", in.levels}});
  j["signature"] = sig;
  json imp = json::array();
  for (double v : imputation_) imp.push_back(Number(v));
  j["imputation"] = imp;
  j["terms"] = design_.column_names();
  j["transforms"] = json::parse(design_.StateJson());  // poly() coefficients, ns() knots
  json coef = json::array();
  for (double c : fit_.coef) coef.push_back(Number(c));
  j["coefficients"] = coef;
  json aliased = json::array();
  for (bool a : fit_.aliased) aliased.push_back(a);
  j["aliased"] = aliased;
  j["n_obs"] = fit_.n;
  j["rss"] = Number(fit_.rss);
  j["sigma"] = Number(fit_.sigma);
  j["df_residual"] = Number(fit_.df_residual);
  json cov = json::array();
  for (Eigen::Index a = 0; a < fit_.cov_unscaled.rows(); ++a) {
    json row = json::array();
    for (Eigen::Index b = 0; b < fit_.cov_unscaled.cols(); ++b)
      row.push_back(Number(fit_.cov_unscaled(a, b)));
    cov.push_back(row);
  }
  j["cov_unscaled"] = cov;
  return j.dump();
}

Result<std::shared_ptr<const Model>> DeserializeOlsModel(std::string_view bytes) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  // A comparison, not j.value("format", ""): value() throws when the key holds another type.
  if (j.is_discarded() || !j.is_object() || !j.contains("format") || j["format"] != kFormat)
    return Status::DataLoss("not an mlprod model");
  try {
    if (j.at("format_version") != kFormatVersion)  // not get<int>(): 1e300 would not fit
      return Status::InvalidArgument("unsupported model format version " +
                                     j.at("format_version").dump());
    if (j.at("kind").get<std::string>() != "ols")
      return Status::InvalidArgument("unknown model kind " + j.at("kind").dump());
    MLPROD_ASSIGN_OR_RETURN(MissingStrategy missing,
                            ParseMissingStrategy(j.at("missing").get<std::string>()));
    std::vector<InputColumn> signature;
    for (const json& in : j.at("signature")) {
      MLPROD_ASSIGN_OR_RETURN(ColumnType type, ParseColumnType(in.at("type").get<std::string>()));
      signature.push_back({in.at("name").get<std::string>(), type,
                           in.at("levels").get<std::vector<std::string>>()});
    }
    MLPROD_ASSIGN_OR_RETURN(
        ParsedFormula parsed,
        ParseFormula(j.at("formula").get<std::string>(),
                     j.at("parse_columns").get<std::vector<std::string>>(), kStoredFormulaLimits));
    if (parsed.response != j.at("response").get<std::string>())
      return Status::InvalidArgument("model response does not match its formula");
    MLPROD_ASSIGN_OR_RETURN(Design design, Design::Create(std::move(parsed), signature));
    if (design.column_names() != j.at("terms").get<std::vector<std::string>>())
      return Status::InvalidArgument("model terms do not match its formula");
    if (j.contains("transforms"))
      MLPROD_RETURN_IF_ERROR(design.RestoreState(j.at("transforms").dump()));
    if (!design.fitted())  // models from before "transforms" had no poly()/ns() terms
      return Status::InvalidArgument("model lacks the state of its poly()/ns() terms");
    const size_t p = design.cols();
    std::vector<double> imputation;
    for (const json& v : j.at("imputation")) imputation.push_back(NumberOr(v));
    if (imputation.size() != signature.size())
      return Status::InvalidArgument("model imputation values do not match its signature");
    OlsFit fit;
    for (const json& v : j.at("coefficients")) fit.coef.push_back(NumberOr(v));
    fit.aliased = j.at("aliased").get<std::vector<bool>>();
    if (fit.coef.size() != p || fit.aliased.size() != p)
      return Status::InvalidArgument("model coefficients do not match its terms");
    for (size_t c = 0; c < p; ++c) {
      if (fit.aliased[c]) continue;
      if (std::isnan(fit.coef[c]))
        return Status::InvalidArgument("model coefficient " + std::to_string(c) + " is null");
      fit.kept.push_back(static_cast<int>(c));
    }
    fit.rank = fit.kept.size();
    const std::optional<int64_t> n_obs = JsonInteger(j.at("n_obs"), 0, INT64_MAX);
    if (!n_obs) return Status::InvalidArgument("model n_obs is not a count");
    fit.n = static_cast<size_t>(*n_obs);
    fit.rss = NumberOr(j.at("rss"));
    fit.sigma = NumberOr(j.at("sigma"));
    fit.df_residual = NumberOr(j.at("df_residual"));
    const json& cov = j.at("cov_unscaled");
    const Eigen::Index r = static_cast<Eigen::Index>(fit.rank);
    if (cov.size() != fit.rank)
      return Status::InvalidArgument("model covariance does not match its coefficients");
    fit.cov_unscaled.resize(r, r);
    for (Eigen::Index a = 0; a < r; ++a) {
      if (cov[a].size() != fit.rank)
        return Status::InvalidArgument("model covariance does not match its coefficients");
      for (Eigen::Index b = 0; b < r; ++b) fit.cov_unscaled(a, b) = NumberOr(cov[a][b]);
    }
    return std::shared_ptr<const Model>(std::make_shared<OlsModel>(
        std::move(design), missing, std::move(imputation), std::move(fit)));
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("malformed model: ") + e.what());
  }
}

}  // namespace mlprod::ml
