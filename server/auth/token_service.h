// TokenService: admins create, list and revoke API tokens over the API (SPEC §8). The first
// admin's token comes from `mlprod-server token create`: creating one through the API needs an
// authenticated admin, so a server without tokens never hands one to whoever reaches its port.
#pragma once

#include "mlprod/v1/tokens.grpc.pb.h"
#include "registry/registry.h"
#include "server/auth/token_authenticator.h"

namespace mlprod::server {

class TokenServiceImpl final : public v1::TokenService::Service {
 public:
  // Both pointers outlive the service.
  TokenServiceImpl(registry::Registry* registry, TokenAuthenticator* auth)
      : registry_(registry), auth_(auth) {}

  // FAILED_PRECONDITION with auth off; INVALID_ARGUMENT for a bad name or role; ALREADY_EXISTS
  // for a name ever used.
  grpc::Status CreateToken(grpc::ServerContext* context, const v1::CreateTokenRequest* request,
                           v1::CreatedToken* response) override;
  grpc::Status ListTokens(grpc::ServerContext* context, const v1::ListTokensRequest* request,
                          v1::ListTokensResponse* response) override;
  // NOT_FOUND for an unknown name; FAILED_PRECONDITION when already revoked.
  grpc::Status RevokeToken(grpc::ServerContext* context, const v1::RevokeTokenRequest* request,
                           v1::Token* response) override;

 private:
  registry::Registry* const registry_;
  TokenAuthenticator* const auth_;
};

}  // namespace mlprod::server
