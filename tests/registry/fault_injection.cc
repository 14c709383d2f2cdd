#include "tests/registry/fault_injection.h"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <new>
#include <utility>

namespace mlprod::registry::testing {

// ---- FaultState

void FaultState::Arm(int n, FaultKind kind, bool persistent) {
  std::lock_guard<std::mutex> lock(mu_);
  target_ = n;
  kind_ = kind;
  persistent_ = persistent;
  fired_ = false;
  first_site_.clear();
  hits_ = 0;
}

void FaultState::Disarm() {
  std::lock_guard<std::mutex> lock(mu_);
  target_ = 0;
}

void FaultState::Crash() {
  std::lock_guard<std::mutex> lock(mu_);
  crashed_ = true;
}

std::optional<FaultKind> FaultState::Hit(std::string_view site) {
  std::lock_guard<std::mutex> lock(mu_);
  if (crashed_) {
    last_errno_ = EIO;
    return FaultKind::kIoError;
  }
  ++hits_;
  if (target_ == 0 || hits_ < target_ || (hits_ > target_ && !persistent_)) return std::nullopt;
  if (!fired_) first_site_ = site;
  fired_ = true;
  last_errno_ = kind_ == FaultKind::kDiskFull ? ENOSPC : EIO;
  return kind_;
}

bool FaultState::crashed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return crashed_;
}

int FaultState::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

bool FaultState::fired() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fired_;
}

std::string FaultState::first_site() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_site_;
}

int FaultState::last_errno() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_errno_;
}

namespace {

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

void FaultState::BeforeChange(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (crashed_ || synced_images_.count(path) != 0) return;
  synced_images_[path] = ReadWholeFile(path);
}

void FaultState::Synced(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  synced_images_.erase(path);
}

void FaultState::NotDurable(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  not_durable_.insert(path);
}

void FaultState::LosePower() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [path, image] : synced_images_) {
    if (!image.has_value()) {
      std::remove(path.c_str());
      continue;
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(image->data(), static_cast<std::streamsize>(image->size()));
  }
  for (const std::string& path : not_durable_) std::remove(path.c_str());
  synced_images_.clear();
  not_durable_.clear();
}

// ---- the VFS shim

namespace {

struct VfsData {
  sqlite3_vfs* real;
  FaultState* state;
};

// Our sqlite3_file, followed in the same allocation by the real VFS's file.
struct FaultyFile {
  sqlite3_file base;
  sqlite3_file* real;
  FaultState* state;
  std::string path;  // of a main database or WAL (the power-loss model); empty otherwise
};

constexpr int kFileHeader = (sizeof(FaultyFile) + 15) / 16 * 16;

FaultyFile* Self(sqlite3_file* file) { return reinterpret_cast<FaultyFile*>(file); }
const sqlite3_io_methods* Real(sqlite3_file* file) { return Self(file)->real->pMethods; }
VfsData* Data(sqlite3_vfs* vfs) { return static_cast<VfsData*>(vfs->pAppData); }

int FileClose(sqlite3_file* file) {
  FaultyFile* self = Self(file);
  const int rc = Real(file)->xClose(self->real);
  self->~FaultyFile();
  return rc;
}

int FileRead(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  return Real(file)->xRead(Self(file)->real, out, amount, offset);
}

void NoteChange(FaultyFile* self) {
  if (!self->path.empty()) self->state->BeforeChange(self->path);
}

int FileWrite(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  FaultyFile* self = Self(file);
  NoteChange(self);
  if (std::optional<FaultKind> fault = self->state->Hit("sqlite xWrite")) {
    // A full disk or a failing device often takes part of the write before it fails.
    if (amount > 1 && !self->state->crashed()) {
      Real(file)->xWrite(self->real, data, amount / 2, offset);
    }
    return *fault == FaultKind::kDiskFull ? SQLITE_FULL : SQLITE_IOERR_WRITE;
  }
  return Real(file)->xWrite(self->real, data, amount, offset);
}

int FileTruncate(sqlite3_file* file, sqlite3_int64 size) {
  FaultyFile* self = Self(file);
  NoteChange(self);
  if (self->state->Hit("sqlite xTruncate")) return SQLITE_IOERR_TRUNCATE;
  return Real(file)->xTruncate(self->real, size);
}

int FileSync(sqlite3_file* file, int flags) {
  FaultyFile* self = Self(file);
  if (self->state->Hit("sqlite xSync")) return SQLITE_IOERR_FSYNC;
  const int rc = Real(file)->xSync(self->real, flags);
  if (rc == SQLITE_OK && !self->path.empty()) self->state->Synced(self->path);
  return rc;
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  return Real(file)->xFileSize(Self(file)->real, size);
}
int FileLock(sqlite3_file* file, int level) { return Real(file)->xLock(Self(file)->real, level); }
int FileUnlock(sqlite3_file* file, int level) {
  return Real(file)->xUnlock(Self(file)->real, level);
}
int FileCheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->xCheckReservedLock(Self(file)->real, out);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  return Real(file)->xFileControl(Self(file)->real, op, arg);
}
int FileSectorSize(sqlite3_file* file) { return Real(file)->xSectorSize(Self(file)->real); }
int FileDeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->xDeviceCharacteristics(Self(file)->real);
}
int FileShmMap(sqlite3_file* file, int page, int page_size, int extend, void volatile** out) {
  return Real(file)->xShmMap(Self(file)->real, page, page_size, extend, out);
}
int FileShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return Real(file)->xShmLock(Self(file)->real, offset, n, flags);
}
void FileShmBarrier(sqlite3_file* file) { Real(file)->xShmBarrier(Self(file)->real); }
int FileShmUnmap(sqlite3_file* file, int delete_flag) {
  return Real(file)->xShmUnmap(Self(file)->real, delete_flag);
}
int FileFetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  return Real(file)->xFetch(Self(file)->real, offset, amount, out);
}
int FileUnfetch(sqlite3_file* file, sqlite3_int64 offset, void* p) {
  return Real(file)->xUnfetch(Self(file)->real, offset, p);
}

// Our methods at the real file's version: never offer a method the real file lacks.
const sqlite3_io_methods* MethodsFor(int version) {
  static const auto make = [](int v) {
    return sqlite3_io_methods{v,
                              FileClose,
                              FileRead,
                              FileWrite,
                              FileTruncate,
                              FileSync,
                              FileSize,
                              FileLock,
                              FileUnlock,
                              FileCheckReservedLock,
                              FileControl,
                              FileSectorSize,
                              FileDeviceCharacteristics,
                              FileShmMap,
                              FileShmLock,
                              FileShmBarrier,
                              FileShmUnmap,
                              FileFetch,
                              FileUnfetch};
  };
  static const sqlite3_io_methods kMethods[3] = {make(1), make(2), make(3)};
  return &kMethods[std::min(std::max(version, 1), 3) - 1];
}

int VfsOpen(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags,
            int* out_flags) {
  VfsData* data = Data(vfs);
  FaultyFile* self = new (file) FaultyFile();
  self->base.pMethods = nullptr;
  self->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kFileHeader);
  self->state = data->state;
  if (name != nullptr && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) != 0) {
    self->path = name;
  }
  const int rc = data->real->xOpen(data->real, name, self->real, flags, out_flags);
  if (self->real->pMethods == nullptr) {
    // SQLite calls no method of a file whose pMethods is null, so clean up here.
    self->~FaultyFile();
    file->pMethods = nullptr;
    return rc;
  }
  self->base.pMethods = MethodsFor(self->real->pMethods->iVersion);
  return rc;
}

int VfsDelete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  // Not a fault point (SQLite deletes only the WAL, at a clean close), but a crashed process
  // deletes nothing.
  VfsData* data = Data(vfs);
  if (data->state->crashed()) return SQLITE_IOERR_DELETE;
  return data->real->xDelete(data->real, name, sync_dir);
}

int VfsAccess(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return Data(vfs)->real->xAccess(Data(vfs)->real, name, flags, out);
}
int VfsFullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return Data(vfs)->real->xFullPathname(Data(vfs)->real, name, n, out);
}
void* VfsDlOpen(sqlite3_vfs* vfs, const char* name) {
  return Data(vfs)->real->xDlOpen(Data(vfs)->real, name);
}
void VfsDlError(sqlite3_vfs* vfs, int n, char* out) {
  Data(vfs)->real->xDlError(Data(vfs)->real, n, out);
}
void (*VfsDlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return Data(vfs)->real->xDlSym(Data(vfs)->real, handle, symbol);
}
void VfsDlClose(sqlite3_vfs* vfs, void* handle) {
  Data(vfs)->real->xDlClose(Data(vfs)->real, handle);
}
int VfsRandomness(sqlite3_vfs* vfs, int n, char* out) {
  return Data(vfs)->real->xRandomness(Data(vfs)->real, n, out);
}
int VfsSleep(sqlite3_vfs* vfs, int micros) {
  return Data(vfs)->real->xSleep(Data(vfs)->real, micros);
}
int VfsCurrentTime(sqlite3_vfs* vfs, double* out) {
  return Data(vfs)->real->xCurrentTime(Data(vfs)->real, out);
}
int VfsGetLastError(sqlite3_vfs* vfs, int n, char* out) {
  // SQLite asks right after a method failed; for an injected fault that is its errno.
  const int injected = Data(vfs)->state->last_errno();
  if (injected != 0) return injected;
  return Data(vfs)->real->xGetLastError(Data(vfs)->real, n, out);
}
int VfsCurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return Data(vfs)->real->xCurrentTimeInt64(Data(vfs)->real, out);
}

}  // namespace

struct ScopedFaultyVfs::Impl {
  std::string name;
  VfsData data;
  sqlite3_vfs vfs;
};

ScopedFaultyVfs::ScopedFaultyVfs(const std::string& name, FaultState* state)
    : impl_(std::make_unique<Impl>()) {
  sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
  impl_->name = name;
  impl_->data = {real, state};
  impl_->vfs = sqlite3_vfs{
      .iVersion = 2,  // no system-call overrides through the shim
      .szOsFile = kFileHeader + real->szOsFile,
      .mxPathname = real->mxPathname,
      .pNext = nullptr,
      .zName = impl_->name.c_str(),
      .pAppData = &impl_->data,
      .xOpen = VfsOpen,
      .xDelete = VfsDelete,
      .xAccess = VfsAccess,
      .xFullPathname = VfsFullPathname,
      .xDlOpen = VfsDlOpen,
      .xDlError = VfsDlError,
      .xDlSym = VfsDlSym,
      .xDlClose = VfsDlClose,
      .xRandomness = VfsRandomness,
      .xSleep = VfsSleep,
      .xCurrentTime = VfsCurrentTime,
      .xGetLastError = VfsGetLastError,
      .xCurrentTimeInt64 = VfsCurrentTimeInt64,
      .xSetSystemCall = nullptr,
      .xGetSystemCall = nullptr,
      .xNextSystemCall = nullptr,
  };
  sqlite3_vfs_register(&impl_->vfs, /*makeDflt=*/0);
}

ScopedFaultyVfs::~ScopedFaultyVfs() { sqlite3_vfs_unregister(&impl_->vfs); }

// ---- the blob store wrapper

namespace {

Status Injected(FaultKind kind, const std::string& what) {
  if (kind == FaultKind::kDiskFull) {
    return Status::ResourceExhausted("disk full: injected ENOSPC " + what);
  }
  return Status::Internal("injected EIO " + what);
}

class FaultyBlobWriter final : public BlobWriter {
 public:
  FaultyBlobWriter(std::unique_ptr<BlobWriter> real, std::string root,
                   std::shared_ptr<FaultState> state)
      : real_(std::move(real)), root_(std::move(root)), state_(std::move(state)) {}

  Status Append(std::string_view bytes) override {
    if (auto fault = state_->Hit("blob append")) return Injected(*fault, "appending to a blob");
    return real_->Append(bytes);
  }
  uint64_t size() const override { return real_->size(); }
  Status ReadAt(uint64_t offset, size_t length, char* out) const override {
    return real_->ReadAt(offset, length, out);
  }
  Status Sync() override {
    if (auto fault = state_->Hit("blob fsync")) {
      // The bytes may never reach the disk, whatever a later fsync says.
      sync_failed_ = true;
      return Injected(*fault, "in fsync of a blob");
    }
    return real_->Sync();
  }
  Status Commit(std::string_view key) override {
    if (auto fault = state_->Hit("blob rename")) return Injected(*fault, "renaming a blob");
    const std::string path = root_ + "/" + std::string(key);
    MLPROD_RETURN_IF_ERROR(real_->Commit(key));
    if (sync_failed_) state_->NotDurable(path);
    if (auto fault = state_->Hit("blob folder fsync")) {
      // Renamed, but the folder's fsync failed: a power loss may undo the rename.
      state_->NotDurable(path);
      return Injected(*fault, "in fsync of a blob folder");
    }
    return Status::Ok();
  }

 private:
  const std::unique_ptr<BlobWriter> real_;
  const std::string root_;
  const std::shared_ptr<FaultState> state_;
  bool sync_failed_ = false;
};

class FaultyBlobStore final : public BlobStore {
 public:
  FaultyBlobStore(std::unique_ptr<BlobStore> real, std::string root,
                  std::shared_ptr<FaultState> state)
      : real_(std::move(real)), root_(std::move(root)), state_(std::move(state)) {}

  Result<std::unique_ptr<BlobWriter>> NewWriter() override {
    if (auto fault = state_->Hit("blob create")) return Injected(*fault, "creating a blob");
    MLPROD_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, real_->NewWriter());
    return std::unique_ptr<BlobWriter>(
        std::make_unique<FaultyBlobWriter>(std::move(writer), root_, state_));
  }
  Result<std::unique_ptr<BlobWriter>> NewScratch() override { return real_->NewScratch(); }
  Result<std::unique_ptr<BlobReader>> Open(std::string_view key) const override {
    return real_->Open(key);
  }
  Status Delete(std::string_view key) override {
    if (auto fault = state_->Hit("blob unlink")) return Injected(*fault, "deleting a blob");
    return real_->Delete(key);
  }

 private:
  const std::unique_ptr<BlobStore> real_;
  const std::string root_;
  const std::shared_ptr<FaultState> state_;
};

}  // namespace

std::unique_ptr<BlobStore> MakeFaultyBlobStore(std::unique_ptr<BlobStore> real, std::string root,
                                               std::shared_ptr<FaultState> state) {
  return std::make_unique<FaultyBlobStore>(std::move(real), std::move(root), std::move(state));
}

}  // namespace mlprod::registry::testing
