#include "server/metrics_http.h"

#include <thread>

#include <httplib.h>

namespace mlprod::server {
namespace {

class HttpMetricsEndpoint final : public MetricsEndpoint {
 public:
  HttpMetricsEndpoint(const ServerMetrics* metrics, TokenAuthenticator* auth) {
    http_.Get("/metrics", [metrics, auth](const httplib::Request& request,
                                          httplib::Response& response) {
      if (auth != nullptr && auth->enabled()) {
        auto identity = auth->Authenticate(request.get_header_value("Authorization"));
        if (!identity.ok()) {
          response.status = 401;
          response.set_header("WWW-Authenticate", "Bearer realm=\"mlprod metrics\"");
          response.set_content(identity.status().message() + "\n", "text/plain");
          return;
        }
      }
      response.set_content(metrics->Render(), "text/plain; version=0.0.4; charset=utf-8");
    });
  }

  ~HttpMetricsEndpoint() override {
    http_.stop();
    if (thread_.joinable()) thread_.join();
  }

  Status Listen(const std::string& listen) {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) {
      return Status::InvalidArgument("metrics address '" + listen + "' is not HOST:PORT");
    }
    std::string host = listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    const int wanted = std::atoi(listen.c_str() + colon + 1);
    port_ = wanted == 0 ? http_.bind_to_any_port(host.c_str())
                        : (http_.bind_to_port(host.c_str(), wanted) ? wanted : -1);
    if (port_ <= 0) return Status::Internal("cannot listen for metrics on " + listen);
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    return Status::Ok();
  }

  int port() const override { return port_; }

 private:
  httplib::Server http_;
  int port_ = -1;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const std::string& listen,
                                                                const ServerMetrics* metrics,
                                                                TokenAuthenticator* auth) {
  auto endpoint = std::make_unique<HttpMetricsEndpoint>(metrics, auth);
  MLPROD_RETURN_IF_ERROR(endpoint->Listen(listen));
  return std::unique_ptr<MetricsEndpoint>(std::move(endpoint));
}

}  // namespace mlprod::server
