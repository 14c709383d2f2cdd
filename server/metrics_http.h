// MetricsEndpoint: serves ServerMetrics::Render() as `GET /metrics` over plain HTTP for
// Prometheus (cpp-httplib, on its own thread). Anything else is 404. With a TokenAuthenticator
// and auth on, a scrape must send a token of any role (`Authorization: Bearer <token>`,
// Prometheus' `authorization: credentials_file`), else 401.
#pragma once

#include <memory>
#include <string>

#include "ml/status.h"
#include "server/auth/token_authenticator.h"
#include "server/metrics.h"

namespace mlprod::server {

class MetricsEndpoint {
 public:
  // Listens on `listen` (HOST:PORT; port 0 picks a free one). `metrics` and `auth` (null: scrapes
  // need no token) outlive the endpoint. INTERNAL when the address cannot be bound.
  static Result<std::unique_ptr<MetricsEndpoint>> Start(const std::string& listen,
                                                        const ServerMetrics* metrics,
                                                        TokenAuthenticator* auth);
  virtual ~MetricsEndpoint() = default;  // stops serving

  virtual int port() const = 0;
};

}  // namespace mlprod::server
