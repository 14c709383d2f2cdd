#include "client/mlprod_client.h"

#include <fstream>
#include <sstream>

namespace mlprod::client {

namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  *out = bytes.str();
  return static_cast<bool>(in) && !out->empty();
}

}  // namespace

std::unique_ptr<MlprodClient> MlprodClient::Create(const ClientOptions& options,
                                                   std::string* error) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    *error = "mTLS needs both --tls-cert and --tls-key";
    return nullptr;
  }
  if (options.tls_ca_file.empty() && options.tls_cert_file.empty()) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    // Without --tls-ca, the server's certificate is checked against the system's roots.
    grpc::SslCredentialsOptions ssl;
    const std::pair<const std::string*, std::string*> files[] = {
        {&options.tls_ca_file, &ssl.pem_root_certs},
        {&options.tls_cert_file, &ssl.pem_cert_chain},
        {&options.tls_key_file, &ssl.pem_private_key}};
    for (const auto& [path, pem] : files) {
      if (!path->empty() && !ReadFile(*path, pem)) {
        *error = "cannot read TLS file " + *path;
        return nullptr;
      }
    }
    credentials = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  args.SetMaxSendMessageSize(64 * 1024 * 1024);
  // Redial soon after a failed connect (gRPC's default first backoff is 1 s); see Connect.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  auto channel = grpc::CreateCustomChannel(options.server, credentials, args);
  return std::unique_ptr<MlprodClient>(new MlprodClient(options, std::move(channel)));
}

MlprodClient::MlprodClient(const ClientOptions& options, std::shared_ptr<grpc::Channel> channel)
    : options_(options),
      channel_(std::move(channel)),
      datasets_(v1::DatasetService::NewStub(channel_)),
      training_(v1::TrainingService::NewStub(channel_)),
      registry_(v1::ModelRegistry::NewStub(channel_)),
      inference_(v1::InferenceService::NewStub(channel_)),
      server_(v1::ServerService::NewStub(channel_)),
      tokens_(v1::TokenService::NewStub(channel_)) {}

bool MlprodClient::Connect(std::chrono::milliseconds budget) const {
  return channel_->WaitForConnected(std::chrono::system_clock::now() + budget);
}

std::unique_ptr<grpc::ClientContext> MlprodClient::NewContext(std::chrono::seconds deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  const auto timeout = deadline.count() > 0 ? deadline : options_.deadline;
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  if (!options_.token.empty()) context->AddMetadata("authorization", "Bearer " + options_.token);
  if (!options_.actor.empty()) context->AddMetadata("x-mlprod-actor", options_.actor);
  return context;
}

grpc::Status MlprodClient::UploadFile(const v1::UploadHeader& header, const std::string& path,
                                      v1::DatasetVersion* response) const {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "cannot read file " + path);
  }
  auto context = NewContext(std::chrono::seconds(3600));
  auto writer = datasets_->UploadDataset(context.get(), response);
  v1::UploadDatasetRequest message;
  *message.mutable_header() = header;
  bool open = writer->Write(message);
  std::string chunk(1 << 20, '\0');
  while (open && in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const std::streamsize n = in.gcount();
    if (n <= 0) break;
    message.set_chunk(chunk.data(), static_cast<size_t>(n));
    open = writer->Write(message);
  }
  if (in.bad()) {  // a read error part-way: send no partial file
    context->TryCancel();
    writer->Finish();
    return grpc::Status(grpc::StatusCode::INTERNAL, "error reading file " + path);
  }
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status MlprodClient::WatchRun(const std::string& run_id,
                                    const std::function<void(const v1::RunEvent&)>& on_event,
                                    v1::Run* last) const {
  auto context = NewContext(std::chrono::seconds(7 * 24 * 3600));
  v1::GetRunRequest request;
  request.set_id(run_id);
  auto reader = training_->WatchRun(context.get(), request);
  v1::RunEvent event;
  while (reader->Read(&event)) {
    on_event(event);
    *last = event.run();
  }
  return reader->Finish();
}

}  // namespace mlprod::client
