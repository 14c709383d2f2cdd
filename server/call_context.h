// Small facts every service handler needs about a call.
#pragma once

#include <cstdint>
#include <string>

#include <google/protobuf/timestamp.pb.h>

namespace mlprod::server {

void SetTimestamp(int64_t unix_ms, google::protobuf::Timestamp* out);

}  // namespace mlprod::server
