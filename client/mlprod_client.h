// MlprodClient: a connection to mlprod-server for other services and for the `mlprod` CLI.
//
// Holds one channel and a stub per service; every call gets its own ClientContext from
// NewContext(), which sets the deadline, the bearer token and the actor. Thread-safe, as gRPC
// stubs are.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "mlprod/v1/datasets.grpc.pb.h"
#include "mlprod/v1/inference.grpc.pb.h"
#include "mlprod/v1/registry.grpc.pb.h"
#include "mlprod/v1/server.grpc.pb.h"
#include "mlprod/v1/tokens.grpc.pb.h"
#include "mlprod/v1/training.grpc.pb.h"

namespace mlprod::client {

struct ClientOptions {
  std::string server = "127.0.0.1:50051";  // HOST:PORT
  std::string token;                       // bearer token; none when empty
  std::string tls_ca_file;                 // PEM roots; plaintext when empty
  std::string tls_cert_file, tls_key_file; // client certificate and key for mTLS; none when empty
  std::string actor;                       // recorded as who made each write; $USER by default
  std::chrono::seconds deadline{60};       // per unary call
};

class MlprodClient {
 public:
  // Connects lazily (the first call dials). Returns nullptr and sets *error when a TLS file
  // cannot be read, or a client certificate comes without its key (or the other way round).
  static std::unique_ptr<MlprodClient> Create(const ClientOptions& options, std::string* error);

  // Dials now and waits up to `budget` for the connection. A failed attempt is retried after
  // about 100 ms, so one transient connect failure (seen under heavy load) does not fail the
  // next call; a server that is not there still fails it (UNAVAILABLE) after `budget`.
  // Returns whether the channel is connected.
  bool Connect(std::chrono::milliseconds budget) const;

  // A context for one call: deadline (`deadline` or the default), token and actor metadata.
  std::unique_ptr<grpc::ClientContext> NewContext(
      std::chrono::seconds deadline = std::chrono::seconds(0)) const;

  // Streams the file at `path` in 1 MiB chunks after `header`. A file that cannot be read is
  // INVALID_ARGUMENT naming it.
  grpc::Status UploadFile(const v1::UploadHeader& header, const std::string& path,
                          v1::DatasetVersion* response) const;

  // Streams a run's events to `on_event` until it ends; `last` gets the finished run.
  grpc::Status WatchRun(const std::string& run_id,
                        const std::function<void(const v1::RunEvent&)>& on_event,
                        v1::Run* last) const;

  v1::DatasetService::Stub& datasets() const { return *datasets_; }
  v1::TrainingService::Stub& training() const { return *training_; }
  v1::ModelRegistry::Stub& registry() const { return *registry_; }
  v1::InferenceService::Stub& inference() const { return *inference_; }
  v1::ServerService::Stub& server() const { return *server_; }
  v1::TokenService::Stub& tokens() const { return *tokens_; }
  const ClientOptions& options() const { return options_; }

 private:
  explicit MlprodClient(const ClientOptions& options, std::shared_ptr<grpc::Channel> channel);

  const ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::DatasetService::Stub> datasets_;
  std::unique_ptr<v1::TrainingService::Stub> training_;
  std::unique_ptr<v1::ModelRegistry::Stub> registry_;
  std::unique_ptr<v1::InferenceService::Stub> inference_;
  std::unique_ptr<v1::ServerService::Stub> server_;
  std::unique_ptr<v1::TokenService::Stub> tokens_;
};

}  // namespace mlprod::client
