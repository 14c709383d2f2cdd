#include "server/call_context.h"

namespace mlprod::server {

void SetTimestamp(int64_t unix_ms, google::protobuf::Timestamp* out) {
  out->set_seconds(unix_ms / 1000);
  out->set_nanos(static_cast<int32_t>((unix_ms % 1000) * 1000000));
}

}  // namespace mlprod::server
