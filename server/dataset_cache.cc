#include "server/dataset_cache.h"

#include <nlohmann/json.hpp>

namespace mlprod::server {

std::string EncodeCsvOptions(const ml::CsvOptions& options) {
  nlohmann::json schema = nlohmann::json::object();
  for (const auto& [column, type] : options.schema) {
    schema[column] = std::string(ml::ColumnTypeName(type));
  }
  return nlohmann::json{{"delimiter", std::string(1, options.delimiter)},
                        {"na_values", options.na_values},
                        {"schema", schema}}
      .dump();
}

Result<ml::CsvOptions> DecodeCsvOptions(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::DataLoss("stored CSV options are not JSON");
  }
  ml::CsvOptions options;
  std::string delimiter = j.value("delimiter", ",");
  if (delimiter.size() == 1) options.delimiter = delimiter[0];
  options.na_values = j.value("na_values", options.na_values);
  for (const auto& [column, type] : j.value("schema", nlohmann::json::object()).items()) {
    MLPROD_ASSIGN_OR_RETURN(options.schema[column], ml::ParseColumnType(type.get<std::string>()));
  }
  return options;
}

Result<std::shared_ptr<const ml::Frame>> DatasetCache::Get(
    const registry::DatasetVersion& version) {
  const auto key = std::make_pair(version.name, version.version);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = frames_.find(key);
    if (it != frames_.end()) return it->second;
  }
  // Parse outside the lock; two racing parses of one version give equal frames.
  MLPROD_ASSIGN_OR_RETURN(std::string bytes,
                          registry_->ReadDatasetBytes(version.name, version.version));
  MLPROD_ASSIGN_OR_RETURN(ml::CsvOptions options, DecodeCsvOptions(version.parse_options));
  auto frame = ml::ReadCsv(bytes, options);
  if (!frame.ok()) {
    return Status::DataLoss("stored dataset " + version.name + "@" +
                            std::to_string(version.version) +
                            " no longer parses: " + frame.status().message());
  }
  auto shared = std::make_shared<const ml::Frame>(std::move(frame).value());
  std::lock_guard<std::mutex> lock(mu_);
  return frames_.emplace(key, std::move(shared)).first->second;
}

void DatasetCache::Forget(const std::string& name, int version) {
  std::lock_guard<std::mutex> lock(mu_);
  frames_.erase(std::make_pair(name, version));
}

}  // namespace mlprod::server
