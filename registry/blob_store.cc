#include "registry/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <system_error>

namespace mlprod::registry {
namespace {

namespace fs = std::filesystem;

// ENOSPC/EDQUOT mean the disk (or the quota) is full: a limit that freeing space lifts, so
// RESOURCE_EXHAUSTED naming the file, not INTERNAL.
Status ErrnoStatus(std::string_view what, const std::string& path, int error) {
  std::string message = std::string(what) + " " + path + ": " + std::strerror(error);
  if (error == ENOSPC || error == EDQUOT) {
    return Status::ResourceExhausted("disk full: " + message);
  }
  return Status::Internal(std::move(message));
}

// Keys come from the registry ("datasets/17.cols"), but a key is still checked before it becomes
// a path: relative, '/'-separated segments of [A-Za-z0-9_.-], no empty, "." or ".." segment.
Status CheckKey(std::string_view key) {
  if (key.empty() || key.size() > 512) return Status::InvalidArgument("bad blob key");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view segment = key.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return Status::InvalidArgument("bad blob key '" + std::string(key) + "'");
    }
    for (char c : segment) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '-';
      if (!ok) return Status::InvalidArgument("bad blob key '" + std::string(key) + "'");
    }
    start = end + 1;
  }
  return Status::Ok();
}

// fsync of a directory makes the entries created/renamed/removed in it durable.
Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("opening directory", dir, errno);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("fsync of directory", dir, error);
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("writing", path, errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

std::string RandomSuffix() {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%016llx%llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(counter.fetch_add(1)));
  return buffer;
}

Status ReadFully(int fd, uint64_t offset, size_t length, char* out, const std::string& path) {
  while (length > 0) {
    const ssize_t n = ::pread(fd, out, length, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("reading", path, errno);
    }
    if (n == 0) return Status::DataLoss(path + " is shorter than expected");
    out += n;
    offset += static_cast<uint64_t>(n);
    length -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

// Serialises MakeDirectories: a folder that exists must also be durable before a commit relies
// on it, so no thread may see a folder another thread has created but not yet synced.
std::mutex& DirectoryMutex() {
  static std::mutex mu;
  return mu;
}

// Creates `dir` (below the store's root) and its missing parents, fsyncing each parent that
// gained an entry so the new folders themselves survive a crash. An existing folder counts as
// durable: OpenLocalBlobStore synced the ones found at start-up, and a folder whose parent could
// not be synced is removed again, so the next commit creates and syncs it anew instead of
// trusting an entry that may vanish at power loss.
// REQUIRES: DirectoryMutex() is held.
Status MakeDirectories(const fs::path& dir) {
  std::error_code ec;
  if (dir.empty() || fs::is_directory(dir, ec)) return Status::Ok();
  MLPROD_RETURN_IF_ERROR(MakeDirectories(dir.parent_path()));
  if (::mkdir(dir.c_str(), 0755) != 0) {
    return ErrnoStatus("creating directory", dir.string(), errno);
  }
  Status synced = SyncDirectory(dir.parent_path().string());
  if (!synced.ok()) ::rmdir(dir.c_str());
  return synced;
}

// Makes the root, its parent (the data folder) and every folder below the root durable: a crash
// may have left any of them created but unsynced, by an earlier process or by
// create_directories, which syncs nothing.
Status SyncTree(const fs::path& root) {
  MLPROD_RETURN_IF_ERROR(
      SyncDirectory(root.parent_path().empty() ? "." : root.parent_path().string()));
  MLPROD_RETURN_IF_ERROR(SyncDirectory(root.string()));
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) MLPROD_RETURN_IF_ERROR(SyncDirectory(it->path().string()));
  }
  if (ec) return Status::Internal("cannot list " + root.string() + ": " + ec.message());
  return Status::Ok();
}

// A temporary file "<root>/upload.tmp.<random>" (Registry::Open removes such leftovers of a
// crash), renamed to its key by Commit.
class LocalBlobWriter final : public BlobWriter {
 public:
  // Writeback of a blob starts every kWritebackBytes, so the final fsync waits for little.
  static constexpr uint64_t kWritebackBytes = 8 << 20;

  LocalBlobWriter(std::string root, std::string path, int fd, bool scratch)
      : root_(std::move(root)), path_(std::move(path)), fd_(fd), scratch_(scratch) {}
  ~LocalBlobWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }

  Status Append(std::string_view bytes) override {
    if (committed_) return Status::FailedPrecondition("blob already committed");
    if (!failure_.ok()) return failure_;
    synced_ = false;
    // A failed write may have written part of `bytes`: the file no longer matches size(), so
    // the writer stays failed rather than append after the torn piece.
    failure_ = WriteAll(fd_, bytes, path_);
    MLPROD_RETURN_IF_ERROR(failure_);
    size_ += bytes.size();  // after the write, so a concurrent ReadAt below size_ finds the bytes
    if (!scratch_ && size_ - written_back_ >= kWritebackBytes) {
      // Asynchronous: only starts the writeback of the range; Sync still fsyncs everything.
      ::sync_file_range(fd_, static_cast<off_t>(written_back_),
                        static_cast<off_t>(size_ - written_back_), SYNC_FILE_RANGE_WRITE);
      written_back_ = size_;
    }
    return Status::Ok();
  }

  uint64_t size() const override { return size_; }

  Status ReadAt(uint64_t offset, size_t length, char* out) const override {
    const uint64_t size = size_;
    if (offset > size || length > size - offset) {
      return Status::Internal("read past the end of " + path_);
    }
    return ReadFully(fd_, offset, length, out, path_);
  }

  Status Sync() override {
    // After a failed fsync Linux may drop the dirty pages and report the next fsync as a
    // success, so a retry proves nothing: the writer stays failed.
    if (!failure_.ok()) return failure_;
    if (::fsync(fd_) != 0) {
      failure_ = ErrnoStatus("fsync of", path_, errno);
      return failure_;
    }
    synced_ = true;
    return Status::Ok();
  }

  Status Commit(std::string_view key) override {
    if (!failure_.ok()) return failure_;
    if (scratch_ || !synced_ || committed_) {
      return Status::FailedPrecondition("only a synced blob writer can be committed");
    }
    MLPROD_RETURN_IF_ERROR(CheckKey(key));
    const fs::path path = fs::path(root_) / std::string(key);
    {
      std::lock_guard<std::mutex> lock(DirectoryMutex());
      MLPROD_RETURN_IF_ERROR(MakeDirectories(path.parent_path()));
    }
    if (::rename(path_.c_str(), path.c_str()) != 0) {
      return ErrnoStatus("renaming to", path.string(), errno);
    }
    committed_ = true;
    ::close(fd_);
    fd_ = -1;
    return SyncDirectory(path.parent_path().string());
  }

 private:
  const std::string root_, path_;
  int fd_;
  const bool scratch_;
  std::atomic<uint64_t> size_{0};  // read by ReadAt on another thread
  uint64_t written_back_ = 0;
  bool synced_ = true;  // nothing written yet
  Status failure_;      // the first failed write or fsync; every later call returns it
  bool committed_ = false;
};

class LocalBlobReader final : public BlobReader {
 public:
  LocalBlobReader(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~LocalBlobReader() override { ::close(fd_); }

  uint64_t size() const override { return size_; }
  Status ReadAt(uint64_t offset, size_t length, char* out) const override {
    if (offset > size_ || length > size_ - offset) {
      return Status::DataLoss("read past the end of " + path_);
    }
    return ReadFully(fd_, offset, length, out, path_);
  }

 private:
  const std::string path_;
  const int fd_;
  const uint64_t size_;
};

// Files under one folder. Stateless apart from the root, hence thread-safe; concurrent commits
// of one key each rename their own temporary file and the last rename wins.
class LocalBlobStore final : public BlobStore {
 public:
  explicit LocalBlobStore(std::string root) : root_(std::move(root)) {}

  Result<std::unique_ptr<BlobWriter>> NewWriter() override { return Create(false); }
  Result<std::unique_ptr<BlobWriter>> NewScratch() override { return Create(true); }

  Result<std::unique_ptr<BlobReader>> Open(std::string_view key) const override {
    MLPROD_RETURN_IF_ERROR(CheckKey(key));
    const std::string path = (fs::path(root_) / std::string(key)).string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound("no blob '" + std::string(key) + "'");
      return ErrnoStatus("opening", path, errno);
    }
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
      const int error = errno;
      ::close(fd);
      return ErrnoStatus("reading the size of", path, error);
    }
    return std::unique_ptr<BlobReader>(
        std::make_unique<LocalBlobReader>(path, fd, static_cast<uint64_t>(info.st_size)));
  }

  Status Delete(std::string_view key) override {
    MLPROD_RETURN_IF_ERROR(CheckKey(key));
    const fs::path path = fs::path(root_) / std::string(key);
    if (::unlink(path.c_str()) != 0) {
      if (errno == ENOENT) return Status::Ok();
      return ErrnoStatus("deleting", path.string(), errno);
    }
    return SyncDirectory(path.parent_path().string());
  }

 private:
  Result<std::unique_ptr<BlobWriter>> Create(bool scratch) {
    const std::string path = (fs::path(root_) / ("upload.tmp." + RandomSuffix())).string();
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("creating", path, errno);
    return std::unique_ptr<BlobWriter>(std::make_unique<LocalBlobWriter>(root_, path, fd, scratch));
  }

  const std::string root_;
};

}  // namespace

Status BlobStore::Put(std::string_view key, std::string_view bytes) {
  MLPROD_RETURN_IF_ERROR(CheckKey(key));
  MLPROD_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, NewWriter());
  MLPROD_RETURN_IF_ERROR(writer->Append(bytes));
  MLPROD_RETURN_IF_ERROR(writer->Sync());
  return writer->Commit(key);
}

Result<std::string> BlobStore::Get(std::string_view key) const {
  MLPROD_ASSIGN_OR_RETURN(std::unique_ptr<BlobReader> reader, Open(key));
  std::string bytes(reader->size(), '\0');
  MLPROD_RETURN_IF_ERROR(reader->ReadAt(0, bytes.size(), bytes.data()));
  return bytes;
}

Result<std::unique_ptr<BlobStore>> OpenLocalBlobStore(const std::string& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return ErrnoStatus("cannot create blob folder", root, ec.value());
  if (!fs::is_directory(root, ec)) return Status::Internal(root + " is not a folder");
  MLPROD_RETURN_IF_ERROR(SyncTree(fs::path(root)));
  return std::unique_ptr<BlobStore>(std::make_unique<LocalBlobStore>(root));
}

}  // namespace mlprod::registry
