// Stopping the server (SIGTERM's path): new calls are refused at once, calls in flight finish
// within the grace period or are cancelled at its end, and runs end "interrupted".
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "client/mlprod_client.h"
#include "server/mlprod_server.h"
#include "tests/server/loopback_server.h"

namespace mlprod {
namespace {

using Clock = std::chrono::steady_clock;

class ShutdownTest : public testing::LoopbackServerTest {
 protected:
  void SetUp() override {
    LoopbackServerTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(StartServer());
    client_ = ShortClient();
  }

  std::unique_ptr<client::MlprodClient> ShortClient() const {
    client::ClientOptions options;
    options.deadline = std::chrono::seconds(5);
    return NewClient(options);
  }

  // An upload whose header and first rows are sent, and whose end is not.
  struct OpenUpload {
    std::unique_ptr<grpc::ClientContext> context;
    v1::DatasetVersion response;
    std::unique_ptr<grpc::ClientWriter<v1::UploadDatasetRequest>> writer;
  };
  OpenUpload StartUpload(const std::string& name) {
    OpenUpload u;
    u.context = client_->NewContext(std::chrono::seconds(30));
    u.writer = client_->datasets().UploadDataset(u.context.get(), &u.response);
    v1::UploadDatasetRequest message;
    message.mutable_header()->set_name(name);
    EXPECT_TRUE(u.writer->Write(message));
    message.Clear();
    message.set_chunk("y,x\n1,2\n2,3\n");
    EXPECT_TRUE(u.writer->Write(message));
    return u;
  }

  grpc::Status ListDatasets(const client::MlprodClient& c) {
    v1::ListDatasetsResponse list;
    auto context = c.NewContext();
    return c.datasets().ListDatasets(context.get(), {}, &list);
  }

  std::unique_ptr<client::MlprodClient> client_;
};

TEST_F(ShutdownTest, InFlightCallFinishesWithinTheGraceAndNewCallsAreRefused) {
  OpenUpload upload = StartUpload("during-drain");
  // A round trip on the same connection after the upload's first frames: the server has seen the
  // upload's stream before the stop begins, so it counts as in flight.
  ASSERT_TRUE(ListDatasets(*client_).ok());
  const auto started = Clock::now();
  std::thread stopper([this] { server_->Shutdown(/*grace_seconds=*/20); });

  // Once the stop has begun (the stopper thread may start late on a busy machine), nothing new
  // gets in on a new connection, while the upload is still in flight.
  grpc::StatusCode late = grpc::StatusCode::OK;
  for (int attempt = 0; attempt < 100 && late != grpc::StatusCode::UNAVAILABLE; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    late = ListDatasets(*ShortClient()).error_code();
  }
  EXPECT_EQ(late, grpc::StatusCode::UNAVAILABLE);

  // The call in flight completes, and the stop follows it at once rather than at the deadline.
  v1::UploadDatasetRequest message;
  message.set_chunk("3,4\n");
  EXPECT_TRUE(upload.writer->Write(message));
  upload.writer->WritesDone();
  grpc::Status s = upload.writer->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(upload.response.rows(), 3);
  stopper.join();
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(10));
}

TEST_F(ShutdownTest, CallsPastTheGraceAreCancelledAndLeaveNothing) {
  OpenUpload upload = StartUpload("never-finished");
  ASSERT_TRUE(ListDatasets(*client_).ok());  // the upload is in flight (see above)
  const auto started = Clock::now();
  server_->Shutdown(/*grace_seconds=*/1);
  const auto took = Clock::now() - started;
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(5));
  upload.writer->WritesDone();
  EXPECT_FALSE(upload.writer->Finish().ok());

  // Reopened, the data dir has no trace of the cancelled upload.
  ASSERT_NO_FATAL_FAILURE(StartServer());
  auto c = ShortClient();
  v1::ListDatasetsResponse list;
  auto context = c->NewContext();
  ASSERT_TRUE(c->datasets().ListDatasets(context.get(), {}, &list).ok());
  EXPECT_EQ(list.datasets_size(), 0);
}

}  // namespace
}  // namespace mlprod
