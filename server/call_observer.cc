#include "server/call_observer.h"

#include <chrono>
#include <random>
#include <string>

#include <fmt/format.h>

#include "ml/status.h"
#include "server/auth/call_gate.h"
#include "server/grpc_status.h"
#include "server/logging.h"

namespace mlprod::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

constexpr char kRequestIdKey[] = "x-request-id";

bool PlainId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}", rng());
}

class CallObserver final : public grpc::experimental::Interceptor {
 public:
  CallObserver(grpc::experimental::ServerRpcInfo* info, ServerMetrics* metrics)
      : info_(info),
        method_(info->method() != nullptr ? info->method() : "unknown"),
        metrics_(metrics) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      const auto& metadata = *methods->GetRecvInitialMetadata();
      auto it = metadata.find(kRequestIdKey);
      if (it != metadata.end()) request_id_.assign(it->second.data(), it->second.size());
      if (!PlainId(request_id_)) request_id_ = NewRequestId();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace(kRequestIdKey, request_id_);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
      const std::string_view code = StatusCodeName(static_cast<StatusCode>(status.error_code()));
      metrics_->RecordRpc(method_, code, seconds);
      const Result<Caller> caller = CallerOf(*info_->server_context());
      const std::string peer = info_->server_context()->peer();
      const std::string error = Shortened(status.error_message());
      LogRpc({request_id_, method_, code, caller.ok() ? std::string_view(caller->name) : "-",
              peer, seconds, error});
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  const char* const method_;  // the registered method's name: lives as long as the server
  ServerMetrics* const metrics_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::string request_id_;
};

class CallObserverFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallObserverFactory(ServerMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallObserver(info, metrics_);
  }

 private:
  ServerMetrics* const metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> CallObserverInterceptors(
    ServerMetrics* metrics) {
  return std::make_unique<CallObserverFactory>(metrics);
}

}  // namespace mlprod::server
