// MetricsEndpoint: serves ServerMetrics::Render() as `GET /metrics` over plain HTTP for
// Prometheus (cpp-httplib, on its own thread). Anything else is 404.
#pragma once

#include <memory>
#include <string>

#include "ml/status.h"
#include "server/metrics.h"

namespace mlprod::server {

class MetricsEndpoint {
 public:
  // Listens on `listen` (HOST:PORT; port 0 picks a free one). `metrics` outlives the endpoint.
  // INTERNAL when the address cannot be bound.
  static Result<std::unique_ptr<MetricsEndpoint>> Start(const std::string& listen,
                                                        const ServerMetrics* metrics);
  virtual ~MetricsEndpoint() = default;  // stops serving

  virtual int port() const = 0;
};

}  // namespace mlprod::server
