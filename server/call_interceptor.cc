#include "server/call_interceptor.h"

#include <chrono>
#include <optional>
#include <string>

namespace mlprod::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

class CallInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(grpc::experimental::ServerRpcInfo* info, const CallGate* gate,
                  const CallObserver* observer)
      : info_(info),
        method_(info->method() != nullptr ? info->method() : ""),
        gate_(gate),
        observer_(observer) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      const ClientMetadata& metadata = *methods->GetRecvInitialMetadata();
      client_request_id_ = CallObserver::ClientRequestId(metadata);
      verdict_ = gate_->Decide(method_, *info_->server_context(), metadata);
      published_.emplace(info_->server_context(), &verdict_);
    }
    if (client_request_id_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("x-request-id", *client_request_id_);
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
      observer_->Finished(method_, methods->GetSendStatus(), verdict_.ok() ? &*verdict_ : nullptr,
                          *info_->server_context(),
                          client_request_id_ ? *client_request_id_ : CallObserver::NewRequestId(),
                          seconds);
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  const char* const method_;  // the registered method's name: lives as long as the server
  const CallGate* const gate_;
  const CallObserver* const observer_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::optional<std::string> client_request_id_;
  Result<Caller> verdict_ = Status::Internal("the call gate has not decided yet");
  std::optional<PublishedVerdict> published_;  // declared last: withdrawn before verdict_ goes
};

class CallInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  CallInterceptorFactory(const CallGate* gate, const CallObserver* observer)
      : gate_(gate), observer_(observer) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallInterceptor(info, gate_, observer_);
  }

 private:
  const CallGate* const gate_;
  const CallObserver* const observer_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> CallInterceptors(
    const CallGate* gate, const CallObserver* observer) {
  return std::make_unique<CallInterceptorFactory>(gate, observer);
}

}  // namespace mlprod::server
