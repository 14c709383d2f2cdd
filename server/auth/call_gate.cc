#include "server/auth/call_gate.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

#include "registry/registry.h"

namespace mlprod::server {
namespace {

// The verdicts of the calls in flight, by their ServerContext. Sharded so that concurrent calls
// rarely wait on one another.
class VerdictTable {
 public:
  void Put(const void* call, const Result<Caller>* verdict) {
    Shard& s = ShardOf(call);
    std::lock_guard<std::mutex> lock(s.mu);
    s.verdicts[call] = verdict;
  }
  void Erase(const void* call) {
    Shard& s = ShardOf(call);
    std::lock_guard<std::mutex> lock(s.mu);
    s.verdicts.erase(call);
  }
  std::optional<Result<Caller>> Find(const void* call) {
    Shard& s = ShardOf(call);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.verdicts.find(call);
    if (it == s.verdicts.end()) return std::nullopt;
    return *it->second;
  }

 private:
  struct Shard {
    std::mutex mu;
    std::unordered_map<const void*, const Result<Caller>*> verdicts;  // GUARDED_BY(mu)
  };
  Shard& ShardOf(const void* call) {
    return shards_[(reinterpret_cast<uintptr_t>(call) >> 6) % shards_.size()];
  }
  std::array<Shard, 16> shards_;
};

VerdictTable& Verdicts() {
  static VerdictTable* const table = new VerdictTable;  // never destroyed: calls may outlive main
  return *table;
}

std::string_view Find(const ClientMetadata& metadata, std::string_view key) {
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return {};
  return std::string_view(it->second.data(), it->second.size());
}

// The client's own account of who it is, used only with auth off: recorded, never trusted.
std::string ClaimedActor(const ClientMetadata& metadata) {
  const std::string_view actor = Find(metadata, "x-mlprod-actor");
  if (actor.empty() || !registry::ValidateName("actor", actor).ok()) return "anonymous";
  return std::string(actor);
}

}  // namespace

Result<Caller> CallGate::Decide(std::string_view method, const grpc::ServerContextBase& context,
                                const ClientMetadata& metadata) const {
  const std::optional<Access> access = RequiredAccess(method);
  if (!access) {
    return Status::PermissionDenied(
        fmt::format("{} is not in the server's role table, so no one may call it", method));
  }
  if (context.deadline() < std::chrono::system_clock::now()) {
    return Status(StatusCode::kDeadlineExceeded, "the call's deadline passed before it began");
  }
  size_t metadata_bytes = 0;
  for (const auto& [key, value] : metadata) metadata_bytes += key.size() + value.size() + 32;
  if (metadata_bytes > max_metadata_bytes_) {
    return Status::ResourceExhausted(fmt::format(
        "the request's metadata is {} bytes, over the server's limit of {} (--max-metadata-kb)",
        metadata_bytes, max_metadata_bytes_));
  }
  if (access->open) return Caller{ClaimedActor(metadata), Role::kViewer, false};
  if (!auth_->enabled()) return Caller{ClaimedActor(metadata), Role::kAdmin, false};
  MLPROD_ASSIGN_OR_RETURN(TokenIdentity id, auth_->Authenticate(Find(metadata, "authorization")));
  if (id.role < access->role) {
    return Status::PermissionDenied(fmt::format("{} needs the {} role; token '{}' has {}", method,
                                                RoleName(access->role), id.name,
                                                RoleName(id.role)));
  }
  return Caller{std::move(id.name), id.role, true};
}

PublishedVerdict::PublishedVerdict(const grpc::ServerContextBase* call,
                                   const Result<Caller>* verdict)
    : call_(call) {
  Verdicts().Put(call, verdict);
}

PublishedVerdict::~PublishedVerdict() { Verdicts().Erase(call_); }

Result<Caller> CallerOf(const grpc::ServerContextBase& context) {
  std::optional<Result<Caller>> verdict = Verdicts().Find(&context);
  if (!verdict) {
    return Status::PermissionDenied("this call passed no authorization check (the server's call "
                                    "gate is not installed), so it is refused");
  }
  return *std::move(verdict);
}

}  // namespace mlprod::server
