// What the hostile tests share: the server binary under test, starting it, a client for it, and
// the bounds every flood is held to.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "client/mlprod_client.h"
#include "tests/hostile/flood_watch.h"
#include "tests/hostile/server_process.h"

namespace mlprod::hostile {

// How much slower the server under test is than a release build: the asan preset instruments
// every allocation and access, and its time bounds stretch by this factor. The 1 s bound of
// issue 10, item 7 is a release-build figure.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kSlowdown = 5;
#else
constexpr int kSlowdown = 1;
#endif

// Health must answer every probe within this, whatever the flood (issue 10, item 7).
constexpr double kHealthBoundSeconds = 1.0 * kSlowdown;
// The server's resident memory must stay under this during every flood. The servers here run
// with the default resource quota (--max-memory-mb 256); past it gRPC's reclaimer cuts the
// connection holding the most, but gRPC 1.51 accounts for buffered metadata loosely, and RSS
// reaches about 4x the quota first. Most floods here stay under 100 MiB; the largest peaks
// (~300 MiB for 5 MiB of tiny headers, ~500 MiB for a 10 MB formula accepted and fitted) come
// from input that the server holds whole.
constexpr long kRssBoundMib = 1024;

// The mlprod-server binary, from the --server-bin flag of the test program.
const std::string& ServerBinary();
void SetServerBinary(std::string path);

// Starts the binary with `flags`; fails the test and returns nullptr when it does not start.
std::unique_ptr<ServerProcess> StartServer(const std::vector<std::string>& flags);

// A client of `server` with a `deadline` for each call.
std::unique_ptr<client::MlprodClient> NewClient(const ServerProcess& server,
                                                std::chrono::seconds deadline);

// "RESOURCE_EXHAUSTED" for code 8.
std::string CodeName(grpc::StatusCode code);
// "412 RESOURCE_EXHAUSTED, 3 CANCELLED".
std::string DescribeCodes(const std::map<grpc::StatusCode, int>& codes);

// Uploads `csv` after `header` in chunks of `chunk_bytes` (one message each), with a 60 s
// deadline.
grpc::Status UploadCsv(v1::DatasetService::StubInterface& datasets, const v1::UploadHeader& header,
                       const std::string& csv, size_t chunk_bytes = 1 << 20);
grpc::Status UploadCsv(v1::DatasetService::StubInterface& datasets, const std::string& name,
                       const std::string& csv, size_t chunk_bytes = 1 << 20);

// A small dataset for fits: columns y and x (numeric), b (0/1) and g (three levels).
std::string SmallCsv();

// Fits `formula` on `dataset` (OLS), waits for the run, and registers it as model `model`
// (version 1 on a fresh server). The run's id goes to *run_id when given.
grpc::Status TrainModel(const client::MlprodClient& client, const std::string& dataset,
                        const std::string& formula, const std::string& model,
                        std::string* run_id = nullptr);

// Fails the test when the watch saw a health check fail or exceed kHealthBoundSeconds, or the
// server's RSS pass kRssBoundMib; prints the figures either way.
void ExpectWithinBounds(const std::string& flood, const FloodWatch::Report& report);

// Fails the test when `server` has died, saying how and how its log ends, and starts it again
// so that the next probe still has a server; true when it was alive.
bool ExpectAliveOrRestart(ServerProcess* server, const std::string& after);

// A suite with one mlprod-server for all its tests: the suite's SetUpTestSuite calls
// Start(flags), and each test ends by checking the server survived it (starting it again if not).
class ServerSuite : public ::testing::Test {
 protected:
  static void Start(const std::vector<std::string>& flags);
  static void TearDownTestSuite();
  void SetUp() override;
  void TearDown() override;

  static std::string CurrentTest();

  static ServerProcess* server_;
};

}  // namespace mlprod::hostile
