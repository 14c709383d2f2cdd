// The gRPC server interceptor that records every call's method, status code and latency into
// ServerMetrics (SPEC §9: RPC counts and latency histograms by method and code).
#pragma once

#include <memory>

#include <grpcpp/support/server_interceptor.h>

#include "server/metrics.h"

namespace mlprod::server {

// For ServerBuilder::experimental().SetInterceptorCreators. `metrics` outlives the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> RpcMetricsInterceptors(
    ServerMetrics* metrics);

}  // namespace mlprod::server
