#include "server/call_context.h"

#include "registry/registry.h"

namespace mlprod::server {

std::string ActorOf(const grpc::ServerContext& context) {
  const auto& md = context.client_metadata();
  auto it = md.find("x-mlprod-actor");
  if (it == md.end()) return "anonymous";
  std::string actor(it->second.data(), it->second.size());
  // An actor is recorded, never interpreted; keep it a plain identifier.
  if (!registry::ValidateName("actor", actor).ok()) return "anonymous";
  return actor;
}

void SetTimestamp(int64_t unix_ms, google::protobuf::Timestamp* out) {
  out->set_seconds(unix_ms / 1000);
  out->set_nanos(static_cast<int32_t>((unix_ms % 1000) * 1000000));
}

}  // namespace mlprod::server
