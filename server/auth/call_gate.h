// The call gate: a server interceptor that decides, before any handler runs, whether a call may
// proceed and on whose behalf, from the one role table (role.h) and the call's bearer token
// (token_authenticator.h). gRPC 1.51's server interceptors cannot answer a call themselves, so
// the gate records its verdict and every handler starts by reading it with CallerOf(), which
// refuses a call the gate did not see: forgetting to install the gate denies everything, and
// the role battery test walks every method of every service to prove each handler asks.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_interceptor.h>

#include "ml/status.h"
#include "server/auth/role.h"
#include "server/auth/token_authenticator.h"

namespace mlprod::server {

// Who makes a call, recorded as the actor of every write.
struct Caller {
  // With auth on: the token's name. With auth off (no token exists on a loopback server): the
  // `x-mlprod-actor` metadata the CLI sends (the local user name) when it is a plain name, else
  // "anonymous".
  std::string name;
  Role role = Role::kViewer;   // with auth off every caller may do everything: kAdmin
  bool authenticated = false;  // whether `name` comes from a verified token
};

// The gate's verdict on this call: its caller, or why it is refused: UNAUTHENTICATED (no,
// malformed, unknown or revoked token), PERMISSION_DENIED (the role is too low, naming the role
// the method needs; or the method is missing from the role table), DEADLINE_EXCEEDED (the
// deadline passed before the call began), RESOURCE_EXHAUSTED (the request's metadata is over
// the limit). Every handler's first step.
Result<Caller> CallerOf(const grpc::ServerContextBase& context);

// For ServerBuilder::experimental().SetInterceptorCreators; `auth` outlives the server. Calls
// whose request metadata (names, values and 32 bytes per entry, as HTTP/2 counts a header list)
// exceed `max_metadata_bytes` are refused: gRPC 1.51 applies its own limit to a header block
// sent in one frame but not to one split over CONTINUATION frames.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> CallGateInterceptors(
    TokenAuthenticator* auth, size_t max_metadata_bytes);

}  // namespace mlprod::server
