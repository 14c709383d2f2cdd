// ServingModels: the loaded, immutable model versions that predictions run on.
//
// Loading a version (read blob, deserialise) is apart from serving it, as in TensorFlow Serving:
// Promote and Rollback load the target before they move the alias, and a request holds a
// shared_ptr to the version it resolved for its whole life, so moving an alias never tears a
// request nor answers it with a mix of versions. Versions are immutable: a loaded one never goes
// stale. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
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

  int loaded() const;

 private:
  registry::Registry* const registry_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const ml::Model>> models_;  // GUARDED_BY(mu_)
};

}  // namespace mlprod::server
