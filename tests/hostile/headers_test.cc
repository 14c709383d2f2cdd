// Oversized request metadata against the real mlprod-server with its default limits (16 KiB of
// metadata a call): through the gRPC client, and as raw header blocks split over CONTINUATION
// frames, which gRPC 1.51 buffers whole before it checks the limit, and then checks frame by
// frame (CVE-2023-33953). Each call is refused, health answers within 1 s, and the server's
// memory stays bounded.
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/hostile/flood_watch.h"
#include "tests/hostile/hostile_support.h"
#include "tests/hostile/http2_connection.h"

namespace mlprod::hostile {
namespace {

using std::chrono::seconds;

constexpr size_t kFiveMib = size_t{5} << 20;

class HeadersTest : public ServerSuite {
 protected:
  static void SetUpTestSuite() { Start({}); }

  // One GetStatus through the gRPC client with `metadata` added.
  grpc::Status GetStatusWith(const std::vector<std::pair<std::string, std::string>>& metadata) {
    auto client = NewClient(*server_, seconds(10 * kSlowdown));
    auto context = client->NewContext();
    for (const auto& [key, value] : metadata) context->AddMetadata(key, value);
    v1::ServerStatus status;
    return client->server().GetStatus(context.get(), v1::GetStatusRequest(), &status);
  }

  // A whole GetStatus call on a raw connection: the header block `extra` after the request's
  // own headers, split into 16 KiB frames (the default SETTINGS_MAX_FRAME_SIZE), then an empty
  // request message. A server that accepts the headers answers grpc-status 0.
  ServerAnswers RawGetStatusWith(const std::string& extra) {
    std::string error;
    auto connection = Http2Connection::Open(server_->port(), /*ack_settings=*/true, &error);
    EXPECT_NE(connection, nullptr) << error;
    if (connection == nullptr) return {};
    const std::string block = GrpcRequestHeaders("/mlprod.v1.ServerService/GetStatus") + extra;
    constexpr size_t kFrameBytes = 16384;
    bool open = true;
    for (size_t at = 0; open && at < block.size(); at += kFrameBytes) {
      const uint8_t end_headers = at + kFrameBytes >= block.size() ? kFlagEndHeaders : 0;
      open = connection->Send(at == 0 ? kHeaders : kContinuation, end_headers, 1,
                              std::string_view(block).substr(at, kFrameBytes));
    }
    // A message of 0 bytes (gRPC framing: not compressed, length 0), and the end of the request.
    if (open) connection->Send(kData, kFlagEndStream, 1, std::string(5, '\0'));
    // Parsing a 5 MiB block takes gRPC 1.51 a few seconds of CPU on a loaded machine.
    return CollectAnswers(connection.get(), seconds(5 * kSlowdown), seconds(30 * kSlowdown));
  }

  // Sends `extra` in a raw GetStatus (see above) while health and memory are watched, and
  // expects the call refused: reset, RESOURCE_EXHAUSTED, or its connection cut.
  void ExpectRawBlockRefused(const std::string& flood, const std::string& extra) {
    FloodWatch watch(*server_);
    const ServerAnswers answers = RawGetStatusWith(extra);
    const FloodWatch::Report report = watch.Stop();
    std::printf("[hostile] %s: %s\n", flood.c_str(), answers.Describe().c_str());
    ExpectWithinBounds(flood, report);
    EXPECT_EQ(answers.statuses.count("0"), 0u) << "served: " << answers.Describe();
    EXPECT_TRUE(answers.statuses.count("8") != 0 || !answers.resets.empty() || answers.closed)
        << answers.Describe();
  }
};

TEST_F(HeadersTest, FiveMebibyteHeaderIsResourceExhausted) {
  FloodWatch watch(*server_);
  const grpc::Status status = GetStatusWith({{"x-junk", std::string(kFiveMib, 'a')}});
  const FloodWatch::Report report = watch.Stop();
  std::printf("[hostile] 5 MiB header through the gRPC client: %s (%s)\n",
              CodeName(status.error_code()).c_str(), status.error_message().c_str());
  ExpectWithinBounds("5 MiB header, gRPC client", report);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(HeadersTest, ThousandsOfSmallHeadersAreResourceExhausted) {
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 5000; ++i) many.emplace_back("x-junk-" + std::to_string(i), "v");
  FloodWatch watch(*server_);
  const grpc::Status status = GetStatusWith(many);
  const FloodWatch::Report report = watch.Stop();
  std::printf("[hostile] 5000 small headers through the gRPC client: %s (%s)\n",
              CodeName(status.error_code()).c_str(), status.error_message().c_str());
  ExpectWithinBounds("5000 small headers, gRPC client", report);
  // Refused either way: a stream reset, or (about one run in three) the connection cut while the
  // client is still writing, which it reports as UNAVAILABLE "Broken pipe".
  EXPECT_TRUE(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
              status.error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEST_F(HeadersTest, FiveMebibyteValueOverContinuationFramesIsRefused) {
  ExpectRawBlockRefused("5 MiB header value over 320 CONTINUATION frames",
                        HpackLiteral("x-junk", std::string(kFiveMib, 'a')));
}

TEST_F(HeadersTest, FiveMebibytesOfTinyHeadersOverContinuationFramesAreRefused) {
  // 700 000 headers "a: 1". gRPC 1.51 checks the metadata limit frame by frame and holds about
  // 50 bytes of memory for each byte of them, until the resource quota's reclaimer cuts the
  // connection (CVE-2023-33953; fixed upstream in 1.53.2 and 1.56.2): the quota
  // (--max-memory-mb) is what bounds the server's memory here.
  std::string tiny;
  while (tiny.size() < kFiveMib) tiny += HpackLiteral("a", "1");
  ExpectRawBlockRefused("5 MiB of tiny headers over 320 CONTINUATION frames", tiny);
}

}  // namespace
}  // namespace mlprod::hostile
