#include "registry/codec.h"

#include <openssl/evp.h>

#include <cmath>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

namespace mlprod::registry {
namespace {

using nlohmann::json;

// dump() throws on invalid UTF-8 unless told otherwise; replace keeps it total.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// parse() with allow_exceptions=false yields a "discarded" value instead of throwing.
Result<json> Parse(std::string_view text, const json::value_t expected, std::string_view what) {
  json value = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || value.type() != expected) {
    return Status::Internal("corrupt " + std::string(what) + " JSON in the registry");
  }
  return value;
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  // Fetched once: OpenSSL 3 looks an implicit EVP_sha256() up in its provider store, under a
  // lock, on every init, which a token check per call would pay.
  static const EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  ok_ = ctx_ != nullptr && kSha256 != nullptr &&
        EVP_DigestInit_ex(ctx_, kSha256, nullptr) == 1;
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::Update(std::string_view bytes) {
  ok_ = ok_ && EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()) == 1;
}

Result<Sha256::Digest> Sha256::Finish() {
  Digest digest;
  unsigned int length = 0;
  if (!ok_ || EVP_DigestFinal_ex(ctx_, digest.data(), &length) != 1 || length != digest.size()) {
    return Status::Internal("SHA-256 computation failed");
  }
  ok_ = false;  // finalised
  return digest;
}

Result<std::string> Sha256::HexDigest() {
  MLPROD_ASSIGN_OR_RETURN(Digest digest, Finish());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * digest.size(), '0');
  for (size_t i = 0; i < digest.size(); ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return hex;
}

Result<std::string> Sha256Hex(std::string_view bytes) {
  Sha256 sha;
  sha.Update(bytes);
  return sha.HexDigest();
}

Result<Sha256::Digest> Sha256Digest(std::string_view bytes) {
  Sha256 sha;
  sha.Update(bytes);
  return sha.Finish();
}

std::string EncodeParams(const std::map<std::string, std::string>& params) {
  json object = json::object();
  for (const auto& [key, value] : params) object[key] = value;
  return Dump(object);
}

Result<std::map<std::string, std::string>> DecodeParams(std::string_view text) {
  MLPROD_ASSIGN_OR_RETURN(json object, Parse(text, json::value_t::object, "params"));
  std::map<std::string, std::string> params;
  for (const auto& [key, value] : object.items()) {
    if (!value.is_string()) return Status::Internal("corrupt params JSON in the registry");
    params[key] = value.get<std::string>();
  }
  return params;
}

std::string EncodeMetrics(const std::map<std::string, double>& metrics) {
  json object = json::object();
  for (const auto& [key, value] : metrics) {
    object[key] = std::isfinite(value) ? json(value) : json(nullptr);
  }
  return Dump(object);
}

Result<std::map<std::string, double>> DecodeMetrics(std::string_view text) {
  MLPROD_ASSIGN_OR_RETURN(json object, Parse(text, json::value_t::object, "metrics"));
  std::map<std::string, double> metrics;
  for (const auto& [key, value] : object.items()) {
    if (value.is_null()) {
      metrics[key] = std::numeric_limits<double>::quiet_NaN();
    } else if (value.is_number()) {
      metrics[key] = value.get<double>();
    } else {
      return Status::Internal("corrupt metrics JSON in the registry");
    }
  }
  return metrics;
}

std::string EncodeColumns(const std::vector<ColumnInfo>& columns) {
  json array = json::array();
  for (const ColumnInfo& column : columns) {
    array.push_back({{"name", column.name}, {"type", column.type}, {"missing", column.missing}});
  }
  return Dump(array);
}

Result<std::vector<ColumnInfo>> DecodeColumns(std::string_view text) {
  MLPROD_ASSIGN_OR_RETURN(json array, Parse(text, json::value_t::array, "columns"));
  std::vector<ColumnInfo> columns;
  columns.reserve(array.size());
  for (const json& item : array) {
    if (!item.is_object() || !item.contains("name") || !item["name"].is_string() ||
        !item.contains("type") || !item["type"].is_string() || !item.contains("missing") ||
        !item["missing"].is_number_integer()) {
      return Status::Internal("corrupt columns JSON in the registry");
    }
    columns.push_back({item["name"].get<std::string>(), item["type"].get<std::string>(),
                       item["missing"].get<int64_t>()});
  }
  return columns;
}

}  // namespace mlprod::registry
