// Requests sized to the limits against the real mlprod-server, started with small ones so that
// the test stays fast: --max-message-mb 4 --max-upload-mb 8 --max-predict-rows 1000. At the
// limit the request is served; one byte or row over, it is RESOURCE_EXHAUSTED; either way health
// answers within 1 s and the server's memory stays bounded.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/hostile/flood_watch.h"
#include "tests/hostile/hostile_support.h"

namespace mlprod::hostile {
namespace {

using std::chrono::seconds;

constexpr size_t kMaxMessage = size_t{4} << 20;
constexpr size_t kMaxUpload = size_t{8} << 20;
constexpr int kMaxPredictRows = 1000;

// A CSV of exactly `size` bytes (at least 12): columns y and x, rows "1,2".
std::string CsvOfSize(size_t size) {
  std::string csv = "y,x\n";
  csv.reserve(size);
  while (csv.size() + 8 <= size) csv += "1,2\n";
  const size_t rest = size - csv.size();  // 4 to 7 bytes: one last row "1,7..."
  csv += "1," + std::string(rest - 3, '7') + "\n";
  return csv;
}

class LimitsTest : public ServerSuite {
 protected:
  static void SetUpTestSuite() {
    Start({"--max-message-mb", std::to_string(kMaxMessage >> 20), "--max-upload-mb",
           std::to_string(kMaxUpload >> 20), "--max-predict-rows",
           std::to_string(kMaxPredictRows)});
  }
  void SetUp() override {
    ServerSuite::SetUp();
    client_ = NewClient(*server_, seconds(60));
    watch_ = std::make_unique<FloodWatch>(*server_);
  }
  void TearDown() override {
    ExpectWithinBounds(CurrentTest(), watch_->Stop());
    ServerSuite::TearDown();
  }

  // One UploadDataset whose CSV `csv` travels in messages of `chunk_bytes`.
  grpc::Status Upload(const std::string& name, const std::string& csv, size_t chunk_bytes) {
    const grpc::Status status = UploadCsv(client_->datasets(), name, csv, chunk_bytes);
    std::printf("[hostile] upload of %zu bytes in chunks of %zu: %s %s\n", csv.size(), chunk_bytes,
                CodeName(status.error_code()).c_str(), status.error_message().c_str());
    return status;
  }

  std::unique_ptr<client::MlprodClient> client_;
  std::unique_ptr<FloodWatch> watch_;
};

TEST_F(LimitsTest, MessageAtTheLimitIsServedAndOneByteMoreIsResourceExhausted) {
  // An UploadDatasetRequest holding a chunk of n bytes is n + 5 bytes on the wire (tag and a
  // 4-byte length).
  EXPECT_TRUE(Upload("under", CsvOfSize(kMaxMessage - 5), kMaxMessage).ok());
  EXPECT_EQ(Upload("over", CsvOfSize(kMaxMessage - 4), kMaxMessage).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(LimitsTest, UploadAtTheLimitIsServedAndOneByteMoreIsResourceExhausted) {
  EXPECT_TRUE(Upload("at-limit", CsvOfSize(kMaxUpload), 1 << 20).ok());
  EXPECT_EQ(Upload("over-limit", CsvOfSize(kMaxUpload + 1), 1 << 20).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(LimitsTest, PredictAtTheRowLimitIsServedAndOneRowMoreIsResourceExhausted) {
  ASSERT_TRUE(UploadCsv(client_->datasets(), "small", SmallCsv()).ok());
  const grpc::Status trained = TrainModel(*client_, "small", "y ~ x", "limits");
  ASSERT_TRUE(trained.ok()) << trained.error_message();
  v1::PredictRequest request;
  request.set_model("limits@1");
  for (int i = 0; i < kMaxPredictRows; ++i) (*request.add_rows()->mutable_fields())["x"] = "1.5";
  v1::PredictResponse response;
  grpc::Status status =
      client_->inference().Predict(client_->NewContext().get(), request, &response);
  std::printf("[hostile] predict of %d rows: %s\n", request.rows_size(),
              CodeName(status.error_code()).c_str());
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.predictions_size(), kMaxPredictRows);

  *request.add_rows() = request.rows(0);
  status = client_->inference().Predict(client_->NewContext().get(), request, &response);
  std::printf("[hostile] predict of %d rows: %s %s\n", request.rows_size(),
              CodeName(status.error_code()).c_str(), status.error_message().c_str());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace mlprod::hostile
