#include "server/mlprod_server.h"

#include <chrono>
#include <mutex>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "mlprod/v1/server.grpc.pb.h"
#include "registry/registry.h"
#include "server/dataset_cache.h"
#include "server/dataset_service.h"
#include "server/inference_service.h"
#include "server/metrics.h"
#include "server/metrics_http.h"
#include "server/registry_service.h"
#include "server/rpc_metrics.h"
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

class MlprodServerImpl final : public MlprodServer {
 public:
  MlprodServerImpl(const ServerOptions& options, std::unique_ptr<registry::Registry> registry,
                   int interrupted)
      : registry_(std::move(registry)),
        interrupted_(interrupted),
        datasets_(registry_.get(), options.dataset_cache_bytes),
        queue_(registry_.get(), &datasets_, &metrics_, options.workers),
        serving_(registry_.get()),
        dataset_service_(registry_.get(), &datasets_, options.max_upload_bytes),
        training_service_(registry_.get(), &datasets_, &queue_),
        registry_service_(registry_.get(), &serving_),
        inference_service_(&serving_, &metrics_, options.max_predict_rows),
        server_service_(options.data_dir, &queue_, &serving_) {
    metrics_.AddGauge("mlprod_training_queue_depth", "Training runs waiting for a worker.",
                      [this] { return queue_.queued(); });
    metrics_.AddGauge("mlprod_training_runs_running", "Training runs being fitted now.",
                      [this] { return queue_.running(); });
    metrics_.AddGauge("mlprod_serving_loaded_models", "Model versions loaded for serving.",
                      [this] { return serving_.loaded(); });
    metrics_.AddGauge("mlprod_dataset_cache_bytes", "Memory held by the dataset frame cache.",
                      [this] { return static_cast<double>(datasets_.held_bytes()); });
  }

  Status Listen(const std::string& address) {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port_);
    builder.SetMaxReceiveMessageSize(64 * 1024 * 1024);
    // A stream's receive window may grow as bandwidth probes ask; cap it so an upload's unread
    // bytes stay a few megabytes however fast the client sends.
    builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 4 << 20);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> hooks;
    hooks.push_back(RpcMetricsInterceptors(&metrics_));
    builder.experimental().SetInterceptorCreators(std::move(hooks));
    builder.RegisterService(&dataset_service_);
    builder.RegisterService(&training_service_);
    builder.RegisterService(&registry_service_);
    builder.RegisterService(&inference_service_);
    builder.RegisterService(&server_service_);
    server_ = builder.BuildAndStart();
    if (!server_ || port_ == 0) return Status::Internal("cannot listen on " + address);
    return Status::Ok();
  }

  Status ListenForMetrics(const std::string& address) {
    if (address.empty()) return Status::Ok();
    MLPROD_ASSIGN_OR_RETURN(metrics_endpoint_, MetricsEndpoint::Start(address, &metrics_));
    return Status::Ok();
  }

  int port() const override { return port_; }
  int metrics_port() const override { return metrics_endpoint_ ? metrics_endpoint_->port() : -1; }
  int interrupted_runs() const override { return interrupted_; }

  void Shutdown(int grace_seconds) override {
    std::lock_guard<std::mutex> lock(shutdown_mu_);
    if (shut_down_) return;
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(grace_seconds));
    queue_.Stop();
    shut_down_ = true;
  }

  void Wait() override { server_->Wait(); }

  ~MlprodServerImpl() override { Shutdown(0); }

 private:
  // Declaration order is construction order: everything a service uses is built before it.
  std::unique_ptr<registry::Registry> registry_;
  const int interrupted_;
  ServerMetrics metrics_;
  DatasetCache datasets_;
  RunQueue queue_;
  ServingModels serving_;
  DatasetServiceImpl dataset_service_;
  TrainingServiceImpl training_service_;
  ModelRegistryImpl registry_service_;
  InferenceServiceImpl inference_service_;
  ServerServiceImpl server_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  int port_ = 0;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;  // GUARDED_BY(shutdown_mu_)
};

}  // namespace

Result<std::unique_ptr<MlprodServer>> MlprodServer::Start(const ServerOptions& options) {
  MLPROD_ASSIGN_OR_RETURN(std::unique_ptr<registry::Registry> registry,
                          registry::Registry::Open(options.data_dir));
  MLPROD_ASSIGN_OR_RETURN(int interrupted, registry->FailInterruptedRuns());
  auto server = std::make_unique<MlprodServerImpl>(options, std::move(registry), interrupted);
  MLPROD_RETURN_IF_ERROR(server->Listen(options.listen));
  MLPROD_RETURN_IF_ERROR(server->ListenForMetrics(options.metrics_listen));
  return std::unique_ptr<MlprodServer>(std::move(server));
}

}  // namespace mlprod::server
