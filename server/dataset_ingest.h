// DatasetIngest: one upload in progress. The receiving thread hashes each chunk and keeps it in
// a scratch file; a parsing thread turns the chunks, as they arrive, into the version's column
// file. Memory stays bounded by the queue between the two (kMaxQueuedBytes), a row block and the
// distinct values of text columns, whatever the file's size; nothing is stored under a dataset's
// name until Finish.
//
// Add and Finish are called from one thread. Destroying an unfinished ingest stops the parsing
// thread and removes everything the ingest wrote.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ml/column_file.h"
#include "ml/csv_reader.h"
#include "registry/codec.h"
#include "registry/registry.h"

namespace mlprod::server {

class DatasetIngest {
 public:
  // Chunks received but not yet parsed; Add waits while the queue holds more.
  static constexpr size_t kMaxQueuedBytes = 8 << 20;

  // INTERNAL when the blob store cannot make the files.
  static Result<std::unique_ptr<DatasetIngest>> Start(registry::Registry* registry,
                                                      const ml::CsvOptions& options);
  ~DatasetIngest();

  // The next bytes of the file. Returns the parsing thread's INVALID_ARGUMENT (line and column
  // named) as soon as it has found one, so a bad upload stops early.
  Status Add(std::string_view chunk);
  uint64_t bytes() const { return bytes_; }

  // Ends the file and creates the version (`spec` gives name, parse options and actor; the rest
  // comes from the file), or returns the existing version with the same bytes (*existed).
  Result<registry::DatasetVersion> Finish(registry::NewDatasetVersion spec, bool* existed);

 private:
  DatasetIngest(registry::Registry* registry, std::unique_ptr<registry::BlobWriter> text,
                std::unique_ptr<registry::BlobWriter> columns, const ml::CsvOptions& options);
  void ParseQueued();
  // Tells the parsing thread that no chunk follows (`abandon`: drop the queued ones too), waits
  // for it and returns its status.
  Status StopParsing(bool abandon);

  registry::Registry* const registry_;
  const std::unique_ptr<registry::BlobWriter> text_;     // scratch: re-read on a type change
  const std::unique_ptr<registry::BlobWriter> columns_;  // becomes the stored blob
  ml::ColumnFileWriter column_file_;                     // parsing thread only
  ml::CsvStreamReader csv_;                              // parsing thread only, then Finish
  registry::Sha256 sha256_;
  uint64_t bytes_ = 0;

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;  // GUARDED_BY(mu_)
  // Parsed chunks' buffers, reused: fresh megabyte buffers would each cost page faults.
  std::vector<std::string> spare_;  // GUARDED_BY(mu_)
  size_t queued_bytes_ = 0;        // GUARDED_BY(mu_)
  bool closed_ = false;            // GUARDED_BY(mu_): no chunk follows
  bool abandoned_ = false;         // GUARDED_BY(mu_): stop without parsing the rest
  Status parse_status_;            // GUARDED_BY(mu_)
  std::thread parser_;
};

}  // namespace mlprod::server
