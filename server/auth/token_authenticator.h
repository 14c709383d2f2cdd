// TokenAuthenticator: from the bearer token a call presents to the token's name and role.
//
// A token is "mlp_<selector>_<secret>": 16 hex digits that find the token's row, then 43
// base64url characters (256 random bits) whose SHA-256 is compared, in constant time, with the
// stored one. The registry never holds a secret. Looked-up tokens are cached for a second, so a
// prediction does not wait on the registry; a revoke through this server drops the cache at once,
// and a token revoked elsewhere (another replica, a restored backup) stops working within that
// second.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ml/status.h"
#include "registry/codec.h"
#include "registry/registry.h"
#include "server/auth/role.h"

namespace mlprod::server {

// Who a valid token belongs to.
struct TokenIdentity {
  std::string name;
  Role role = Role::kViewer;
};

// When calls must present a token.
enum class AuthMode {
  kAuto,      // once any token was ever created (revoked ones count)
  kRequired,  // always, even before the first token exists
};

class TokenAuthenticator {
 public:
  // `registry` outlives the authenticator.
  TokenAuthenticator(registry::Registry* registry, AuthMode mode);

  // Whether calls need a token now. Under kAuto, the token count is re-read at most once a
  // second (a token made by `mlprod-server token create` while the server runs turns auth on
  // within that second).
  bool enabled();

  // The identity of the `authorization` metadata's value ("Bearer <token>"). UNAUTHENTICATED for
  // a missing, malformed, unknown or revoked token; INTERNAL when the registry cannot be read.
  Result<TokenIdentity> Authenticate(std::string_view authorization);

  // Creates a token. The admin path of TokenService and `mlprod-server token create` both come
  // here. Codes as Registry::CreateToken.
  struct NewToken {
    registry::Token token;
    std::string secret;  // "mlp_<selector>_<secret>": shown once, stored nowhere
  };
  static Result<NewToken> CreateToken(registry::Registry* registry, std::string_view name,
                                      std::string_view role, std::string_view actor);

  // Forgets every cached token and the cached auth state: called after a revoke or a create.
  void Invalidate();

 private:
  struct Cached {
    TokenIdentity identity;
    registry::Sha256::Digest secret_sha256;
    std::chrono::steady_clock::time_point fetched;
  };

  registry::Registry* const registry_;
  const AuthMode mode_;
  std::shared_mutex mu_;
  // By selector, its 16 hex digits read as a number: a lookup allocates nothing.
  std::unordered_map<uint64_t, std::shared_ptr<const Cached>> by_selector_;  // GUARDED_BY(mu_)
  bool any_token_ = false;                                // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point counted_{};      // GUARDED_BY(mu_); epoch = never
};

}  // namespace mlprod::server
