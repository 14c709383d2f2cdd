#include "server/mlprod_server.h"

#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>

#include "mlprod/v1/server.grpc.pb.h"
#include "registry/registry.h"
#include "server/auth/call_gate.h"
#include "server/auth/token_service.h"
#include "server/call_interceptor.h"
#include "server/dataset_cache.h"
#include "server/dataset_service.h"
#include "server/inference_service.h"
#include "server/metrics.h"
#include "server/grpc_status.h"
#include "server/metrics_http.h"
#include "server/reflection_service.h"
#include "server/registry_service.h"
#include "server/run_queue.h"
#include "server/serving_models.h"
#include "server/training_service.h"

namespace mlprod::server {
namespace {

constexpr char kVersion[] = "0.1.0";

Result<std::string> ReadPemFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream pem;
  pem << in.rdbuf();
  if (!in || pem.str().empty()) {
    return Status::InvalidArgument("cannot read " + flag + " file " + path);
  }
  return pem.str();
}

bool IsLoopback(const std::string& listen) {
  return listen.rfind("127.", 0) == 0 || listen.rfind("localhost:", 0) == 0 ||
         listen.rfind("[::1]:", 0) == 0;
}

// Plaintext, TLS, or mutual TLS, from the options' PEM files.
Result<std::shared_ptr<grpc::ServerCredentials>> Credentials(const ServerOptions& options) {
  if (options.tls_cert.empty() && options.tls_key.empty()) {
    if (!options.tls_client_ca.empty()) {
      return Status::InvalidArgument("--tls-client-ca needs --tls-cert and --tls-key");
    }
    return grpc::InsecureServerCredentials();
  }
  if (options.tls_cert.empty() || options.tls_key.empty()) {
    return Status::InvalidArgument("TLS needs both --tls-cert and --tls-key");
  }
  grpc::SslServerCredentialsOptions ssl(
      options.tls_client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                    : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  MLPROD_ASSIGN_OR_RETURN(pair.private_key, ReadPemFile("--tls-key", options.tls_key));
  MLPROD_ASSIGN_OR_RETURN(pair.cert_chain, ReadPemFile("--tls-cert", options.tls_cert));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!options.tls_client_ca.empty()) {
    MLPROD_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                            ReadPemFile("--tls-client-ca", options.tls_client_ca));
  }
  return grpc::SslServerCredentials(ssl);
}


class ServerServiceImpl final : public v1::ServerService::Service {
 public:
  ServerServiceImpl(std::string data_dir, bool tls, const RunQueue* queue,
                    const ServingModels* serving, TokenAuthenticator* auth)
      : data_dir_(std::move(data_dir)), tls_(tls), queue_(queue), serving_(serving), auth_(auth) {}

  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest*,
                         v1::ServerStatus* response) override {
    auto caller = CallerOf(*context);
    if (!caller.ok()) return ToGrpcStatus(caller.status());
    response->set_version(kVersion);
    response->set_uptime_seconds(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::steady_clock::now() - started_)
                                     .count());
    response->set_data_dir(data_dir_);
    response->set_workers(queue_->workers());
    response->set_queued_runs(queue_->queued());
    response->set_running_runs(queue_->running());
    response->set_loaded_models(serving_->loaded());
    response->set_auth(auth_->enabled());
    response->set_tls(tls_);
    response->set_caller(caller->name);
    response->set_caller_role(std::string(RoleName(caller->role)));
    return grpc::Status::OK;
  }

 private:
  const std::string data_dir_;
  const bool tls_;
  const RunQueue* const queue_;
  const ServingModels* const serving_;
  TokenAuthenticator* const auth_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

class MlprodServerImpl final : public MlprodServer {
 public:
  MlprodServerImpl(const ServerOptions& options, std::unique_ptr<registry::Registry> registry,
                   int interrupted)
      : registry_(std::move(registry)),
        interrupted_(interrupted),
        auth_(registry_.get(), options.auth),
        gate_(&auth_, options.limits.max_metadata_bytes),
        datasets_(registry_.get(), options.dataset_cache_bytes),
        queue_(registry_.get(), &datasets_, &metrics_, options.workers, options.limits.formula),
        serving_(registry_.get()),
        dataset_service_(registry_.get(), &datasets_, options.max_upload_bytes),
        training_service_(registry_.get(), &datasets_, &queue_, options.limits.formula,
                          {options.limits.max_filter_length, options.limits.max_filter_depth}),
        registry_service_(registry_.get(), &serving_),
        inference_service_(&serving_, &metrics_, options.max_predict_rows),
        server_service_(options.data_dir, !options.tls_cert.empty(), &queue_, &serving_, &auth_),
        token_service_(registry_.get(), &auth_),
        reflection_service_(ServedNames()) {
    metrics_.AddGauge("mlprod_training_queue_depth", "Training runs waiting for a worker.",
                      [this] { return queue_.queued(); });
    metrics_.AddGauge("mlprod_training_runs_running", "Training runs being fitted now.",
                      [this] { return queue_.running(); });
    metrics_.AddGauge("mlprod_serving_loaded_models", "Model versions loaded for serving.",
                      [this] { return serving_.loaded(); });
    metrics_.AddGauge("mlprod_dataset_cache_bytes", "Memory held by the dataset frame cache.",
                      [this] { return static_cast<double>(datasets_.held_bytes()); });
  }

  Status Listen(const ServerOptions& options) {
    MLPROD_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                            Credentials(options));
    const bool tls = !options.tls_cert.empty();
    if (!IsLoopback(options.listen) && !options.insecure && (!auth_.enabled() || !tls)) {
      return Status::FailedPrecondition(
          "refusing to listen on " + options.listen + " without " +
          (!auth_.enabled() && !tls ? "auth and TLS" : !tls ? "TLS" : "auth") +
          ": anyone who reaches the port could read and promote models. Create an admin token "
          "(mlprod-server token create --data-dir DIR --name NAME --role admin), serve TLS "
          "(--tls-cert FILE --tls-key FILE), or listen on 127.0.0.1; --insecure accepts the risk "
          "(e.g. behind a proxy that provides both)");
    }
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(options.listen, credentials, &port_);
    ApplyLimits(options.limits, &builder);
    // gRPC sets SO_REUSEPORT by default: a second server on a taken port would then start and
    // take a share of the connections, and a bind to port 0 could get a port another server
    // holds. A taken port must be an error.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> hooks;
    hooks.push_back(CallInterceptors(&gate_, &observer_));
    builder.experimental().SetInterceptorCreators(std::move(hooks));
    for (const Served& s : Services()) builder.RegisterService(s.service);
    server_ = builder.BuildAndStart();
    if (!server_ || port_ == 0) return Status::Internal("cannot listen on " + options.listen);
    return Status::Ok();
  }

  Status ListenForMetrics(const ServerOptions& options) {
    if (options.metrics_listen.empty()) return Status::Ok();
    MLPROD_ASSIGN_OR_RETURN(
        metrics_endpoint_,
        MetricsEndpoint::Start(options.metrics_listen, &metrics_,
                               options.metrics_open ? nullptr : &auth_));
    return Status::Ok();
  }

  // Every service served, with its name: reflection lists what is registered, so the role
  // battery test, which walks reflection's list, sees every method a client can call.
  struct Served {
    grpc::Service* service;
    const char* name;
  };
  std::vector<Served> Services() {
    return {{&dataset_service_, v1::DatasetService::service_full_name()},
            {&training_service_, v1::TrainingService::service_full_name()},
            {&registry_service_, v1::ModelRegistry::service_full_name()},
            {&inference_service_, v1::InferenceService::service_full_name()},
            {&server_service_, v1::ServerService::service_full_name()},
            {&token_service_, v1::TokenService::service_full_name()},
            {&reflection_service_,
             grpc::reflection::v1alpha::ServerReflection::service_full_name()}};
  }
  std::vector<std::string> ServedNames() {
    std::vector<std::string> names = {"grpc.health.v1.Health"};  // gRPC's own, enabled above
    for (const Served& s : Services()) names.push_back(s.name);
    return names;
  }

  int port() const override { return port_; }
  int metrics_port() const override { return metrics_endpoint_ ? metrics_endpoint_->port() : -1; }
  int interrupted_runs() const override { return interrupted_; }

  void Shutdown(int grace_seconds) override {
    std::lock_guard<std::mutex> lock(shutdown_mu_);
    if (shut_down_) return;
    // A server that failed to listen has no gRPC server to stop.
    if (server_) server_->GetHealthCheckService()->Shutdown();  // probes: NOT_SERVING from now
    // Running and queued runs end FAILED "interrupted" first, so that their watchers see the end
    // instead of holding the drain open.
    queue_.Stop();
    // No new calls from here; calls in flight get until the deadline, then are cancelled.
    if (server_) {
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(grace_seconds));
    }
    shut_down_ = true;
  }

  void Wait() override { server_->Wait(); }

  ~MlprodServerImpl() override { Shutdown(0); }

 private:
  // Declaration order is construction order: everything a service uses is built before it.
  std::unique_ptr<registry::Registry> registry_;
  const int interrupted_;
  TokenAuthenticator auth_;
  CallGate gate_;
  ServerMetrics metrics_;
  CallObserver observer_{&metrics_};
  DatasetCache datasets_;
  RunQueue queue_;
  ServingModels serving_;
  DatasetServiceImpl dataset_service_;
  TrainingServiceImpl training_service_;
  ModelRegistryImpl registry_service_;
  InferenceServiceImpl inference_service_;
  ServerServiceImpl server_service_;
  TokenServiceImpl token_service_;
  ReflectionServiceImpl reflection_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
  int port_ = 0;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;  // GUARDED_BY(shutdown_mu_)
};

}  // namespace

void ApplyLimits(const ServerLimits& limits, grpc::ServerBuilder* builder) {
  grpc::ResourceQuota quota("mlprod-server");
  quota.Resize(limits.max_memory_bytes);
  quota.SetMaxThreads(limits.max_threads);
  builder->SetResourceQuota(quota);
  builder->SetMaxReceiveMessageSize(static_cast<int>(limits.max_message_bytes));
  builder->AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams);
  builder->AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE,
                              static_cast<int>(limits.max_metadata_bytes));
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, limits.keepalive_seconds * 1000);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                              limits.keepalive_timeout_seconds * 1000);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                              limits.min_client_ping_seconds * 1000);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, limits.max_ping_strikes);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                              limits.max_connection_idle_seconds * 1000);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                              limits.max_connection_age_seconds * 1000);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                              limits.max_connection_age_grace_seconds * 1000);
  // A stream's receive window may grow as bandwidth probes ask; cap it so an upload's unread
  // bytes stay a few megabytes however fast the client sends.
  builder->AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 4 << 20);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
}

Result<std::unique_ptr<MlprodServer>> MlprodServer::Start(const ServerOptions& options) {
  MLPROD_ASSIGN_OR_RETURN(std::unique_ptr<registry::Registry> registry,
                          registry::Registry::Open(options.data_dir));
  MLPROD_ASSIGN_OR_RETURN(int interrupted, registry->FailInterruptedRuns());
  auto server = std::make_unique<MlprodServerImpl>(options, std::move(registry), interrupted);
  MLPROD_RETURN_IF_ERROR(server->Listen(options));
  MLPROD_RETURN_IF_ERROR(server->ListenForMetrics(options));
  return std::unique_ptr<MlprodServer>(std::move(server));
}

}  // namespace mlprod::server
