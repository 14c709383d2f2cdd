#include "tests/hostile/hostile_support.h"

#include "ml/status.h"

namespace mlprod::hostile {

namespace {
std::string& ServerBinaryPath() {
  static std::string path;
  return path;
}
}  // namespace

const std::string& ServerBinary() { return ServerBinaryPath(); }
void SetServerBinary(std::string path) { ServerBinaryPath() = std::move(path); }

std::unique_ptr<ServerProcess> StartServer(const std::vector<std::string>& flags) {
  std::string error;
  auto server = ServerProcess::Start(ServerBinary(), flags, &error);
  if (server == nullptr) ADD_FAILURE() << "cannot start mlprod-server: " << error;
  return server;
}

std::unique_ptr<client::MlprodClient> NewClient(const ServerProcess& server,
                                                std::chrono::seconds deadline) {
  client::ClientOptions options;
  options.server = server.address();
  options.deadline = deadline;
  std::string error;
  auto client = client::MlprodClient::Create(options, &error);
  if (client == nullptr) ADD_FAILURE() << "client: " << error;
  return client;
}

std::string CodeName(grpc::StatusCode code) {
  return std::string(StatusCodeName(static_cast<StatusCode>(code)));
}

std::string DescribeCodes(const std::map<grpc::StatusCode, int>& codes) {
  std::string text;
  for (const auto& [code, count] : codes) {
    if (!text.empty()) text += ", ";
    text += std::to_string(count) + " " + CodeName(code);
  }
  return text.empty() ? "none" : text;
}

grpc::Status UploadCsv(v1::DatasetService::StubInterface& datasets, const v1::UploadHeader& header,
                       const std::string& csv, size_t chunk_bytes) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::DatasetVersion reply;
  auto writer = datasets.UploadDataset(&context, &reply);
  v1::UploadDatasetRequest message;
  *message.mutable_header() = header;
  bool open = writer->Write(message);
  for (size_t at = 0; open && at < csv.size(); at += chunk_bytes) {
    message.set_chunk(csv.substr(at, chunk_bytes));
    open = writer->Write(message);
  }
  writer->WritesDone();
  return writer->Finish();
}

grpc::Status UploadCsv(v1::DatasetService::StubInterface& datasets, const std::string& name,
                       const std::string& csv, size_t chunk_bytes) {
  v1::UploadHeader header;
  header.set_name(name);
  return UploadCsv(datasets, header, csv, chunk_bytes);
}

std::string SmallCsv() {
  std::string csv = "y,x,b,g\n";
  for (int i = 0; i < 40; ++i) {
    const double x = i * 0.5;
    csv += std::to_string(1.5 + 2 * x + (i % 3) * 0.25) + "," + std::to_string(x) + "," +
           std::to_string(i % 2) + "," + "abc"[i % 3] + "\n";
  }
  return csv;
}

grpc::Status TrainModel(const client::MlprodClient& client, const std::string& dataset,
                        const std::string& formula, const std::string& model, std::string* run_id) {
  v1::SubmitRunRequest submit;
  submit.mutable_dataset()->set_name(dataset);
  submit.set_formula(formula);
  v1::Run run;
  grpc::Status status = client.training().SubmitRun(client.NewContext().get(), submit, &run);
  if (!status.ok()) return status;
  if (run_id != nullptr) *run_id = run.id();
  v1::Run last;
  status = client.WatchRun(
      run.id(), [](const v1::RunEvent&) {}, &last);
  if (!status.ok()) return status;
  if (last.status() != v1::RUN_STATUS_SUCCEEDED) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "run failed: " + last.error());
  }
  v1::RegisterModelRequest request;
  request.set_name(model);
  request.set_run(run.id());
  v1::ModelVersion version;
  return client.registry().RegisterModel(client.NewContext().get(), request, &version);
}

void ExpectWithinBounds(const std::string& flood, const FloodWatch::Report& report) {
  PrintReport(flood, report);
  EXPECT_GT(report.checks, 0) << flood << ": no health check ran";
  EXPECT_EQ(report.failures, 0) << flood << ": health failed, first: " << report.first_failure;
  EXPECT_LT(report.worst_seconds, kHealthBoundSeconds) << flood << ": health too slow";
  EXPECT_LT(report.peak_rss_kib, kRssBoundMib * 1024) << flood << ": server RSS unbounded";
}

bool ExpectAliveOrRestart(ServerProcess* server, const std::string& after) {
  std::string how;
  if (server->Alive(&how)) return true;
  ADD_FAILURE() << "mlprod-server died after " << after << ": " << how << "; its log ends:\n"
                << server->LogTail(1500);
  std::string error;
  if (!server->Restart(&error)) ADD_FAILURE() << "cannot restart mlprod-server: " << error;
  return false;
}

ServerProcess* ServerSuite::server_ = nullptr;

void ServerSuite::Start(const std::vector<std::string>& flags) {
  server_ = StartServer(flags).release();
}

void ServerSuite::TearDownTestSuite() {
  delete server_;
  server_ = nullptr;
}

void ServerSuite::SetUp() { ASSERT_NE(server_, nullptr); }

void ServerSuite::TearDown() { ExpectAliveOrRestart(server_, CurrentTest()); }

std::string ServerSuite::CurrentTest() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->name();
}

}  // namespace mlprod::hostile
