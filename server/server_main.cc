// mlprod-server: the gRPC server. Flags as in SPEC §3/§8; prints one line
// "mlprod-server listening on HOST:PORT" on stdout once it serves (PORT is the bound port, so
// `--listen 127.0.0.1:0` picks a free one), then logs to stderr. SIGTERM/SIGINT drain in-flight
// calls and stop cleanly.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "mlprod/v1/server.grpc.pb.h"
#include "registry/registry.h"
#include "server/dataset_cache.h"
#include "server/dataset_service.h"
#include "server/inference_service.h"
#include "server/registry_service.h"
#include "server/run_queue.h"
#include "server/serving_models.h"
#include "server/training_service.h"

namespace mlprod::server {
namespace {

constexpr char kVersion[] = "0.1.0";

class ServerServiceImpl final : public v1::ServerService::Service {
 public:
  ServerServiceImpl(std::string data_dir, const RunQueue* queue, const ServingModels* serving)
      : data_dir_(std::move(data_dir)), queue_(queue), serving_(serving) {}

  grpc::Status GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                         v1::ServerStatus* response) override {
    response->set_version(kVersion);
    response->set_uptime_seconds(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::steady_clock::now() - started_)
                                     .count());
    response->set_data_dir(data_dir_);
    response->set_workers(queue_->workers());
    response->set_queued_runs(queue_->queued());
    response->set_running_runs(queue_->running());
    response->set_loaded_models(serving_->loaded());
    return grpc::Status::OK;
  }

 private:
  const std::string data_dir_;
  const RunQueue* const queue_;
  const ServingModels* const serving_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

bool IsLoopback(const std::string& listen) {
  return listen.rfind("127.", 0) == 0 || listen.rfind("localhost:", 0) == 0 ||
         listen.rfind("[::1]:", 0) == 0;
}

int Serve(int argc, char** argv) {
  CLI::App app{"mlprod-server: datasets, training runs, a model registry and predictions over gRPC"};
  std::string listen = "127.0.0.1:50051";
  std::string data_dir = "./mlprod-data";
  int workers = 2;
  size_t max_upload_mb = 1024;
  size_t max_predict_rows = 100000;
  bool insecure = false;
  app.add_option("--listen", listen, "address to serve on, HOST:PORT (port 0 picks a free one)")
      ->capture_default_str();
  app.add_option("--data-dir", data_dir, "folder of the SQLite registry and blobs")
      ->capture_default_str();
  app.add_option("--workers", workers, "training runs executed at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--max-upload-mb", max_upload_mb, "largest dataset upload accepted")
      ->capture_default_str();
  app.add_option("--max-predict-rows", max_predict_rows, "most rows in one predict request")
      ->capture_default_str();
  app.add_flag("--insecure", insecure, "allow a non-loopback address without auth or TLS");
  CLI11_PARSE(app, argc, argv);

  spdlog::set_default_logger(spdlog::stderr_color_mt("mlprod"));
  if (!IsLoopback(listen) && !insecure) {
    spdlog::error("refusing to listen on {} without auth; pass --insecure to allow it", listen);
    return 2;
  }

  // SIGTERM/SIGINT are taken by one thread with sigwait; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto registry = registry::Registry::Open(data_dir);
  if (!registry.ok()) {
    spdlog::error("cannot open data dir {}: {}", data_dir, registry.status().ToString());
    return 1;
  }
  auto interrupted = (*registry)->FailInterruptedRuns();
  if (!interrupted.ok()) {
    spdlog::error("cannot mark interrupted runs: {}", interrupted.status().ToString());
    return 1;
  }
  if (*interrupted > 0) spdlog::warn("{} run(s) interrupted by the last stop marked FAILED", *interrupted);

  registry::Registry* reg = registry->get();
  DatasetCache datasets(reg);
  RunQueue queue(reg, &datasets, workers);
  ServingModels serving(reg);
  const size_t max_upload_bytes = max_upload_mb * 1024 * 1024;
  DatasetServiceImpl dataset_service(reg, &datasets, max_upload_bytes);
  TrainingServiceImpl training_service(reg, &datasets, &queue);
  ModelRegistryImpl registry_service(reg, &serving);
  InferenceServiceImpl inference_service(&serving, max_predict_rows);
  ServerServiceImpl server_service(data_dir, &queue, &serving);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  builder.RegisterService(&dataset_service);
  builder.RegisterService(&training_service);
  builder.RegisterService(&registry_service);
  builder.RegisterService(&inference_service);
  builder.RegisterService(&server_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    spdlog::error("cannot listen on {}", listen);
    return 1;
  }
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::printf("mlprod-server listening on %s:%d\n", host.c_str(), port);
  std::fflush(stdout);
  spdlog::info("serving on {}:{} with data in {}, {} worker(s)", host, port, data_dir, workers);

  std::thread signal_waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {}: draining in-flight calls", sig);
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  });
  server->Wait();
  queue.Stop();
  signal_waiter.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace
}  // namespace mlprod::server

int main(int argc, char** argv) { return mlprod::server::Serve(argc, argv); }
