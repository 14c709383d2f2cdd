#include "registry/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>

namespace mlprod::registry {
namespace {

namespace fs = std::filesystem;

Status ErrnoStatus(std::string_view what, const std::string& path, int error) {
  return Status::Internal(std::string(what) + " " + path + ": " + std::strerror(error));
}

// Keys come from the registry ("datasets/17.csv"), but a key is still checked before it becomes
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

// Files under one folder. Stateless apart from the root, hence thread-safe; concurrent Puts of
// one key each write their own temporary file and the last rename wins.
class LocalBlobStore final : public BlobStore {
 public:
  explicit LocalBlobStore(std::string root) : root_(std::move(root)) {}

  Status Put(std::string_view key, std::string_view bytes) override {
    MLPROD_RETURN_IF_ERROR(CheckKey(key));
    const fs::path path = fs::path(root_) / std::string(key);
    const std::string dir = path.parent_path().string();
    MLPROD_RETURN_IF_ERROR(MakeDirectories(path.parent_path()));

    const std::string final_path = path.string();
    const std::string tmp_path = final_path + ".tmp." + RandomSuffix();
    const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("creating", tmp_path, errno);
    Status status = WriteAll(fd, bytes, tmp_path);
    if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus("fsync of", tmp_path, errno);
    if (::close(fd) != 0 && status.ok()) status = ErrnoStatus("closing", tmp_path, errno);
    if (status.ok() && ::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
      status = ErrnoStatus("renaming to", final_path, errno);
    }
    if (!status.ok()) {
      ::unlink(tmp_path.c_str());
      return status;
    }
    return SyncDirectory(dir);
  }

  Result<std::string> Get(std::string_view key) const override {
    MLPROD_RETURN_IF_ERROR(CheckKey(key));
    const std::string path = (fs::path(root_) / std::string(key)).string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound("no blob '" + std::string(key) + "'");
      return ErrnoStatus("opening", path, errno);
    }
    std::string bytes;
    struct stat info {};
    if (::fstat(fd, &info) == 0 && info.st_size > 0) bytes.reserve(info.st_size);
    char buffer[1 << 16];
    while (true) {
      const ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n < 0) {
        if (errno == EINTR) continue;
        const int error = errno;
        ::close(fd);
        return ErrnoStatus("reading", path, error);
      }
      if (n == 0) break;
      bytes.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return bytes;
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
  // Creates `dir` (below root_) and its missing parents, fsyncing each parent that gained an
  // entry so the new folders themselves survive a crash.
  Status MakeDirectories(const fs::path& dir) const {
    std::error_code ec;
    if (dir.empty() || fs::is_directory(dir, ec)) return Status::Ok();
    MLPROD_RETURN_IF_ERROR(MakeDirectories(dir.parent_path()));
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus("creating directory", dir.string(), errno);
    }
    return SyncDirectory(dir.parent_path().string());
  }

  const std::string root_;
};

}  // namespace

Result<std::unique_ptr<BlobStore>> OpenLocalBlobStore(const std::string& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return Status::Internal("cannot create blob folder " + root + ": " + ec.message());
  if (!fs::is_directory(root, ec)) return Status::Internal(root + " is not a folder");
  return std::unique_ptr<BlobStore>(std::make_unique<LocalBlobStore>(root));
}

}  // namespace mlprod::registry
