// MlprodServer: one running mlprod server — registry, caches, training queue, every gRPC
// service, health and reflection — on one listening address. The binary and the in-process
// tests start it the same way.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "ml/status.h"

namespace mlprod::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";  // HOST:PORT; port 0 picks a free one
  std::string data_dir = "./mlprod-data";  // SQLite registry and blobs
  int workers = 2;                         // training runs executed at once
  size_t dataset_cache_bytes = size_t{2} << 30;  // datasets kept in memory between runs
  size_t max_upload_bytes = size_t{1} << 30;
  size_t max_predict_rows = 100000;
  // HOST:PORT where Prometheus scrapes `GET /metrics` (port 0 picks a free one); empty: none.
  std::string metrics_listen;
};

class MlprodServer {
 public:
  // Opens the registry (marking runs interrupted by the last stop FAILED), starts the workers
  // and serves. INTERNAL when the data dir or the address cannot be used.
  static Result<std::unique_ptr<MlprodServer>> Start(const ServerOptions& options);
  virtual ~MlprodServer() = default;

  // The bound port (the chosen one when the options said 0).
  virtual int port() const = 0;
  // The bound metrics port; -1 when ServerOptions::metrics_listen was empty.
  virtual int metrics_port() const = 0;
  // Number of runs marked FAILED "interrupted" at start-up.
  virtual int interrupted_runs() const = 0;
  // Drains in-flight calls (up to `grace_seconds`), stops the workers. Idempotent.
  virtual void Shutdown(int grace_seconds) = 0;
  // Blocks until Shutdown has completed.
  virtual void Wait() = 0;
};

}  // namespace mlprod::server
