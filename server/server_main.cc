// mlprod-server: the gRPC server binary. Prints one line "mlprod-server listening on HOST:PORT"
// on stdout once it serves (PORT is the bound port, so `--listen 127.0.0.1:0` picks a free one),
// then logs to stderr. SIGTERM/SIGINT drain in-flight calls and stop cleanly.
// `mlprod-server backup --data-dir D --out FILE` writes an online backup of D (registry/backup.h)
// while a server may be running on it, and exits. `mlprod-server token create --data-dir D --name N
// --role R` makes an API token (the first admin's) and prints it once.
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "registry/backup.h"
#include "registry/registry.h"
#include "server/logging.h"
#include "server/mlprod_server.h"
#include "server/run_filter.h"

namespace mlprod::server {
namespace {

// Adds the flags of every limit (docs/SECURITY.md says what each defends against).
void AddLimitFlags(CLI::App& app, ServerLimits& limits, size_t& memory_mb, size_t& message_mb,
                   size_t& metadata_kb) {
  auto add = [&app](const char* name, auto& value, const char* help) {
    app.add_option(name, value, help)
        ->check(CLI::PositiveNumber)
        ->capture_default_str()
        ->group("Limits");
  };
  add("--max-concurrent-streams", limits.max_concurrent_streams,
      "calls in flight on one connection");
  add("--max-memory-mb", memory_mb, "memory gRPC may hold for calls in flight (resource quota)");
  add("--max-threads", limits.max_threads, "threads serving calls (resource quota)");
  add("--max-message-mb", message_mb, "largest message received");
  add("--max-metadata-kb", metadata_kb, "largest request metadata (headers) of one call");
  add("--keepalive-seconds", limits.keepalive_seconds, "ping an idle connection this often");
  add("--keepalive-timeout-seconds", limits.keepalive_timeout_seconds,
      "drop a connection whose ping goes unanswered this long");
  add("--min-client-ping-seconds", limits.min_client_ping_seconds,
      "client pings closer than this are strikes");
  add("--max-ping-strikes", limits.max_ping_strikes, "strikes before the connection is closed");
  add("--max-connection-idle-seconds", limits.max_connection_idle_seconds,
      "close a connection without calls after this long");
  add("--max-connection-age-seconds", limits.max_connection_age_seconds,
      "ask every connection to go away after this long");
  add("--max-connection-age-grace-seconds", limits.max_connection_age_grace_seconds,
      "then cut it when its calls outlast this");
  add("--max-formula-length", limits.formula.max_length, "longest formula, in bytes");
  app.add_option("--max-formula-depth", limits.formula.max_depth,
                 "deepest nesting of a formula (parentheses, calls, operators inside I())")
      ->check(CLI::Range(1, ml::kMaxFormulaDepth))
      ->capture_default_str()
      ->group("Limits");
  add("--max-formula-terms", limits.formula.max_terms, "most terms a formula may expand to");
  add("--max-filter-length", limits.max_filter_length,
      "longest run filter or order-by, in bytes");
  app.add_option("--max-filter-depth", limits.max_filter_depth,
                 "deepest nesting of a run filter (parentheses and NOT)")
      ->check(CLI::Range(1, kMaxRunFilterDepth))
      ->capture_default_str()
      ->group("Limits");
}

// `mlprod-server token create --data-dir D --name N --role R`: the first admin's token. Prints
// the secret alone on stdout (so `TOKEN=$(...)` works), the notice on stderr.
int CreateToken(const std::string& data_dir, const std::string& name, const std::string& role) {
  auto registry = registry::Registry::Open(data_dir);
  if (!registry.ok()) {
    std::fprintf(stderr, "error: %s\n", registry.status().ToString().c_str());
    return 1;
  }
  auto created = TokenAuthenticator::CreateToken(registry->get(), name, role, "mlprod-server");
  if (!created.ok()) {
    std::fprintf(stderr, "error: %s\n", created.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr,
               "token '%s' (%s) created in %s; it is shown once, only its hash is kept. Auth is "
               "now on for every server on this registry.\n",
               name.c_str(), role.c_str(), data_dir.c_str());
  std::printf("%s\n", created->secret.c_str());
  return 0;
}

int Serve(int argc, char** argv) {
  CLI::App app{"mlprod-server: datasets, training runs, a model registry and predictions over gRPC"};
  ServerOptions options;
  size_t max_upload_mb = options.max_upload_bytes >> 20;
  size_t dataset_cache_mb = options.dataset_cache_bytes >> 20;
  size_t memory_mb = options.limits.max_memory_bytes >> 20;
  size_t message_mb = options.limits.max_message_bytes >> 20;
  size_t metadata_kb = options.limits.max_metadata_bytes >> 10;
  std::string auth = "auto";
  std::string log_format = "text";
  int drain_seconds = 10;
  app.add_option("--listen", options.listen, "HOST:PORT to serve on (port 0 picks a free one)")
      ->capture_default_str();
  app.add_option("--data-dir", options.data_dir, "folder of the SQLite registry and blobs")
      ->capture_default_str();
  app.add_option("--workers", options.workers, "training runs executed at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--max-upload-mb", max_upload_mb, "largest dataset upload accepted")
      ->capture_default_str();
  app.add_option("--dataset-cache-mb", dataset_cache_mb,
                 "memory for datasets kept between runs (least recently used go first)")
      ->capture_default_str();
  app.add_option("--max-predict-rows", options.max_predict_rows, "most rows per predict request")
      ->capture_default_str();
  app.add_option("--metrics-listen", options.metrics_listen,
                 "HOST:PORT serving Prometheus metrics at GET /metrics (off when empty)")
      ->capture_default_str();
  app.add_flag("--metrics-open", options.metrics_open,
               "serve /metrics without a token even when auth is on");
  app.add_option("--auth", auth,
                 "auto: tokens are needed once any exists; required: always")
      ->check(CLI::IsMember({"auto", "required"}))
      ->capture_default_str()
      ->group("Security");
  app.add_option("--tls-cert", options.tls_cert, "PEM certificate chain; serves TLS")
      ->check(CLI::ExistingFile)
      ->group("Security");
  app.add_option("--tls-key", options.tls_key, "PEM private key of --tls-cert")
      ->check(CLI::ExistingFile)
      ->group("Security");
  app.add_option("--tls-client-ca", options.tls_client_ca,
                 "PEM roots; clients must present a certificate they signed (mTLS)")
      ->check(CLI::ExistingFile)
      ->group("Security");
  app.add_flag("--insecure", options.insecure,
               "allow a non-loopback address without auth and TLS")
      ->group("Security");
  app.add_option("--log-format", log_format,
                 "text, or json: one JSON object a line (every RPC with its request id, method, "
                 "code, actor and duration)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--drain-seconds", drain_seconds,
                 "on SIGTERM, how long in-flight calls may take to finish")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  AddLimitFlags(app, options.limits, memory_mb, message_mb, metadata_kb);

  std::string backup_out;
  CLI::App* backup = app.add_subcommand(
      "backup", "write an online backup of --data-dir (a tar file; restore: tar -xf FILE -C DIR)");
  backup->add_option("--out", backup_out, "the backup file to write")->required();
  backup->fallthrough();
  std::string token_name, token_role;
  CLI::App* token = app.add_subcommand("token", "API tokens, on the server machine");
  token->require_subcommand(1);
  CLI::App* token_create = token->add_subcommand(
      "create", "create a token in --data-dir's registry and print it once (the first admin's)");
  token_create->add_option("--name", token_name, "the token's name, recorded as the actor")
      ->required();
  token_create->add_option("--role", token_role, "viewer | editor | admin")
      ->required()
      ->check(CLI::IsMember({"viewer", "editor", "admin"}));
  token->fallthrough();
  token_create->fallthrough();
  CLI11_PARSE(app, argc, argv);
  if (*backup) {
    auto summary = registry::BackupDataDir(options.data_dir, backup_out);
    if (!summary.ok()) {
      std::fprintf(stderr, "error: %s\n", summary.status().ToString().c_str());
      return 1;
    }
    std::printf("backup of %s written to %s: the registry and %d blob(s), %.1f MB\n",
                options.data_dir.c_str(), backup_out.c_str(), summary->blobs,
                static_cast<double>(summary->bytes) / 1e6);
    return 0;
  }
  if (*token_create) return CreateToken(options.data_dir, token_name, token_role);
  options.max_upload_bytes = max_upload_mb << 20;
  options.dataset_cache_bytes = dataset_cache_mb << 20;
  options.limits.max_memory_bytes = memory_mb << 20;
  options.limits.max_message_bytes = message_mb << 20;
  options.limits.max_metadata_bytes = metadata_kb << 10;
  options.auth = auth == "required" ? AuthMode::kRequired : AuthMode::kAuto;

  // SIGTERM/SIGINT are taken by one thread with sigwait; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // After the mask: it starts the log flusher thread.
  ConfigureLogging(log_format == "json" ? LogFormat::kJson : LogFormat::kText);

  auto server = MlprodServer::Start(options);
  if (!server.ok()) {
    spdlog::error("cannot start: {}", server.status().ToString());  // error: flushed at once
    return server.status().code() == StatusCode::kFailedPrecondition ? 2 : 1;
  }
  if ((*server)->interrupted_runs() > 0) {
    spdlog::warn("{} run(s) interrupted by the last stop marked FAILED",
                 (*server)->interrupted_runs());
  }
  const std::string host = options.listen.substr(0, options.listen.rfind(':'));
  std::printf("mlprod-server listening on %s:%d\n", host.c_str(), (*server)->port());
  std::fflush(stdout);
  spdlog::info("serving on {}:{}, data in {}, {} worker(s)", host, (*server)->port(),
               options.data_dir, options.workers);
  if ((*server)->metrics_port() > 0) {
    const std::string& m = options.metrics_listen;
    spdlog::info("metrics on {}:{}", m.substr(0, m.rfind(':')), (*server)->metrics_port());
  }

  std::thread signal_waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {}: draining in-flight calls (up to {} s)", sig, drain_seconds);
    (*server)->Shutdown(drain_seconds);
  });
  (*server)->Wait();
  signal_waiter.join();
  spdlog::info("stopped");
  FlushLogs();
  return 0;
}

}  // namespace
}  // namespace mlprod::server

int main(int argc, char** argv) { return mlprod::server::Serve(argc, argv); }
