#include "server/dataset_cache.h"

#include <nlohmann/json.hpp>

#include "ml/column_file.h"

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
  try {  // value() and get() throw on a member of another type: a damaged row
    std::string delimiter = j.value("delimiter", ",");
    if (delimiter.size() == 1) options.delimiter = delimiter[0];
    options.na_values = j.value("na_values", options.na_values);
    // items() refers into its json: iterate a named copy, not the temporary value() returns.
    const nlohmann::json schema = j.value("schema", nlohmann::json::object());
    for (const auto& [column, type] : schema.items()) {
      MLPROD_ASSIGN_OR_RETURN(options.schema[column],
                              ml::ParseColumnType(type.get<std::string>()));
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::DataLoss(std::string("stored CSV options are damaged: ") + e.what());
  }
  return options;
}

namespace {

// A column file, or the CSV text of a version stored before column files (parsed again).
Result<ml::Frame> ReadStored(const registry::BlobReader& reader, bool csv_text,
                             std::string_view parse_options) {
  if (!csv_text) {
    return ml::ReadColumnFile([&reader](uint64_t offset, size_t length,
                                        char* out) { return reader.ReadAt(offset, length, out); },
                              reader.size());
  }
  std::string bytes(reader.size(), '\0');
  MLPROD_RETURN_IF_ERROR(reader.ReadAt(0, bytes.size(), bytes.data()));
  MLPROD_ASSIGN_OR_RETURN(ml::CsvOptions options, DecodeCsvOptions(parse_options));
  return ml::ReadCsv(bytes, options);
}

}  // namespace

size_t FrameBytes(const ml::Frame& frame) {
  size_t bytes = sizeof(ml::Frame);
  for (const ml::Column& c : frame.columns) {
    bytes += sizeof(ml::Column) + c.name.capacity() + c.values.capacity() * sizeof(double) +
             c.codes.capacity() * sizeof(int32_t);
    for (const std::string& level : c.levels) bytes += sizeof(std::string) + level.capacity();
  }
  return bytes;
}

Result<std::shared_ptr<const ml::Frame>> DatasetCache::Get(
    const registry::DatasetVersion& version) {
  const Key key(version.name, version.version);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = frames_.find(key);
    if (it != frames_.end()) {
      it->second.last_use = ++uses_;
      return it->second.frame;
    }
  }
  // Read outside the lock; two racing reads of one version give equal frames.
  MLPROD_ASSIGN_OR_RETURN(registry::Registry::DatasetBlob blob,
                          registry_->OpenDatasetBlob(version.name, version.version));
  Result<ml::Frame> frame = ReadStored(*blob.reader, blob.csv_text, version.parse_options);
  if (!frame.ok()) {
    return Status::DataLoss("stored dataset " + version.name + "@" +
                            std::to_string(version.version) +
                            " cannot be read: " + frame.status().message());
  }
  auto shared = std::make_shared<const ml::Frame>(std::move(frame).value());
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = frames_.try_emplace(key);
  if (inserted) {
    it->second.frame = std::move(shared);
    it->second.bytes = FrameBytes(*it->second.frame);
    held_bytes_ += it->second.bytes;
  }
  it->second.last_use = ++uses_;
  std::shared_ptr<const ml::Frame> out = it->second.frame;
  Evict(key);
  return out;
}

void DatasetCache::Evict(const Key& keep) {
  while (held_bytes_ > budget_bytes_ && frames_.size() > 1) {
    auto oldest = frames_.end();
    for (auto it = frames_.begin(); it != frames_.end(); ++it) {
      if (it->first != keep &&
          (oldest == frames_.end() || it->second.last_use < oldest->second.last_use)) {
        oldest = it;
      }
    }
    held_bytes_ -= oldest->second.bytes;
    frames_.erase(oldest);
  }
}

void DatasetCache::Forget(const std::string& name, int version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = frames_.find(Key(name, version));
  if (it == frames_.end()) return;
  held_bytes_ -= it->second.bytes;
  frames_.erase(it);
}

size_t DatasetCache::held_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_bytes_;
}

}  // namespace mlprod::server
