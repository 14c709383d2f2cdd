// The call observer: a server interceptor that sees every call finish and records it, as SPEC §9
// asks: into ServerMetrics (counts and latency by method and code) and as one log line
// (logging.h) with the call's request id, method, code, actor, peer and duration. The request
// id is the client's `x-request-id` when it sends a plain one, else made here; the reply's
// initial metadata carries it back, so a client can quote it.
#pragma once

#include <memory>

#include <grpcpp/support/server_interceptor.h>

#include "server/metrics.h"

namespace mlprod::server {

// For ServerBuilder::experimental().SetInterceptorCreators. `metrics` outlives the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> CallObserverInterceptors(
    ServerMetrics* metrics);

}  // namespace mlprod::server
