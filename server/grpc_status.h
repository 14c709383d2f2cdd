// The one place an mlprod::Status becomes a grpc::Status (codes are numbered alike).
#pragma once

#include <string>

#include <grpcpp/support/status.h>

#include "ml/status.h"

namespace mlprod::server {

// Longest status message sent: a message that quotes a client's input (a 10 MB delimiter, a
// cell) must not come back whole, nor fill the log.
constexpr size_t kMaxStatusMessageBytes = 1024;

// `message` cut to `limit` bytes at a UTF-8 character boundary, saying how much was cut.
inline std::string Shortened(const std::string& message, size_t limit = kMaxStatusMessageBytes) {
  if (message.size() <= limit) return message;
  size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80) --end;
  return message.substr(0, end) + "… (" + std::to_string(message.size() - end) +
         " more bytes)";
}

inline grpc::Status ToGrpcStatus(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), Shortened(s.message()));
}

}  // namespace mlprod::server
