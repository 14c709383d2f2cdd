// MlprodServer: one running mlprod server — registry, caches, training queue, every gRPC
// service, health and reflection — on one listening address. The binary and the in-process
// tests start it the same way.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "ml/formula_limits.h"
#include "ml/status.h"
#include "server/auth/token_authenticator.h"

namespace grpc {
class ServerBuilder;
}

namespace mlprod::server {

struct ServerLimits {
  int max_concurrent_streams = 100;      // per connection (HTTP/2 SETTINGS)
  // gRPC's resource quota: buffers of every call. Also the only bound on gRPC 1.51's buffering
  // of header blocks split over CONTINUATION frames (CVE-2023-33953), ~50 bytes held per byte
  // sent, which reaches ~4x the quota before its reclaimer cuts the connection; at 2 GiB one
  // client took the server past 3.5 GiB (tests/hostile/headers_test.cc).
  size_t max_memory_bytes = size_t{256} << 20;
  int max_threads = 512;                 // gRPC's resource quota: threads serving calls
  size_t max_message_bytes = size_t{64} << 20;  // one received message
  size_t max_metadata_bytes = 16 << 10;  // one call's request headers
  int keepalive_seconds = 60;            // the server pings an idle connection this often...
  int keepalive_timeout_seconds = 20;    // ...and drops it when no answer comes this soon
  int min_client_ping_seconds = 10;      // client pings more often than this are strikes...
  int max_ping_strikes = 2;              // ...and more strikes than this close the connection
  int max_connection_idle_seconds = 300;   // a connection with no call is closed
  int max_connection_age_seconds = 3600;   // every connection is asked to go away...
  int max_connection_age_grace_seconds = 600;  // ...and cut when its calls outlast this
  ml::FormulaLimits formula;           // SubmitRun's formula (ml/formula_limits.h)
  size_t max_filter_length = 4096;     // ListRuns' filter and order-by (server/run_filter.h)
  int max_filter_depth = 100;
};

// Sets `limits`' transport part on `builder`: gRPC's resource quota, message, metadata and stream
// caps, keepalive and ping policing, connection idle and age, and the stream window cap. gRPC 1.51
// (Debian 12) predates upstream's fixes for CVE-2023-44487 (rapid reset), CVE-2023-4785 and
// CVE-2023-33953 (metadata/HPACK), so every limit a hostile client could abuse is set. The serve
// benchmark's echo applies the same, so both serve on the same transport.
void ApplyLimits(const ServerLimits& limits, grpc::ServerBuilder* builder);

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";  // HOST:PORT; port 0 picks a free one
  std::string data_dir = "./mlprod-data";  // SQLite registry and blobs
  int workers = 2;                         // training runs executed at once
  size_t dataset_cache_bytes = size_t{2} << 30;  // datasets kept in memory between runs
  size_t max_upload_bytes = size_t{1} << 30;
  size_t max_predict_rows = 100000;
  // HOST:PORT where Prometheus scrapes `GET /metrics` (port 0 picks a free one); empty: none.
  std::string metrics_listen;
  // With auth on, /metrics asks for a token too (any role) unless this is set.
  bool metrics_open = false;

  // Auth (SPEC §8): tokens are needed once any exists, or always with kRequired.
  AuthMode auth = AuthMode::kAuto;
  // TLS: PEM files of the server's certificate chain and key; plaintext when both are empty.
  std::string tls_cert, tls_key;
  // mTLS: PEM roots that client certificates must chain to; none asked for when empty.
  std::string tls_client_ca;

  // Limits for hostile clients (docs/SECURITY.md says what each defends against).
  ServerLimits limits;
  // Allow a non-loopback `listen` without auth and TLS (e.g. behind a mesh that provides both).
  bool insecure = false;
};

class MlprodServer {
 public:
  // Opens the registry (marking runs interrupted by the last stop FAILED), starts the workers
  // and serves. INTERNAL when the data dir or the address cannot be used; INVALID_ARGUMENT for
  // unreadable TLS files; FAILED_PRECONDITION for a non-loopback address without auth and TLS
  // (unless `insecure`), saying how to fix it.
  static Result<std::unique_ptr<MlprodServer>> Start(const ServerOptions& options);
  virtual ~MlprodServer() = default;

  // The bound port (the chosen one when the options said 0).
  virtual int port() const = 0;
  // The bound metrics port; -1 when ServerOptions::metrics_listen was empty.
  virtual int metrics_port() const = 0;
  // Number of runs marked FAILED "interrupted" at start-up.
  virtual int interrupted_runs() const = 0;
  // Stops cleanly: health turns NOT_SERVING, running fits end FAILED "interrupted", new calls
  // are refused, and calls in flight get up to `grace_seconds` to finish before they are
  // cancelled. Returns when all are done. Idempotent.
  virtual void Shutdown(int grace_seconds) = 0;
  // Blocks until Shutdown has completed.
  virtual void Wait() = 0;
};

}  // namespace mlprod::server
