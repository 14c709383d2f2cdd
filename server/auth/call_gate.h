// The call gate decides, before any handler runs, whether a call may proceed and on whose
// behalf: from the one role table (role.h), the call's deadline, the size of its metadata and
// its bearer token (token_authenticator.h). gRPC 1.51's server interceptors cannot answer a
// call themselves, so the call interceptor (server/call_interceptor.h) publishes the gate's
// verdict for the call's life and every handler starts by reading it with CallerOf(), which
// refuses a call that has no verdict: forgetting the interceptor denies everything, and the
// role battery test walks every method of every service to prove each handler asks.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include <grpcpp/server_context.h>
#include <grpcpp/support/string_ref.h>

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

using ClientMetadata = std::multimap<grpc::string_ref, grpc::string_ref>;

class CallGate {
 public:
  // `auth` outlives the gate. Calls whose request metadata (names, values and 32 bytes per entry,
  // as HTTP/2 counts a header list) exceed `max_metadata_bytes` are refused: gRPC 1.51 applies
  // its own limit to a header block sent in one frame but not to one split over CONTINUATION
  // frames.
  CallGate(TokenAuthenticator* auth, size_t max_metadata_bytes)
      : auth_(auth), max_metadata_bytes_(max_metadata_bytes) {}

  // The verdict on a call of `method` (its full gRPC name): its caller, or why it is refused:
  // PERMISSION_DENIED (the method is missing from the role table, or the role is too low, naming
  // the role the method needs), DEADLINE_EXCEEDED (the deadline passed before the call began),
  // RESOURCE_EXHAUSTED (the metadata is over the limit), UNAUTHENTICATED (no, malformed,
  // unknown or revoked token). Thread-safe.
  Result<Caller> Decide(std::string_view method, const grpc::ServerContextBase& context,
                        const ClientMetadata& metadata) const;

 private:
  TokenAuthenticator* const auth_;
  const size_t max_metadata_bytes_;
};

// The gate's verdict on this call, as published for it. Every handler's first step.
Result<Caller> CallerOf(const grpc::ServerContextBase& context);

// While it lives, CallerOf(*call) answers *verdict (both must outlive it).
class PublishedVerdict {
 public:
  PublishedVerdict(const grpc::ServerContextBase* call, const Result<Caller>* verdict);
  ~PublishedVerdict();
  PublishedVerdict(const PublishedVerdict&) = delete;
  PublishedVerdict& operator=(const PublishedVerdict&) = delete;

 private:
  const grpc::ServerContextBase* const call_;
};

}  // namespace mlprod::server
