#include "server/serving_models.h"

#include <algorithm>
#include <charconv>

namespace mlprod::server {

Result<ServingModels::Handle> ServingModels::Resolve(std::string_view reference) {
  std::string name(reference);
  std::string selector = "production";
  if (auto at = reference.find('@'); at != std::string_view::npos) {
    name = std::string(reference.substr(0, at));
    selector = std::string(reference.substr(at + 1));
  }
  MLPROD_RETURN_IF_ERROR(registry::ValidateName("model name", name));
  if (selector.empty()) {
    return Status::InvalidArgument("model reference '" + std::string(reference) +
                                   "' has nothing after '@'");
  }

  int version = 0;
  const bool numeric = std::all_of(selector.begin(), selector.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
  if (numeric) {
    auto [end, ec] = std::from_chars(selector.data(), selector.data() + selector.size(), version);
    if (ec != std::errc() || version <= 0) {
      return Status::InvalidArgument("model version must be a positive number, got '" + selector +
                                     "'");
    }
  } else {
    MLPROD_RETURN_IF_ERROR(registry::ValidateName("alias", selector));
    MLPROD_ASSIGN_OR_RETURN(std::optional<int> target, AliasTarget(AliasKey(name, selector)));
    if (!target) {
      return Status::NotFound("model '" + name + "' has no alias '" + selector + "'");
    }
    version = *target;
  }
  MLPROD_ASSIGN_OR_RETURN(auto model, Load(name, version));
  return Handle{name, version, std::move(model)};
}

Result<std::shared_ptr<const ml::Model>> ServingModels::Load(const std::string& name,
                                                             int version) {
  const auto key = std::make_pair(name, version);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = models_.find(key);
    if (it != models_.end()) return it->second;
  }
  // Load outside the lock so a slow load does not stall requests for loaded versions.
  MLPROD_ASSIGN_OR_RETURN(registry::ModelVersion mv, registry_->GetModelVersion(name, version));
  MLPROD_ASSIGN_OR_RETURN(std::string bytes, registry_->ReadRunModel(mv.run_id));
  auto model = ml::DeserializeModel(bytes);
  if (!model.ok()) {
    return Status::DataLoss("model " + name + " version " + std::to_string(version) +
                            " cannot be loaded: " + model.status().message());
  }
  std::lock_guard<std::mutex> lock(mu_);
  return models_.emplace(key, std::move(model).value()).first->second;
}

Result<std::optional<int>> ServingModels::AliasTarget(const AliasKey& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = aliases_.find(key);
    if (it != aliases_.end()) return std::optional<int>(it->second);
  }
  std::lock_guard<std::mutex> write(alias_write_mu_);
  MLPROD_ASSIGN_OR_RETURN(std::optional<int> target, registry_->ResolveAlias(key.first, key.second));
  if (target) {
    std::lock_guard<std::mutex> lock(mu_);
    aliases_[key] = *target;
  }
  return target;
}

Result<registry::AliasChange> ServingModels::MoveAlias(const registry::MoveAliasRequest& request) {
  MLPROD_RETURN_IF_ERROR(Load(request.model, request.to_version).status());
  const AliasKey key(request.model, request.alias);
  std::lock_guard<std::mutex> write(alias_write_mu_);
  Result<registry::AliasChange> change = registry_->MoveAlias(request);
  std::lock_guard<std::mutex> lock(mu_);
  if (change.ok()) {
    aliases_[key] = change->to_version;
  } else {
    aliases_.erase(key);  // whatever the registry holds now, the next request reads it
  }
  return change;
}

int ServingModels::loaded() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(models_.size());
}

}  // namespace mlprod::server
