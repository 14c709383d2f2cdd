// Small facts every service handler needs about a call.
#pragma once

#include <cstdint>
#include <string>

#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/server_context.h>

namespace mlprod::server {

// Who makes the call, recorded with every write. Without auth (the default on loopback) it is
// the `x-mlprod-actor` metadata the CLI sends (the local user name), else "anonymous".
std::string ActorOf(const grpc::ServerContext& context);

void SetTimestamp(int64_t unix_ms, google::protobuf::Timestamp* out);

}  // namespace mlprod::server
