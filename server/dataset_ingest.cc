#include "server/dataset_ingest.h"

#include <utility>

namespace mlprod::server {

Result<std::unique_ptr<DatasetIngest>> DatasetIngest::Start(registry::Registry* registry,
                                                            const ml::CsvOptions& options) {
  MLPROD_ASSIGN_OR_RETURN(std::unique_ptr<registry::BlobWriter> text,
                          registry->blobs().NewScratch());
  MLPROD_ASSIGN_OR_RETURN(std::unique_ptr<registry::BlobWriter> columns,
                          registry->blobs().NewWriter());
  return std::unique_ptr<DatasetIngest>(
      new DatasetIngest(registry, std::move(text), std::move(columns), options));
}

DatasetIngest::DatasetIngest(registry::Registry* registry,
                             std::unique_ptr<registry::BlobWriter> text,
                             std::unique_ptr<registry::BlobWriter> columns,
                             const ml::CsvOptions& options)
    : registry_(registry),
      text_(std::move(text)),
      columns_(std::move(columns)),
      column_file_([this](std::string_view bytes) { return columns_->Append(bytes); }),
      csv_(
          options, &column_file_,
          [this](uint64_t offset, size_t length, std::string* scratch) -> Result<std::string_view> {
            scratch->resize(length);
            MLPROD_RETURN_IF_ERROR(text_->ReadAt(offset, length, scratch->data()));
            return std::string_view(*scratch);
          }),
      parser_([this] { ParseQueued(); }) {}

DatasetIngest::~DatasetIngest() {
  if (parser_.joinable()) StopParsing(/*abandon=*/true);
}

void DatasetIngest::ParseQueued() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    changed_.wait(lock, [this] { return !queue_.empty() || closed_; });
    if (abandoned_ || queue_.empty()) return;
    std::string chunk = std::move(queue_.front());
    queue_.pop_front();
    queued_bytes_ -= chunk.size();
    changed_.notify_all();
    lock.unlock();
    Status parsed = csv_.Feed(chunk);
    lock.lock();
    spare_.push_back(std::move(chunk));
    if (!parsed.ok()) {
      parse_status_ = std::move(parsed);
      changed_.notify_all();
      return;
    }
  }
}

Status DatasetIngest::StopParsing(bool abandon) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    abandoned_ = abandon;
  }
  changed_.notify_all();
  parser_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return parse_status_;
}

Status DatasetIngest::Add(std::string_view chunk) {
  sha256_.Update(chunk);
  bytes_ += chunk.size();
  // The text is in the scratch file before the parser can need to read it back.
  MLPROD_RETURN_IF_ERROR(text_->Append(chunk));
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [this] { return queued_bytes_ < kMaxQueuedBytes || !parse_status_.ok(); });
  if (!parse_status_.ok()) return parse_status_;
  std::string buffer;
  if (!spare_.empty()) {
    buffer = std::move(spare_.back());
    spare_.pop_back();
  }
  buffer.assign(chunk);
  queued_bytes_ += buffer.size();
  queue_.push_back(std::move(buffer));
  changed_.notify_all();
  return Status::Ok();
}

Result<registry::DatasetVersion> DatasetIngest::Finish(registry::NewDatasetVersion spec,
                                                       bool* existed) {
  MLPROD_RETURN_IF_ERROR(StopParsing(/*abandon=*/false));
  MLPROD_ASSIGN_OR_RETURN(ml::CsvColumns layout, csv_.Finish());
  MLPROD_RETURN_IF_ERROR(column_file_.Finish(layout));
  MLPROD_ASSIGN_OR_RETURN(spec.sha256, sha256_.HexDigest());
  spec.size_bytes = static_cast<int64_t>(bytes_);
  spec.rows = static_cast<int64_t>(layout.rows);
  spec.columns.clear();
  for (const ml::Column& c : layout.columns) {
    spec.columns.push_back(
        {c.name, std::string(ml::ColumnTypeName(c.type)), static_cast<int64_t>(c.missing)});
  }
  return registry_->CreateDatasetVersion(spec, columns_.get(), existed);
}

}  // namespace mlprod::server
