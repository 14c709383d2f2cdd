#include "server/auth/token_authenticator.h"

#include <charconv>
#include <mutex>
#include <optional>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "registry/codec.h"

namespace mlprod::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kPrefix = "mlp_";
constexpr size_t kSelectorBytes = 8;   // 16 hex digits
constexpr size_t kSecretBytes = 32;    // 256 bits, 43 base64url characters
constexpr size_t kSelectorChars = 2 * kSelectorBytes;
constexpr size_t kSecretChars = (kSecretBytes * 4 + 2) / 3;
constexpr size_t kTokenChars = kPrefix.size() + kSelectorChars + 1 + kSecretChars;
constexpr auto kCacheLife = std::chrono::seconds(1);

Result<std::string> RandomBytes(size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1) {
    return Status::Internal("the system's random generator failed");
  }
  return bytes;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// Unpadded base64url (RFC 4648 §5).
std::string Base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

bool AllOf(std::string_view s, bool (*pred)(char)) {
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}
bool IsLowerHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
// The scheme is matched without regard to case (RFC 7235), in ASCII whatever the locale.
char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// The 32 bytes of a stored lowercase-hex SHA-256, or nullopt when it is not one.
std::optional<registry::Sha256::Digest> DigestFromHex(std::string_view hex) {
  registry::Sha256::Digest digest;
  if (hex.size() != 2 * digest.size() || !AllOf(hex, IsLowerHexDigit)) return std::nullopt;
  for (size_t i = 0; i < digest.size(); ++i) {
    unsigned value = 0;
    std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, value, 16);
    digest[i] = static_cast<unsigned char>(value);
  }
  return digest;
}

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

Status Refused(std::string why) {
  return Status::Unauthenticated(std::move(why) +
                                 "; pass a token with --token or MLPROD_TOKEN "
                                 "(metadata 'authorization: Bearer <token>')");
}

}  // namespace

TokenAuthenticator::TokenAuthenticator(registry::Registry* registry, AuthMode mode)
    : registry_(registry), mode_(mode) {}

bool TokenAuthenticator::enabled() {
  if (mode_ == AuthMode::kRequired) return true;
  const Clock::time_point now = Clock::now();
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    // Once on, auth never turns off: revoked tokens still count.
    if (any_token_ || now - counted_ < kCacheLife) return any_token_;
  }
  auto count = registry_->CountTokens();
  // A registry that cannot be read is no reason to let calls in: "on" for this call, and the
  // next call asks again.
  if (!count.ok()) return true;
  std::unique_lock<std::shared_mutex> lock(mu_);
  any_token_ = *count > 0;
  counted_ = now;
  return any_token_;
}

Result<TokenIdentity> TokenAuthenticator::Authenticate(std::string_view authorization) {
  if (authorization.empty()) return Refused("this server requires a token");
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), authorization.begin(),
                  [](char a, char b) { return AsciiLower(a) == AsciiLower(b); })) {
    return Refused("the authorization metadata is not 'Bearer <token>'");
  }
  const std::string_view token = authorization.substr(kScheme.size());
  if (token.size() != kTokenChars || token.substr(0, kPrefix.size()) != kPrefix ||
      token[kPrefix.size() + kSelectorChars] != '_') {
    return Refused("malformed token");
  }
  const std::string_view selector = token.substr(kPrefix.size(), kSelectorChars);
  const std::string_view secret = token.substr(kTokenChars - kSecretChars);
  if (!AllOf(selector, IsLowerHexDigit) || !AllOf(secret, IsBase64UrlChar)) {
    return Refused("malformed token");
  }
  MLPROD_ASSIGN_OR_RETURN(registry::Sha256::Digest presented_sha256, registry::Sha256Digest(secret));

  uint64_t key = 0;  // 16 lowercase hex digits, checked above: always fits
  std::from_chars(selector.data(), selector.data() + selector.size(), key, 16);
  const Clock::time_point now = Clock::now();
  std::shared_ptr<const Cached> entry;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = by_selector_.find(key);
    if (it != by_selector_.end() && now - it->second->fetched < kCacheLife) entry = it->second;
  }
  if (!entry) {
    MLPROD_ASSIGN_OR_RETURN(std::optional<registry::Registry::TokenCredential> stored,
                            registry_->FindValidToken(selector));
    std::optional<Role> role = stored ? ParseRole(stored->token.role) : std::nullopt;
    if (!role) return Refused("unknown or revoked token");
    std::optional<registry::Sha256::Digest> digest = DigestFromHex(stored->secret_sha256);
    if (!digest) return Status::Internal("the registry holds a malformed token digest");
    entry = std::make_shared<const Cached>(Cached{{stored->token.name, *role}, *digest, now});
    std::unique_lock<std::shared_mutex> lock(mu_);
    by_selector_[key] = entry;
  }
  if (CRYPTO_memcmp(entry->secret_sha256.data(), presented_sha256.data(),
                    presented_sha256.size()) != 0) {
    return Refused("unknown or revoked token");
  }
  return entry->identity;
}

Result<TokenAuthenticator::NewToken> TokenAuthenticator::CreateToken(
    registry::Registry* registry, std::string_view name, std::string_view role,
    std::string_view actor) {
  // A selector drawn twice (2^-64 per pair) is a lost race: draw again.
  for (int attempt = 0;; ++attempt) {
    MLPROD_ASSIGN_OR_RETURN(std::string selector_bytes, RandomBytes(kSelectorBytes));
    MLPROD_ASSIGN_OR_RETURN(std::string secret_bytes, RandomBytes(kSecretBytes));
    const std::string selector = Hex(selector_bytes);
    const std::string secret = Base64Url(secret_bytes);
    MLPROD_ASSIGN_OR_RETURN(std::string secret_sha256, registry::Sha256Hex(secret));
    auto created = registry->CreateToken(name, role, selector, secret_sha256, actor);
    if (created.ok()) return NewToken{*std::move(created), std::string(kPrefix) + selector + "_" + secret};
    if (created.status().code() != StatusCode::kAborted || attempt == 3) return created.status();
  }
}

void TokenAuthenticator::Invalidate() {
  std::unique_lock<std::shared_mutex> lock(mu_);
  by_selector_.clear();
  counted_ = {};
}

}  // namespace mlprod::server
