// Http2Connection: a plaintext HTTP/2 client on a raw TCP socket, for what a gRPC client library
// would never send: ping floods, more streams than SETTINGS allow, headers split across
// endless CONTINUATION frames. Just enough of RFC 9113 and RFC 7541 (HPACK literals) for that.
// Thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mlprod::hostile {

// Frame types and flags (RFC 9113 §6).
enum FrameType : uint8_t {
  kData = 0x0,
  kHeaders = 0x1,
  kRstStream = 0x3,
  kSettings = 0x4,
  kPing = 0x6,
  kGoaway = 0x7,
  kWindowUpdate = 0x8,
  kContinuation = 0x9,
};
constexpr uint8_t kFlagAck = 0x1;         // SETTINGS, PING
constexpr uint8_t kFlagEndStream = 0x1;   // DATA, HEADERS
constexpr uint8_t kFlagEndHeaders = 0x4;  // HEADERS, CONTINUATION
// Error codes (RFC 9113 §7).
constexpr uint32_t kRefusedStream = 0x7;
constexpr uint32_t kEnhanceYourCalm = 0xb;

struct Frame {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t stream = 0;
  std::string payload;

  // RST_STREAM and GOAWAY: the error code; GOAWAY: the debug text after it.
  uint32_t ErrorCode() const;
  std::string GoawayDebug() const;
};

class Http2Connection {
 public:
  // Connects to 127.0.0.1:`port` and sends the client preface and an empty SETTINGS frame.
  // With `ack_settings`, the server's SETTINGS are acknowledged as they arrive, as a client
  // must; without, never (a hostile client's choice). Returns nullptr and sets *error when the
  // connection fails.
  static std::unique_ptr<Http2Connection> Open(int port, bool ack_settings, std::string* error);
  ~Http2Connection();

  // Sends one frame; false once the peer has closed the connection or stopped reading for 10 s.
  bool Send(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload);
  bool SendBytes(std::string_view bytes);

  enum class Read { kFrame, kTimeout, kClosed };
  // The next frame from the server within `wait` (SETTINGS are acknowledged here when the
  // connection does so, and still returned).
  Read Next(Frame* frame, std::chrono::milliseconds wait);

  // Bytes sent so far.
  size_t sent_bytes() const { return sent_; }

 private:
  Http2Connection(int fd, bool ack_settings) : fd_(fd), ack_settings_(ack_settings) {}
  // Reads what the socket has (waiting up to `wait`); false at EOF or on a reset.
  bool Fill(std::chrono::milliseconds wait, bool* timed_out);

  const int fd_;
  const bool ack_settings_;
  std::string buffer_;  // bytes received, not yet returned as frames
  size_t sent_ = 0;
};

// What the server sends on a connection until it has been quiet for a while.
struct ServerAnswers {
  std::map<uint32_t, int> resets;       // RST_STREAM frames by error code
  std::map<std::string, int> statuses;  // grpc-status of trailers, "?" when not a plain literal
  int pings_acked = 0;
  std::optional<Frame> goaway;
  bool closed = false;  // the server closed the connection

  int trailers() const;
  // "RST_STREAM 0x7 x900; grpc-status 8 x100; GOAWAY 0xb 'too_many_pings'; closed".
  std::string Describe() const;
};

// Reads frames from `connection` until it has been quiet for `quiet`, closed, or `budget` ends.
ServerAnswers CollectAnswers(Http2Connection* connection, std::chrono::milliseconds quiet,
                             std::chrono::milliseconds budget);

// One HPACK "literal header field without indexing, new name" (RFC 7541 §6.2.2), no Huffman.
std::string HpackLiteral(std::string_view name, std::string_view value);

// The header block of a gRPC request to `path` (e.g. "/grpc.health.v1.Health/Check").
std::string GrpcRequestHeaders(std::string_view path);

}  // namespace mlprod::hostile
