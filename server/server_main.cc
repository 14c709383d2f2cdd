// mlprod-server: the gRPC server binary. Prints one line "mlprod-server listening on HOST:PORT"
// on stdout once it serves (PORT is the bound port, so `--listen 127.0.0.1:0` picks a free one),
// then logs to stderr. SIGTERM/SIGINT drain in-flight calls and stop cleanly.
// `mlprod-server backup --data-dir D --out FILE` writes an online backup of D (registry/backup.h)
// while a server may be running on it, and exits.
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "registry/backup.h"
#include "server/mlprod_server.h"

namespace mlprod::server {
namespace {

bool IsLoopback(const std::string& listen) {
  return listen.rfind("127.", 0) == 0 || listen.rfind("localhost:", 0) == 0 ||
         listen.rfind("[::1]:", 0) == 0;
}

int Serve(int argc, char** argv) {
  CLI::App app{"mlprod-server: datasets, training runs, a model registry and predictions over gRPC"};
  ServerOptions options;
  size_t max_upload_mb = options.max_upload_bytes >> 20;
  size_t dataset_cache_mb = options.dataset_cache_bytes >> 20;
  bool insecure = false;
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
  std::string backup_out;
  CLI::App* backup = app.add_subcommand(
      "backup", "write an online backup of --data-dir (a tar file; restore: tar -xf FILE -C DIR)");
  backup->add_option("--out", backup_out, "the backup file to write")->required();
  backup->fallthrough();
  app.add_flag("--insecure", insecure, "allow a non-loopback address without auth or TLS");
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
  options.max_upload_bytes = max_upload_mb << 20;
  options.dataset_cache_bytes = dataset_cache_mb << 20;

  spdlog::set_default_logger(spdlog::stderr_color_mt("mlprod"));
  if (!IsLoopback(options.listen) && !insecure) {
    spdlog::error("refusing to listen on {} without auth; pass --insecure to allow it",
                  options.listen);
    return 2;
  }

  // SIGTERM/SIGINT are taken by one thread with sigwait; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = MlprodServer::Start(options);
  if (!server.ok()) {
    spdlog::error("cannot start: {}", server.status().ToString());
    return 1;
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

  std::thread signal_waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {}: draining in-flight calls", sig);
    (*server)->Shutdown(10);
  });
  (*server)->Wait();
  signal_waiter.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace
}  // namespace mlprod::server

int main(int argc, char** argv) { return mlprod::server::Serve(argc, argv); }
