#include "tests/hostile/http2_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace mlprod::hostile {
namespace {

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr size_t kFrameHeaderBytes = 9;

uint32_t Big32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 3]));
}

// HPACK integer with an N-bit prefix (RFC 7541 §5.1), the prefix's high bits being `first`.
void AppendHpackInt(uint8_t first, int prefix_bits, size_t value, std::string* out) {
  const size_t max_prefix = (size_t{1} << prefix_bits) - 1;
  if (value < max_prefix) {
    out->push_back(static_cast<char>(first | value));
    return;
  }
  out->push_back(static_cast<char>(first | max_prefix));
  value -= max_prefix;
  while (value >= 128) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void AppendHpackString(std::string_view s, std::string* out) {
  AppendHpackInt(0x00, 7, s.size(), out);  // H = 0: no Huffman coding
  out->append(s);
}

}  // namespace

uint32_t Frame::ErrorCode() const {
  if (type == kRstStream && payload.size() >= 4) return Big32(payload, 0);
  if (type == kGoaway && payload.size() >= 8) return Big32(payload, 4);
  return 0;
}

std::string Frame::GoawayDebug() const {
  return type == kGoaway && payload.size() > 8 ? payload.substr(8) : std::string();
}

std::unique_ptr<Http2Connection> Http2Connection::Open(int port, bool ack_settings,
                                                       std::string* error) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return nullptr;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    *error = std::string("connect: ") + strerror(errno);
    close(fd);
    return nullptr;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // A server that stops reading without closing must fail a send, not hang the test.
  timeval send_timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
  std::unique_ptr<Http2Connection> c(new Http2Connection(fd, ack_settings));
  if (!c->SendBytes(std::string_view(kPreface, sizeof(kPreface) - 1)) ||
      !c->Send(kSettings, 0, 0, "")) {
    *error = "the server closed the connection during the preface";
    return nullptr;
  }
  return c;
}

Http2Connection::~Http2Connection() { close(fd_); }

bool Http2Connection::Send(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  std::string frame;
  frame.reserve(kFrameHeaderBytes + payload.size());
  const size_t n = payload.size();
  frame.push_back(static_cast<char>(n >> 16));
  frame.push_back(static_cast<char>(n >> 8));
  frame.push_back(static_cast<char>(n));
  frame.push_back(static_cast<char>(type));
  frame.push_back(static_cast<char>(flags));
  for (int shift : {24, 16, 8, 0}) frame.push_back(static_cast<char>((stream >> shift) & 0xff));
  frame.append(payload);
  return SendBytes(frame);
}

bool Http2Connection::SendBytes(std::string_view bytes) {
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a server that hangs up must fail the send, not kill the test with SIGPIPE.
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent_ += static_cast<size_t>(n);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool Http2Connection::Fill(std::chrono::milliseconds wait, bool* timed_out) {
  *timed_out = false;
  pollfd p{fd_, POLLIN, 0};
  const int ready = poll(&p, 1, static_cast<int>(wait.count()));
  if (ready == 0) {
    *timed_out = true;
    return true;
  }
  char chunk[64 * 1024];
  const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<size_t>(n));
  return true;
}

Http2Connection::Read Http2Connection::Next(Frame* frame, std::chrono::milliseconds wait) {
  const auto end = std::chrono::steady_clock::now() + wait;
  while (true) {
    if (buffer_.size() >= kFrameHeaderBytes) {
      const size_t length = (static_cast<size_t>(static_cast<uint8_t>(buffer_[0])) << 16) |
                            (static_cast<size_t>(static_cast<uint8_t>(buffer_[1])) << 8) |
                            static_cast<uint8_t>(buffer_[2]);
      if (buffer_.size() >= kFrameHeaderBytes + length) {
        frame->type = static_cast<uint8_t>(buffer_[3]);
        frame->flags = static_cast<uint8_t>(buffer_[4]);
        frame->stream = Big32(buffer_, 5) & 0x7fffffff;
        frame->payload = buffer_.substr(kFrameHeaderBytes, length);
        buffer_.erase(0, kFrameHeaderBytes + length);
        if (ack_settings_ && frame->type == kSettings && (frame->flags & kFlagAck) == 0) {
          Send(kSettings, kFlagAck, 0, "");
        }
        return Read::kFrame;
      }
    }
    // A wait of 0 still takes what the socket already holds.
    const auto left = std::max(std::chrono::milliseconds(0),
                               std::chrono::duration_cast<std::chrono::milliseconds>(
                                   end - std::chrono::steady_clock::now()));
    bool timed_out = false;
    if (!Fill(left, &timed_out)) return Read::kClosed;
    if (timed_out) return Read::kTimeout;
  }
}

namespace {

// The grpc-status in a trailers block. gRPC 1.51 writes it as a literal (the name, then a short
// plain value) the first time on a connection, and as an index into the connection's dynamic
// table later; the latter, and Huffman-coded values, read as "?".
std::string GrpcStatusIn(const std::string& block) {
  const std::string name = "grpc-status";
  const size_t at = block.find(name);
  if (at == std::string::npos || at + name.size() >= block.size()) return "?";
  const auto length = static_cast<uint8_t>(block[at + name.size()]);
  if ((length & 0x80) != 0 || at + name.size() + 1 + length > block.size()) return "?";
  return block.substr(at + name.size() + 1, length);
}

}  // namespace

int ServerAnswers::trailers() const {
  int n = 0;
  for (const auto& [status, count] : statuses) n += count;
  return n;
}

std::string ServerAnswers::Describe() const {
  char hex[16];
  std::string text;
  for (const auto& [code, count] : resets) {
    std::snprintf(hex, sizeof(hex), "0x%x", code);
    text += std::string("RST_STREAM ") + hex + " x" + std::to_string(count) + "; ";
  }
  for (const auto& [status, count] : statuses) {
    text += "grpc-status " + status + " x" + std::to_string(count) + "; ";
  }
  if (goaway) {
    std::snprintf(hex, sizeof(hex), "0x%x", goaway->ErrorCode());
    text += std::string("GOAWAY ") + hex + " '" + goaway->GoawayDebug() + "'; ";
  }
  return text + (closed ? "closed" : "left open");
}

ServerAnswers CollectAnswers(Http2Connection* connection, std::chrono::milliseconds quiet,
                             std::chrono::milliseconds budget) {
  ServerAnswers answers;
  const auto end = std::chrono::steady_clock::now() + budget;
  Frame frame;
  do {
    const Http2Connection::Read read = connection->Next(&frame, quiet);
    if (read == Http2Connection::Read::kClosed) {
      answers.closed = true;
      break;
    }
    if (read == Http2Connection::Read::kTimeout) break;
    if (frame.type == kRstStream) ++answers.resets[frame.ErrorCode()];
    if (frame.type == kHeaders && (frame.flags & kFlagEndStream) != 0) {
      ++answers.statuses[GrpcStatusIn(frame.payload)];
    }
    if (frame.type == kPing && (frame.flags & kFlagAck) != 0) ++answers.pings_acked;
    if (frame.type == kGoaway) answers.goaway = frame;
  } while (std::chrono::steady_clock::now() < end);
  return answers;
}

std::string HpackLiteral(std::string_view name, std::string_view value) {
  std::string out;
  out.push_back(0x00);
  AppendHpackString(name, &out);
  AppendHpackString(value, &out);
  return out;
}

std::string GrpcRequestHeaders(std::string_view path) {
  return HpackLiteral(":method", "POST") + HpackLiteral(":scheme", "http") +
         HpackLiteral(":path", path) + HpackLiteral(":authority", "127.0.0.1") +
         HpackLiteral("content-type", "application/grpc") + HpackLiteral("te", "trailers");
}

}  // namespace mlprod::hostile
