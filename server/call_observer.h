// The call observer records every finished call, as SPEC §9 asks: into ServerMetrics (counts
// and latency by method and code) and as one log line (logging.h) with the call's request id,
// method, code, actor, peer and duration.
#pragma once

#include <string>
#include <string_view>

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include "server/auth/call_gate.h"
#include "server/metrics.h"

namespace mlprod::server {

class CallObserver {
 public:
  // `metrics` outlives the observer.
  explicit CallObserver(ServerMetrics* metrics) : metrics_(metrics) {}

  // A call's request id: the client's `x-request-id` when it is a plain one (up to 64 of
  // [A-Za-z0-9._-]), else nullopt.
  static std::optional<std::string> ClientRequestId(const ClientMetadata& metadata);
  // A new request id: 16 hex digits.
  static std::string NewRequestId();

  // One finished call of `method`; `caller` is null for a call the gate refused. Thread-safe.
  void Finished(std::string_view method, const grpc::Status& status, const Caller* caller,
                const grpc::ServerContextBase& context, std::string_view request_id,
                double seconds) const;

 private:
  ServerMetrics* const metrics_;
};

}  // namespace mlprod::server
