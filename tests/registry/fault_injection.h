// Test-only storage fault injection for the registry: an SQLite VFS shim and a BlobStore
// wrapper that share one FaultState, which counts every write point (a write, fsync, truncate,
// rename or unlink) and fails the Nth. Linked into registry_tests only, never into the server.
//
// FaultState also models what survives the end of the process:
//   - a process crash keeps every write that reached the kernel;
//   - a power loss keeps only what was synced: each SQLite file goes back to its content at its
//     last successful xSync, and a blob whose bytes or rename were not made durable (its fsync
//     or the folder's fsync failed) disappears.
// Crash() turns every later write point into a failure, so closing the registry afterwards
// cannot write anything more; LosePower() then rewinds the files.
//
// Threading: one FaultState per test iteration, used from the test's thread (the registry calls
// the VFS and the blob store on the calling thread); a mutex guards it anyway.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "ml/status.h"
#include "registry/blob_store.h"

namespace mlprod::registry::testing {

enum class FaultKind {
  kIoError,   // EIO: SQLITE_IOERR_*, INTERNAL from the blob store
  kDiskFull,  // ENOSPC: SQLITE_FULL (or SQLITE_IOERR_* with errno ENOSPC), RESOURCE_EXHAUSTED
};

class FaultState {
 public:
  // From now on the `n`th write point (1-based) fails with `kind`; with `persistent` every later
  // one fails too (a disk that stays full or broken), else only that one (a transient error).
  void Arm(int n, FaultKind kind, bool persistent);
  // No more failures (the space was freed); points are still counted.
  void Disarm();
  // The process is gone: every later write point fails.
  void Crash();

  // Called at each write point (`site` says which, e.g. "sqlite xSync"): the fault to inject
  // there, or nullopt to go ahead.
  std::optional<FaultKind> Hit(std::string_view site);
  // Write points seen since Arm, whether a fault was injected, and where the first one was.
  int hits() const;
  bool fired() const;
  std::string first_site() const;
  bool crashed() const;
  // errno of the last injected fault (for the VFS's xGetLastError).
  int last_errno() const;

  // ---- the power-loss model
  // Before the first change to `path` since its last sync: remembers its content.
  void BeforeChange(const std::string& path);
  // `path` was fsynced: its current content is durable.
  void Synced(const std::string& path);
  // The file at `path` (a committed blob) would be gone after a power loss.
  void NotDurable(const std::string& path);
  // Puts every file back to what a power loss leaves (see the file comment).
  // REQUIRES: Crash() was called and the registry is closed.
  void LosePower();

 private:
  mutable std::mutex mu_;
  int target_ = 0;  // 0: disarmed
  FaultKind kind_ = FaultKind::kIoError;
  bool persistent_ = false;
  bool crashed_ = false;
  bool fired_ = false;
  std::string first_site_;
  int hits_ = 0;
  int last_errno_ = 0;
  std::map<std::string, std::optional<std::string>> synced_images_;  // nullopt: did not exist
  std::set<std::string> not_durable_;
};

// Registers (on construction) the SQLite VFS `name` over the default one, injecting the faults
// of `state` into xWrite (SQLITE_IOERR_WRITE or SQLITE_FULL, after writing half the bytes, as a
// full disk does), xSync (SQLITE_IOERR_FSYNC) and xTruncate (SQLITE_IOERR_TRUNCATE), and
// recording the main database and WAL for the power-loss model. Unregisters on destruction.
// `state` must outlive every connection opened through the VFS.
class ScopedFaultyVfs {
 public:
  ScopedFaultyVfs(const std::string& name, FaultState* state);
  ~ScopedFaultyVfs();
  ScopedFaultyVfs(const ScopedFaultyVfs&) = delete;
  ScopedFaultyVfs& operator=(const ScopedFaultyVfs&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A BlobStore over `real` (a local store on the folder `root`) that injects the faults of
// `state` at NewWriter, Append, Sync, Commit (before the rename, and after it as a failed fsync
// of the folder) and Delete.
std::unique_ptr<BlobStore> MakeFaultyBlobStore(std::unique_ptr<BlobStore> real, std::string root,
                                               std::shared_ptr<FaultState> state);

}  // namespace mlprod::registry::testing
