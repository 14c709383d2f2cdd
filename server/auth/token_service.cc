#include "server/auth/token_service.h"

#include "server/auth/call_gate.h"
#include "server/call_context.h"
#include "server/grpc_status.h"

namespace mlprod::server {
namespace {

void ToProto(const registry::Token& in, v1::Token* out) {
  out->set_name(in.name);
  out->set_role(in.role);
  out->set_created_by(in.created_by);
  SetTimestamp(in.created_at_ms, out->mutable_created_at());
  out->set_revoked(in.revoked_at_ms != 0);
  if (in.revoked_at_ms != 0) {
    SetTimestamp(in.revoked_at_ms, out->mutable_revoked_at());
    out->set_revoked_by(in.revoked_by);
  }
}

}  // namespace

grpc::Status TokenServiceImpl::CreateToken(grpc::ServerContext* context,
                                           const v1::CreateTokenRequest* request,
                                           v1::CreatedToken* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  Status s = registry::ValidateName("token name", request->name());
  if (s.ok() && !ParseRole(request->role())) {
    s = Status::InvalidArgument("role '" + request->role() +
                                "' is not one of viewer, editor, admin");
  }
  if (!s.ok()) return ToGrpcStatus(s);
  if (!caller->authenticated) {
    return ToGrpcStatus(Status::FailedPrecondition(
        "auth is off (this server has no token yet): create the first admin token on the server "
        "machine with `mlprod-server token create --data-dir DIR --name NAME --role admin`"));
  }
  auto created =
      TokenAuthenticator::CreateToken(registry_, request->name(), request->role(), caller->name);
  if (!created.ok()) return ToGrpcStatus(created.status());
  auth_->Invalidate();
  ToProto(created->token, response->mutable_token());
  response->set_secret(created->secret);
  return grpc::Status::OK;
}

grpc::Status TokenServiceImpl::ListTokens(grpc::ServerContext* context,
                                          const v1::ListTokensRequest*,
                                          v1::ListTokensResponse* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto tokens = registry_->ListTokens();
  if (!tokens.ok()) return ToGrpcStatus(tokens.status());
  for (const registry::Token& t : *tokens) ToProto(t, response->add_tokens());
  return grpc::Status::OK;
}

grpc::Status TokenServiceImpl::RevokeToken(grpc::ServerContext* context,
                                           const v1::RevokeTokenRequest* request,
                                           v1::Token* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto token = registry_->RevokeToken(request->name(), caller->name);
  if (!token.ok()) return ToGrpcStatus(token.status());
  auth_->Invalidate();  // the revoked token fails from the next call on
  ToProto(*token, response);
  return grpc::Status::OK;
}

}  // namespace mlprod::server
