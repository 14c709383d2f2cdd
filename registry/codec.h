// Encoding helpers for the registry's SQLite columns: maps and column lists as JSON text, and the
// SHA-256 of dataset bytes. Decoders return INTERNAL on malformed text (a corrupt row); nothing
// throws.
#pragma once

#include <array>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ml/status.h"
#include "registry/registry.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace mlprod::registry {

// SHA-256 of bytes that arrive in pieces (OpenSSL EVP).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  using Digest = std::array<unsigned char, 32>;

  void Update(std::string_view bytes);
  // The digest of everything updated; INTERNAL if OpenSSL failed at any step. Call one of the two
  // once.
  Result<Digest> Finish();
  // Finish() as lowercase hex.
  Result<std::string> HexDigest();

 private:
  ::evp_md_ctx_st* ctx_;
  bool ok_;
};

// Lowercase hex SHA-256 of `bytes`. INTERNAL if OpenSSL fails.
Result<std::string> Sha256Hex(std::string_view bytes);
// The SHA-256 of `bytes`, raw. INTERNAL if OpenSSL fails.
Result<Sha256::Digest> Sha256Digest(std::string_view bytes);

std::string EncodeParams(const std::map<std::string, std::string>& params);
Result<std::map<std::string, std::string>> DecodeParams(std::string_view json);

// Non-finite metrics are stored as null and read back as NaN.
std::string EncodeMetrics(const std::map<std::string, double>& metrics);
Result<std::map<std::string, double>> DecodeMetrics(std::string_view json);

std::string EncodeColumns(const std::vector<ColumnInfo>& columns);
Result<std::vector<ColumnInfo>> DecodeColumns(std::string_view json);

}  // namespace mlprod::registry
