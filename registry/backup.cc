#include "registry/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace mlprod::registry {
namespace {

namespace fs = std::filesystem;

Status Sqlite(sqlite3* db, int rc, const std::string& what) {
  return Status::Internal(what + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

// Copies every page of `source_path` into a new database at `copy_path` in one backup step.
Status SnapshotDatabase(const std::string& source_path, const std::string& copy_path) {
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  Status status;
  int rc = sqlite3_open_v2(source_path.c_str(), &src, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) {
    status = Sqlite(src, rc, "open " + source_path);
  } else {
    sqlite3_busy_timeout(src, 5000);
    rc = sqlite3_open_v2(copy_path.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                         nullptr);
    if (rc != SQLITE_OK) status = Sqlite(dst, rc, "create " + copy_path);
  }
  if (status.ok()) {
    sqlite3_backup* backup = sqlite3_backup_init(dst, "main", src, "main");
    if (backup == nullptr) {
      status = Sqlite(dst, SQLITE_ERROR, "backup");
    } else {
      // -1: all pages in one step, under one read lock of the source: a consistent snapshot.
      for (int attempt = 0; attempt < 200; ++attempt) {
        rc = sqlite3_backup_step(backup, -1);
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
      sqlite3_backup_finish(backup);
      if (rc != SQLITE_DONE) status = Sqlite(dst, rc, "backup of " + source_path);
    }
  }
  sqlite3_close(src);
  // Closing the copy's last connection checkpoints it: the file alone then holds everything.
  if (dst != nullptr && sqlite3_close(dst) != SQLITE_OK && status.ok()) {
    status = Status::Internal("close " + copy_path);
  }
  return status;
}

// The blob keys the database at `path` references.
Result<std::vector<std::string>> ReferencedBlobs(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Sqlite(db, rc, "open " + path);
    sqlite3_close(db);
    return s;
  }
  sqlite3_stmt* stmt = nullptr;
  rc = sqlite3_prepare_v2(db,
                          "SELECT blob_key FROM datasets UNION "
                          "SELECT model_blob_key FROM runs WHERE model_blob_key IS NOT NULL "
                          "ORDER BY 1",
                          -1, &stmt, nullptr);
  std::vector<std::string> keys;
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      keys.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    }
  }
  Status s = rc == SQLITE_DONE ? Status::Ok() : Sqlite(db, rc, "read blob keys of " + path);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (!s.ok()) return s;
  return keys;
}

// A POSIX ustar archive written entry by entry.
class TarWriter {
 public:
  explicit TarWriter(std::ofstream* out) : out_(out) {}

  // Appends the file at `path` as `name`. NOT_FOUND when it is not there.
  Status Add(const std::string& name, const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::NotFound("no file " + path.string());
    std::error_code ec;
    const uint64_t size = fs::file_size(path, ec);
    if (ec) return Status::Internal("cannot read " + path.string() + ": " + ec.message());
    if (name.size() > 100) return Status::Internal("archive name too long: " + name);
    if (size >= (uint64_t{1} << 33)) return Status::Internal(path.string() + " exceeds 8 GiB");
    char header[512] = {};
    std::memcpy(header, name.data(), name.size());
    std::snprintf(header + 100, 8, "%07o", 0644);
    std::snprintf(header + 108, 8, "%07o", 0);
    std::snprintf(header + 116, 8, "%07o", 0);
    std::snprintf(header + 124, 12, "%011llo", static_cast<unsigned long long>(size));
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    std::snprintf(header + 136, 12, "%011llo",
                  static_cast<unsigned long long>(
                      std::chrono::duration_cast<std::chrono::seconds>(now).count()));
    header[156] = '0';  // a regular file
    std::memcpy(header + 257, "ustar", 6);
    std::memcpy(header + 263, "00", 2);
    std::memset(header + 148, ' ', 8);  // the checksum counts its own field as spaces
    unsigned sum = 0;
    for (unsigned char c : header) sum += c;
    std::snprintf(header + 148, 8, "%06o", sum);
    out_->write(header, sizeof header);
    std::vector<char> buffer(1 << 20);
    uint64_t left = size;
    while (left > 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(left, buffer.size()));
      if (!in.read(buffer.data(), static_cast<std::streamsize>(n))) {
        return Status::Internal("short read of " + path.string());
      }
      out_->write(buffer.data(), static_cast<std::streamsize>(n));
      left -= n;
    }
    Pad(size);
    return out_->good() ? Status::Ok() : Status::Internal("write failed");
  }

  // The two zero blocks that end an archive.
  Status Finish() {
    const char zeros[1024] = {};
    out_->write(zeros, sizeof zeros);
    return out_->good() ? Status::Ok() : Status::Internal("write failed");
  }

 private:
  void Pad(uint64_t size) {
    const char zeros[512] = {};
    if (size % 512 != 0) out_->write(zeros, static_cast<std::streamsize>(512 - size % 512));
  }

  std::ofstream* out_;
};

Status SyncPath(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return Status::Internal("cannot open " + path + " to sync");
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Status::Internal("fsync of " + path + " failed");
}

}  // namespace

Result<BackupSummary> BackupDataDir(const std::string& data_dir, const std::string& out_path) {
  const fs::path db_path = fs::path(data_dir) / "mlprod.db";
  if (!fs::exists(db_path)) return Status::NotFound("no registry at " + db_path.string());
  const std::string snapshot = out_path + ".db.tmp";
  const std::string partial = out_path + ".tmp";
  std::error_code ec;
  fs::remove(snapshot, ec);
  auto cleanup = [&] {
    fs::remove(snapshot, ec);
    fs::remove(snapshot + "-wal", ec);
    fs::remove(snapshot + "-shm", ec);
    fs::remove(partial, ec);
  };

  Status s = SnapshotDatabase(db_path.string(), snapshot);
  Result<std::vector<std::string>> keys =
      s.ok() ? ReferencedBlobs(snapshot) : Result<std::vector<std::string>>(s);
  if (!keys.ok()) {
    cleanup();
    return keys.status();
  }
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    TarWriter tar(&out);
    s = out ? tar.Add("mlprod.db", snapshot) : Status::Internal("cannot create " + partial);
    for (size_t i = 0; s.ok() && i < keys->size(); ++i) {
      s = tar.Add("blobs/" + (*keys)[i], fs::path(data_dir) / "blobs" / (*keys)[i]);
      if (s.code() == StatusCode::kNotFound) {
        s = Status::Aborted("blob " + (*keys)[i] +
                            " was deleted while the backup ran (a dataset deleted meanwhile?); "
                            "run the backup again");
      }
    }
    if (s.ok()) s = tar.Finish();
    out.close();
    if (s.ok() && !out) s = Status::Internal("cannot write " + partial);
  }
  if (s.ok()) s = SyncPath(partial, false);
  if (s.ok()) {
    fs::rename(partial, out_path, ec);
    if (ec) s = Status::Internal("cannot rename to " + out_path + ": " + ec.message());
  }
  if (s.ok()) {
    const fs::path parent = fs::absolute(out_path).parent_path();
    s = SyncPath(parent.string(), true);
  }
  BackupSummary summary;
  if (s.ok()) {
    summary.blobs = static_cast<int>(keys->size());
    summary.bytes = fs::file_size(out_path, ec);
  }
  cleanup();
  if (!s.ok()) return s;
  return summary;
}

}  // namespace mlprod::registry
