// ServingModels: the loaded, immutable model versions that predictions run on.
//
// Loading a version (read blob, deserialise) is apart from serving it, as in TensorFlow Serving:
// Promote and Rollback load the target before they move the alias, and a request holds a
// shared_ptr to the version it resolved for its whole life, so moving an alias never tears a
// request nor answers it with a mix of versions. Versions are immutable: a loaded one never goes
// stale.
//
// Aliases are resolved from memory too, so a prediction never waits on SQLite (nor on a promote's
// fsync): the first request for NAME@ALIAS reads the registry, and every later move of that alias
// goes through MoveAlias here, which updates the table right after the registry commits. That
// holds while this process is the registry's only writer (embedded SQLite); replicas sharing one
// registry will need the table refreshed from it. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ml/model.h"
#include "registry/registry.h"

namespace mlprod::server {

class ServingModels {
 public:
  explicit ServingModels(registry::Registry* registry) : registry_(registry) {}

  struct Handle {
    std::string name;
    int version = 0;
    std::shared_ptr<const ml::Model> model;
  };

  // Resolves "NAME" (alias production), "NAME@ALIAS" or "NAME@N" to a loaded version.
  // INVALID_ARGUMENT for a malformed reference; NOT_FOUND for an unknown model or version, or an
  // alias that is not set.
  Result<Handle> Resolve(std::string_view reference);

  // The loaded `name`@`version`, loading it first when needed.
  Result<std::shared_ptr<const ml::Model>> Load(const std::string& name, int version);

  // Loads the target version, then moves the alias in the registry (its compare-and-swap and
  // history entry) and in the table requests resolve through. The only way this server moves
  // an alias.
  Result<registry::AliasChange> MoveAlias(const registry::MoveAliasRequest& request);

  int loaded() const;

 private:
  using AliasKey = std::pair<std::string, std::string>;  // (model, alias)

  // The version `key` points at: from the table, or read from the registry and remembered.
  Result<std::optional<int>> AliasTarget(const AliasKey& key);

  registry::Registry* const registry_;
  // Held across a registry read or write of an alias and the table update that follows, so the
  // table ends as the registry's last committed state whatever the interleaving.
  std::mutex alias_write_mu_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const ml::Model>> models_;  // GUARDED_BY(mu_)
  std::map<AliasKey, int> aliases_;  // GUARDED_BY(mu_); set aliases only
};

}  // namespace mlprod::server
