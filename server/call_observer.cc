#include "server/call_observer.h"

#include <random>

#include <fmt/format.h>

#include "ml/status.h"
#include "server/grpc_status.h"
#include "server/logging.h"

namespace mlprod::server {

std::optional<std::string> CallObserver::ClientRequestId(const ClientMetadata& metadata) {
  auto it = metadata.find("x-request-id");
  if (it == metadata.end() || it->second.empty() || it->second.size() > 64) return std::nullopt;
  for (char c : it->second) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!plain) return std::nullopt;
  }
  return std::string(it->second.data(), it->second.size());
}

std::string CallObserver::NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}", rng());
}

void CallObserver::Finished(std::string_view method, const grpc::Status& status,
                            const Caller* caller, const grpc::ServerContextBase& context,
                            std::string_view request_id, double seconds) const {
  const std::string_view code = StatusCodeName(static_cast<StatusCode>(status.error_code()));
  metrics_->RecordRpc(method, code, seconds);
  const std::string error = Shortened(status.error_message());
  const std::string peer = context.peer();
  LogRpc({request_id, method, code, caller != nullptr ? std::string_view(caller->name) : "-",
          peer, seconds, error});
}

}  // namespace mlprod::server
