// The one server interceptor every call passes. Before the handler runs it asks the call gate
// for a verdict and publishes it for the call's life (auth/call_gate.h); when the call ends it
// has the call observer record it (call_observer.h). One interceptor rather than one per
// concern: gRPC runs each interceptor at every batch of every call, a cost Predict pays per row.
// A client's `x-request-id` is echoed in the reply's initial metadata, so it can match the log.
#pragma once

#include <memory>

#include <grpcpp/support/server_interceptor.h>

#include "server/auth/call_gate.h"
#include "server/call_observer.h"

namespace mlprod::server {

// For ServerBuilder::experimental().SetInterceptorCreators. Both outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> CallInterceptors(
    const CallGate* gate, const CallObserver* observer);

}  // namespace mlprod::server
