// DatasetCache: dataset versions read into memory, shared by training runs, describe and head so
// a version's column file is read once per server life. Versions are immutable, so entries
// never go stale.
//
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "ml/csv_reader.h"
#include "ml/frame.h"
#include "registry/registry.h"

namespace mlprod::server {

// The parse options stored with a dataset version, as JSON, and back.
std::string EncodeCsvOptions(const ml::CsvOptions& options);
Result<ml::CsvOptions> DecodeCsvOptions(std::string_view json);

class DatasetCache {
 public:
  explicit DatasetCache(registry::Registry* registry) : registry_(registry) {}

  // The frame of `name@version`. NOT_FOUND for an unknown version; DATA_LOSS when the stored
  // bytes cannot be read back.
  Result<std::shared_ptr<const ml::Frame>> Get(const registry::DatasetVersion& version);

  // Forgets a deleted version (runs holding its frame keep it until they finish).
  void Forget(const std::string& name, int version);

 private:
  registry::Registry* const registry_;
  std::mutex mu_;
  std::map<std::pair<std::string, int>, std::shared_ptr<const ml::Frame>> frames_;  // GUARDED_BY(mu_)
};

}  // namespace mlprod::server
