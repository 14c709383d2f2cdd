#include "server/registry_service.h"

#include <fmt/format.h>

#include "ml/model.h"
#include "server/auth/call_gate.h"
#include "server/call_context.h"
#include "server/grpc_status.h"
#include "server/run_report.h"

namespace mlprod::server {
namespace {

std::string AliasOrDefault(const std::string& alias) {
  return alias.empty() ? "production" : alias;
}

void ToProto(const registry::ModelVersion& in, v1::ModelVersion* out) {
  out->set_name(in.model);
  out->set_version(in.version);
  out->set_run(in.run_id);
  out->mutable_dataset()->set_name(in.dataset_name);
  out->mutable_dataset()->set_version(in.dataset_version);
  out->set_dataset_sha256(in.dataset_sha256);
  out->set_formula(in.formula);
  out->set_kind(in.kind);
  out->mutable_params()->insert(in.params.begin(), in.params.end());
  out->mutable_metrics()->insert(in.metrics.begin(), in.metrics.end());
  for (const std::string& a : in.aliases) out->add_aliases(a);
  server::ToProto(DecodeSignature(in.signature), out->mutable_signature());
  out->set_description(in.description);
  out->set_created_by(in.created_by);
  SetTimestamp(in.created_at_ms, out->mutable_created_at());
}

void ToProto(const registry::AliasChange& in, v1::AliasChange* out) {
  out->set_name(in.model);
  out->set_alias(in.alias);
  if (in.from_version) out->set_from_version(*in.from_version);
  out->set_to_version(in.to_version);
  out->set_action(in.action);
  out->set_actor(in.actor);
  out->set_reason(in.reason);
  out->set_forced(in.forced);
  SetTimestamp(in.time_ms, out->mutable_time());
}

// Same columns with the same types, in any order; levels may differ.
bool SameSignature(const std::vector<ml::InputColumn>& a, const std::vector<ml::InputColumn>& b) {
  if (a.size() != b.size()) return false;
  for (const ml::InputColumn& col : a) {
    auto match = std::find_if(b.begin(), b.end(), [&](const ml::InputColumn& other) {
      return other.name == col.name && other.type == col.type;
    });
    if (match == b.end()) return false;
  }
  return true;
}

}  // namespace

GateMetric GateMetricFor(const std::string& kind) {
  if (kind == "logistic") return {"test_log_loss", false};
  if (kind == "kmeans") return {"test_silhouette", true};
  return {"test_rmse", false};
}

Status CheckPromotionGate(const registry::ModelVersion& current,
                          const registry::ModelVersion& candidate) {
  if (!SameSignature(DecodeSignature(current.signature), DecodeSignature(candidate.signature))) {
    return Status::FailedPrecondition(fmt::format(
        "version {} takes other input columns than version {} (signature differs); use --force "
        "to promote anyway",
        candidate.version, current.version));
  }
  const GateMetric gate = GateMetricFor(candidate.kind);
  auto cur = current.metrics.find(gate.name);
  auto cand = candidate.metrics.find(gate.name);
  for (const auto* v : {&current, &candidate}) {
    if (v->metrics.find(gate.name) == v->metrics.end()) {
      return Status::FailedPrecondition(fmt::format(
          "the gate cannot be judged: version {} ({}) has no metric {} (train with "
          "--test-fraction); use --force to promote anyway",
          v->version, v->kind, gate.name));
    }
  }
  const bool worse =
      gate.higher_is_better ? cand->second < cur->second : cand->second > cur->second;
  if (worse) {
    return Status::FailedPrecondition(fmt::format(
        "version {} is worse than version {} on {}: {:.6g} {} {:.6g} ({} is better); use "
        "--force to promote anyway",
        candidate.version, current.version, gate.name, cand->second,
        gate.higher_is_better ? "<" : ">", cur->second,
        gate.higher_is_better ? "higher" : "lower"));
  }
  return Status::Ok();
}

grpc::Status ModelRegistryImpl::RegisterModel(grpc::ServerContext* context,
                                              const v1::RegisterModelRequest* request,
                                              v1::ModelVersion* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  Status s = registry::ValidateName("model name", request->name());
  if (s.ok()) s = registry::ValidateName("run id", request->run());
  if (!s.ok()) return ToGrpcStatus(s);
  auto run = registry_->GetRun(request->run());
  if (!run.ok()) return ToGrpcStatus(run.status());
  if (run->status != registry::RunStatus::kSucceeded) {
    return ToGrpcStatus(Status::FailedPrecondition(
        fmt::format("run {} is {}, only a SUCCEEDED run can be registered", run->id,
                    registry::RunStatusName(run->status))));
  }
  // Loading the model proves its bytes serve before a version points at them.
  auto bytes = registry_->ReadRunModel(run->id);
  if (!bytes.ok()) return ToGrpcStatus(bytes.status());
  auto model = ml::DeserializeModel(*bytes);
  if (!model.ok()) {
    return ToGrpcStatus(Status::DataLoss("model of run " + run->id +
                                         " cannot be loaded: " + model.status().message()));
  }
  auto version = registry_->RegisterModelVersion(request->name(), run->id,
                                                 EncodeSignature((*model)->signature()),
                                                 (*model)->formula(),
                                                 request->description(), caller->name);
  if (!version.ok()) return ToGrpcStatus(version.status());
  ToProto(*version, response);
  return grpc::Status::OK;
}

grpc::Status ModelRegistryImpl::ListModels(grpc::ServerContext* context, const v1::ListModelsRequest*,
                                           v1::ListModelsResponse* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto names = registry_->ListModels();
  if (!names.ok()) return ToGrpcStatus(names.status());
  for (const std::string& name : *names) {
    auto versions = registry_->ListModelVersions(name);
    if (!versions.ok()) return ToGrpcStatus(versions.status());
    v1::ModelSummary* summary = response->add_models();
    summary->set_name(name);
    for (const registry::ModelVersion& v : *versions) {
      summary->set_latest_version(std::max(summary->latest_version(), v.version));
      for (const std::string& alias : v.aliases) (*summary->mutable_aliases())[alias] = v.version;
    }
  }
  return grpc::Status::OK;
}

grpc::Status ModelRegistryImpl::GetModel(grpc::ServerContext* context, const v1::GetModelRequest* request,
                                         v1::Model* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  Status s = registry::ValidateName("model name", request->name());
  if (!s.ok()) return ToGrpcStatus(s);
  auto versions = registry_->ListModelVersions(request->name());
  if (!versions.ok()) return ToGrpcStatus(versions.status());
  response->set_name(request->name());
  for (const registry::ModelVersion& v : *versions) ToProto(v, response->add_versions());
  return grpc::Status::OK;
}

grpc::Status ModelRegistryImpl::Promote(grpc::ServerContext* context,
                                        const v1::PromoteRequest* request,
                                        v1::AliasChange* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const std::string alias = AliasOrDefault(request->alias());
  Status s = registry::ValidateName("model name", request->name());
  if (s.ok()) s = registry::ValidateName("alias", alias);
  if (s.ok() && request->version() <= 0) {
    s = Status::InvalidArgument("version must be a positive number");
  }
  if (!s.ok()) return ToGrpcStatus(s);

  auto candidate = registry_->GetModelVersion(request->name(), request->version());
  if (!candidate.ok()) return ToGrpcStatus(candidate.status());
  auto current = registry_->ResolveAlias(request->name(), alias);
  if (!current.ok()) return ToGrpcStatus(current.status());
  if (*current == request->version()) {
    return ToGrpcStatus(Status::FailedPrecondition(fmt::format(
        "alias {} of model {} already points at version {}", alias, request->name(),
        request->version())));
  }
  if (*current && !request->force()) {
    auto incumbent = registry_->GetModelVersion(request->name(), **current);
    if (!incumbent.ok()) return ToGrpcStatus(incumbent.status());
    s = CheckPromotionGate(*incumbent, *candidate);
    if (!s.ok()) return ToGrpcStatus(s);
  }

  registry::MoveAliasRequest move;
  move.model = request->name();
  move.alias = alias;
  move.to_version = request->version();
  move.expected_from = *current;
  move.action = "promote";
  move.reason = request->reason();
  move.forced = request->force();
  move.actor = caller->name;
  auto change = serving_->MoveAlias(move);
  if (!change.ok()) return ToGrpcStatus(change.status());
  ToProto(*change, response);
  return grpc::Status::OK;
}

grpc::Status ModelRegistryImpl::Rollback(grpc::ServerContext* context,
                                         const v1::RollbackRequest* request,
                                         v1::AliasChange* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const std::string alias = AliasOrDefault(request->alias());
  Status s = registry::ValidateName("model name", request->name());
  if (s.ok()) s = registry::ValidateName("alias", alias);
  if (!s.ok()) return ToGrpcStatus(s);

  auto current = registry_->ResolveAlias(request->name(), alias);
  if (!current.ok()) return ToGrpcStatus(current.status());
  if (!*current) {
    return ToGrpcStatus(Status::NotFound(
        fmt::format("model {} has no alias {}; nothing to roll back", request->name(), alias)));
  }

  int target = request->to_version();
  if (target > 0) {
    auto v = registry_->GetModelVersion(request->name(), target);
    if (!v.ok()) return ToGrpcStatus(v.status());
  } else {
    auto history = registry_->History(request->name(), alias);
    if (!history.ok()) return ToGrpcStatus(history.status());
    // The latest change is the one that set the alias to where it points now.
    if (history->empty() || !history->back().from_version) {
      return ToGrpcStatus(Status::FailedPrecondition(fmt::format(
          "alias {} of model {} has no earlier version to roll back to", alias,
          request->name())));
    }
    target = *history->back().from_version;
  }
  if (target == **current) {
    return ToGrpcStatus(Status::FailedPrecondition(fmt::format(
        "alias {} of model {} already points at version {}", alias, request->name(), target)));
  }

  registry::MoveAliasRequest move;
  move.model = request->name();
  move.alias = alias;
  move.to_version = target;
  move.expected_from = *current;
  move.action = "rollback";
  move.reason = request->reason();
  move.actor = caller->name;
  auto change = serving_->MoveAlias(move);
  if (!change.ok()) return ToGrpcStatus(change.status());
  ToProto(*change, response);
  return grpc::Status::OK;
}

grpc::Status ModelRegistryImpl::GetHistory(grpc::ServerContext* context,
                                           const v1::GetHistoryRequest* request,
                                           v1::GetHistoryResponse* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  Status s = registry::ValidateName("model name", request->name());
  if (s.ok() && !request->alias().empty()) s = registry::ValidateName("alias", request->alias());
  if (!s.ok()) return ToGrpcStatus(s);
  std::optional<std::string> alias;
  if (!request->alias().empty()) alias = request->alias();
  auto entries = registry_->History(request->name(), alias);
  if (!entries.ok()) return ToGrpcStatus(entries.status());
  if (alias && entries->empty()) {
    return ToGrpcStatus(
        Status::NotFound(fmt::format("model {} has no alias {}", request->name(), *alias)));
  }
  response->set_name(request->name());
  for (const registry::AliasChange& e : *entries) ToProto(e, response->add_entries());
  return grpc::Status::OK;
}

}  // namespace mlprod::server
