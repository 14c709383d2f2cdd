// DatasetCache: dataset versions read into memory, shared by training runs, describe and head so
// a version's column file is read once per server life. Versions are immutable, so entries
// never go stale.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
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

// Memory a frame holds: its values, codes and level strings.
size_t FrameBytes(const ml::Frame& frame);

class DatasetCache {
 public:
  // Keeps the most recently used frames while they fit in `budget_bytes` together; the frame
  // just read always stays, whatever its size. A frame dropped from the cache lives on in the
  // runs still holding it.
  DatasetCache(registry::Registry* registry, size_t budget_bytes)
      : registry_(registry), budget_bytes_(budget_bytes) {}

  // The frame of `name@version`. NOT_FOUND for an unknown version; DATA_LOSS when the stored
  // bytes cannot be read back.
  Result<std::shared_ptr<const ml::Frame>> Get(const registry::DatasetVersion& version);

  // Forgets a deleted version (runs holding its frame keep it until they finish).
  void Forget(const std::string& name, int version);

  // Bytes of the frames held now.
  size_t held_bytes() const;

 private:
  using Key = std::pair<std::string, int>;
  struct Entry {
    std::shared_ptr<const ml::Frame> frame;
    size_t bytes = 0;
    uint64_t last_use = 0;
  };
  // Drops least recently used entries, except `keep`, until the rest fit the budget.
  void Evict(const Key& keep);  // REQUIRES(mu_)

  registry::Registry* const registry_;
  const size_t budget_bytes_;
  mutable std::mutex mu_;
  std::map<Key, Entry> frames_;  // GUARDED_BY(mu_)
  size_t held_bytes_ = 0;        // GUARDED_BY(mu_)
  uint64_t uses_ = 0;            // GUARDED_BY(mu_)
};

}  // namespace mlprod::server
