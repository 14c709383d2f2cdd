// Registry::Open, the free helpers of registry.h, datasets and experiments. Runs are in
// registry_runs.cc, model versions and aliases in registry_models.cc.
#include "registry/registry.h"

#include <chrono>
#include <filesystem>
#include <system_error>

#include "registry/codec.h"
#include "registry/schema.h"
#include "registry/sqlite_registry.h"

namespace mlprod::registry {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxNameLength = 128;

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// A crash during BlobStore::Put can leave "<key>.tmp.<random>" behind; nothing references such
// a file. Only one server owns a data dir, so at Open no Put is in flight. Best effort.
void RemoveTemporaryBlobs(const fs::path& root) {
  std::error_code ec;
  std::vector<fs::path> leftovers;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) &&
        it->path().filename().string().find(".tmp.") != std::string::npos) {
      leftovers.push_back(it->path());
    }
  }
  for (const fs::path& path : leftovers) fs::remove(path, ec);
}

// True when `root` holds a committed blob (a file that is not an upload's temporary).
bool HasStoredBlobs(const fs::path& root) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) &&
        it->path().filename().string().find(".tmp.") == std::string::npos) {
      return true;
    }
  }
  return false;
}

// Refuses a database that cannot be trusted, before a migration writes to it or a server
// serves from it. quick_check reads every page (milliseconds for a registry's metadata) and
// finds torn, truncated or overwritten pages, which otherwise surface later as wrong answers or
// SQLITE_CORRUPT in the middle of a request. An empty database next to stored blobs is a lost
// or truncated one, which SQLite would silently take for a new, empty registry.
Status CheckIntact(Database& db, const std::string& db_path, const fs::path& blob_root) {
  MLPROD_ASSIGN_OR_RETURN(Statement check, db.Prepare("PRAGMA quick_check(5)"));
  std::string problems;
  while (true) {
    MLPROD_ASSIGN_OR_RETURN(bool has_row, check.Step());
    if (!has_row) break;
    const std::string line = check.Text(0);
    if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
  }
  if (!problems.empty()) {
    return Status::DataLoss("the registry database " + db_path + " is corrupt (" + problems +
                            "); restore it from a backup");
  }
  MLPROD_ASSIGN_OR_RETURN(Statement tables, db.Prepare("SELECT COUNT(*) FROM sqlite_master"));
  MLPROD_ASSIGN_OR_RETURN(bool has_row, tables.Step());
  if (has_row && tables.Int64(0) == 0 && HasStoredBlobs(blob_root)) {
    return Status::DataLoss("the registry database " + db_path + " is empty but " +
                            blob_root.string() +
                            " holds stored datasets or models: the database was lost or "
                            "truncated; restore it from a backup (or remove the blob folder to "
                            "start an empty registry)");
  }
  return Status::Ok();
}

constexpr std::string_view kDatasetColumns =
    "name, version, rows, columns, sha256, size_bytes, parse_options, created_by, created_at_ms";

Result<DatasetVersion> ReadDatasetRow(const Statement& stmt) {
  DatasetVersion d;
  d.name = stmt.Text(0);
  d.version = stmt.Int(1);
  d.rows = stmt.Int64(2);
  MLPROD_ASSIGN_OR_RETURN(d.columns, DecodeColumns(stmt.Text(3)));
  d.sha256 = stmt.Text(4);
  d.size_bytes = stmt.Int64(5);
  d.parse_options = stmt.Text(6);
  d.created_by = stmt.Text(7);
  d.created_at_ms = stmt.Int64(8);
  return d;
}

std::string DatasetLabel(std::string_view name, std::optional<int> version) {
  std::string label = "dataset '" + std::string(name) + "'";
  if (version.has_value()) label += " has no version " + std::to_string(*version);
  return label;
}

// Deletes a freshly written blob unless Keep() is called: the row that would reference it did
// not commit.
class BlobGuard {
 public:
  BlobGuard(BlobStore* blobs, std::string key) : blobs_(blobs), key_(std::move(key)) {}
  ~BlobGuard() {
    if (blobs_ != nullptr) blobs_->Delete(key_);  // best effort; an orphan blob is harmless
  }
  void Keep() { blobs_ = nullptr; }

 private:
  BlobStore* blobs_;
  std::string key_;
};

// Open and OpenForTest: the local blob folder unless `blobs` is given, SQLite's default VFS
// unless `sqlite_vfs` names another.
Result<std::unique_ptr<Registry>> OpenWith(const std::string& data_dir,
                                           const std::string& sqlite_vfs,
                                           std::unique_ptr<BlobStore> blobs) {
  if (data_dir.empty()) return Status::Internal("no data folder given");
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return Status::Internal("cannot create data folder " + data_dir + ": " + ec.message());
  const fs::path blob_root = fs::path(data_dir) / "blobs";
  if (blobs == nullptr) {
    MLPROD_ASSIGN_OR_RETURN(blobs, OpenLocalBlobStore(blob_root.string()));
  }
  const std::string db_path = (fs::path(data_dir) / "mlprod.db").string();
  MLPROD_ASSIGN_OR_RETURN(Database db, Database::Open(db_path, sqlite_vfs));
  MLPROD_RETURN_IF_ERROR(CheckIntact(db, db_path, blob_root));
  MLPROD_RETURN_IF_ERROR(Migrate(db));
  RemoveTemporaryBlobs(blob_root);
  return std::unique_ptr<Registry>(
      std::make_unique<SqliteRegistry>(std::move(db), std::move(blobs)));
}

}  // namespace

Status ValidateName(std::string_view what, std::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxNameLength && IsAlnum(name[0]);
  for (size_t i = 1; ok && i < name.size(); ++i) {
    const char c = name[i];
    ok = IsAlnum(c) || c == '_' || c == '.' || c == '-';
  }
  if (ok) return Status::Ok();
  // The name is echoed only when it is short printable ASCII.
  bool printable = name.size() <= 2 * kMaxNameLength;
  for (char c : name) printable = printable && c >= 0x20 && c < 0x7f;
  std::string message(what);
  if (printable) message += " '" + std::string(name) + "'";
  return Status::InvalidArgument(message + " must match [A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<Registry>> Registry::Open(const std::string& data_dir) {
  return OpenWith(data_dir, /*sqlite_vfs=*/"", /*blobs=*/nullptr);
}

Result<std::unique_ptr<Registry>> Registry::OpenForTest(const std::string& data_dir,
                                                        TestOpenOptions options) {
  return OpenWith(data_dir, options.sqlite_vfs, std::move(options.blob_store));
}

// ---- datasets

Result<DatasetVersion> SqliteRegistry::LoadDataset(std::string_view name,
                                                   std::optional<int> version) {
  const std::string sql =
      "SELECT " + std::string(kDatasetColumns) + " FROM datasets WHERE name = ?1" +
      " AND deleted_at_ms = 0" +
      (version.has_value() ? " AND version = ?2" : "") + " ORDER BY version DESC LIMIT 1";
  MLPROD_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(sql));
  stmt.Bind(1, name);
  if (version.has_value()) stmt.Bind(2, *version);
  MLPROD_ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return Status::NotFound(DatasetLabel(name, version) + (version ? "" : " not found"));
  return ReadDatasetRow(stmt);
}

Result<DatasetVersion> SqliteRegistry::CreateDatasetVersion(const NewDatasetVersion& spec,
                                                            BlobWriter* columns, bool* existed) {
  if (existed != nullptr) *existed = false;
  MLPROD_RETURN_IF_ERROR(ValidateName("dataset name", spec.name));
  if (spec.sha256.size() != 64) return Status::InvalidArgument("dataset without its SHA-256");
  // The slow part of making the blob durable happens before the lock; Commit below only renames.
  MLPROD_RETURN_IF_ERROR(columns->Sync());

  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(&db_);
  MLPROD_RETURN_IF_ERROR(txn.Begin());
  {
    MLPROD_ASSIGN_OR_RETURN(Statement same,
                            db_.Prepare("SELECT version FROM datasets WHERE name = ?1 AND "
                                        "sha256 = ?2 AND deleted_at_ms = 0 "
                                        "ORDER BY version LIMIT 1"));
    MLPROD_ASSIGN_OR_RETURN(bool found, same.BindAll(spec.name, spec.sha256).Step());
    if (found) {
      if (existed != nullptr) *existed = true;
      return LoadDataset(spec.name, same.Int(0));
    }
  }
  MLPROD_ASSIGN_OR_RETURN(Statement next,
                          db_.Prepare("SELECT (SELECT COALESCE(MAX(version), 0) + 1 FROM datasets "
                                      "WHERE name = ?1), (SELECT COALESCE(MAX(id), 0) + 1 FROM "
                                      "datasets)"));
  MLPROD_ASSIGN_OR_RETURN(bool has_row, next.BindAll(spec.name).Step());
  if (!has_row) return Status::Internal("no next dataset version");

  DatasetVersion d;
  d.name = spec.name;
  d.version = next.Int(0);
  d.rows = spec.rows;
  d.columns = spec.columns;
  d.sha256 = spec.sha256;
  d.size_bytes = spec.size_bytes;
  d.parse_options = spec.parse_options;
  d.created_by = spec.created_by;
  d.created_at_ms = NowMs();
  const int64_t id = next.Int64(1);
  next.Reset();

  // The blob is durable before the row referencing it is written; the guard removes it again
  // when the row does not commit.
  const std::string key = "datasets/" + std::to_string(id) + ".cols";
  MLPROD_RETURN_IF_ERROR(columns->Commit(key));
  BlobGuard guard(blobs_.get(), key);
  MLPROD_ASSIGN_OR_RETURN(
      Statement insert,
      db_.Prepare("INSERT INTO datasets (id, name, version, sha256, rows, columns, size_bytes, "
                  "parse_options, blob_key, created_by, created_at_ms) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
  MLPROD_RETURN_IF_ERROR(insert
                             .BindAll(id, d.name, d.version, d.sha256, d.rows,
                                      EncodeColumns(d.columns), d.size_bytes, d.parse_options, key,
                                      d.created_by, d.created_at_ms)
                             .Run());
  // A failed COMMIT may still reach the disk: when the WAL's frames were written but their
  // fsync failed, recovery after a crash replays them. So the blob stays (an orphan at worst,
  // overwritten by the next version that takes this id), never a row without its bytes.
  guard.Keep();
  MLPROD_RETURN_IF_ERROR(txn.Commit());
  return d;
}

Result<DatasetVersion> SqliteRegistry::GetDatasetVersion(std::string_view name,
                                                         std::optional<int> version) {
  MLPROD_RETURN_IF_ERROR(ValidateName("dataset name", name));
  std::lock_guard<std::mutex> lock(mu_);
  return LoadDataset(name, version);
}

Result<std::vector<DatasetVersion>> SqliteRegistry::ListDatasetVersions() {
  std::lock_guard<std::mutex> lock(mu_);
  MLPROD_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare("SELECT " + std::string(kDatasetColumns) +
                                                      " FROM datasets WHERE deleted_at_ms = 0 ORDER BY name, version"));
  std::vector<DatasetVersion> all;
  while (true) {
    MLPROD_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    MLPROD_ASSIGN_OR_RETURN(DatasetVersion d, ReadDatasetRow(stmt));
    all.push_back(std::move(d));
  }
  return all;
}

Result<Registry::DatasetBlob> SqliteRegistry::OpenDatasetBlob(std::string_view name, int version) {
  MLPROD_RETURN_IF_ERROR(ValidateName("dataset name", name));
  std::string key;
  {
    std::lock_guard<std::mutex> lock(mu_);
    MLPROD_ASSIGN_OR_RETURN(
        Statement stmt,
        db_.Prepare("SELECT blob_key FROM datasets WHERE name = ?1 AND version = ?2 AND "
                    "deleted_at_ms = 0"));
    MLPROD_ASSIGN_OR_RETURN(bool found, stmt.BindAll(name, version).Step());
    if (!found) return Status::NotFound(DatasetLabel(name, version));
    key = stmt.Text(0);
  }
  // Committed blobs are immutable, so they are read without the lock.
  Result<std::unique_ptr<BlobReader>> reader = blobs_->Open(key);
  if (reader.status().code() == StatusCode::kNotFound) {
    return Status::DataLoss("the bytes of dataset '" + std::string(name) + "' version " +
                            std::to_string(version) + " are missing from the blob store");
  }
  if (!reader.ok()) return reader.status();
  DatasetBlob blob;
  blob.reader = std::move(reader).value();
  blob.csv_text = key.size() >= 4 && key.compare(key.size() - 4, 4, ".csv") == 0;
  return blob;
}

Result<std::vector<int>> SqliteRegistry::DeleteDataset(std::string_view name,
                                                       std::optional<int> version,
                                                       std::string_view actor) {
  MLPROD_RETURN_IF_ERROR(ValidateName("dataset name", name));
  std::vector<int> versions;
  std::vector<std::string> keys;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Transaction txn(&db_);
    MLPROD_RETURN_IF_ERROR(txn.Begin());
    MLPROD_ASSIGN_OR_RETURN(
        Statement live,
        db_.Prepare(std::string("SELECT version, blob_key FROM datasets WHERE name = ?1 AND "
                                "deleted_at_ms = 0") +
                    (version ? " AND version = ?2" : "") + " ORDER BY version"));
    live.Bind(1, name);
    if (version) live.Bind(2, *version);
    while (true) {
      MLPROD_ASSIGN_OR_RETURN(bool has_row, live.Step());
      if (!has_row) break;
      versions.push_back(live.Int(0));
      keys.push_back(live.Text(1));
    }
    const std::string label =
        "dataset " + std::string(name) + (version ? "@" + std::to_string(*version) : "");
    if (versions.empty()) return Status::NotFound(label + " not found");

    // Lineage and running work block the whole delete.
    MLPROD_ASSIGN_OR_RETURN(
        Statement users,
        db_.Prepare(std::string("SELECT 'model ' || model || ' version ' || version FROM "
                                "model_versions WHERE dataset_name = ?1") +
                    (version ? " AND dataset_version = ?2" : "") +
                    " UNION ALL SELECT 'run r' || seq || ' (' || status || ')' FROM runs WHERE "
                    "dataset_name = ?1 AND status IN ('QUEUED', 'RUNNING')" +
                    (version ? " AND dataset_version = ?2" : "") + " LIMIT 5"));
    users.Bind(1, name);
    if (version) users.Bind(2, *version);
    std::string blockers;
    while (true) {
      MLPROD_ASSIGN_OR_RETURN(bool has_row, users.Step());
      if (!has_row) break;
      blockers += (blockers.empty() ? "" : ", ") + users.Text(0);
    }
    if (!blockers.empty()) {
      return Status::FailedPrecondition(label + " is still used by " +
                                        blockers + "; nothing was deleted");
    }
    MLPROD_ASSIGN_OR_RETURN(
        Statement mark,
        db_.Prepare(std::string("UPDATE datasets SET deleted_at_ms = ?2, deleted_by = ?3 WHERE "
                                "name = ?1 AND deleted_at_ms = 0") +
                    (version ? " AND version = ?4" : "")));
    mark.BindAll(name, NowMs(), actor);
    if (version) mark.Bind(4, *version);
    MLPROD_RETURN_IF_ERROR(mark.Run());
    MLPROD_RETURN_IF_ERROR(txn.Commit());
  }
  // After the commit nothing references the bytes; a failed delete leaves a harmless orphan.
  for (const std::string& key : keys) blobs_->Delete(key);
  return versions;
}

// ---- experiments

Status SqliteRegistry::CheckExperimentExists(std::string_view name) {
  MLPROD_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare("SELECT 1 FROM experiments WHERE name = ?1"));
  MLPROD_ASSIGN_OR_RETURN(bool found, stmt.BindAll(name).Step());
  if (!found) return Status::NotFound("experiment '" + std::string(name) + "' not found");
  return Status::Ok();
}

Result<Experiment> SqliteRegistry::CreateExperiment(std::string_view name, std::string_view actor) {
  MLPROD_RETURN_IF_ERROR(ValidateName("experiment name", name));
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(&db_);
  MLPROD_RETURN_IF_ERROR(txn.Begin());
  if (CheckExperimentExists(name).ok()) {
    return Status::AlreadyExists("experiment '" + std::string(name) + "' already exists");
  }
  Experiment e{std::string(name), std::string(actor), NowMs()};
  MLPROD_ASSIGN_OR_RETURN(
      Statement insert,
      db_.Prepare("INSERT INTO experiments (name, created_by, created_at_ms) VALUES (?1, ?2, ?3)"));
  MLPROD_RETURN_IF_ERROR(insert.BindAll(e.name, e.created_by, e.created_at_ms).Run());
  MLPROD_RETURN_IF_ERROR(txn.Commit());
  return e;
}

Result<Experiment> SqliteRegistry::GetExperiment(std::string_view name) {
  MLPROD_RETURN_IF_ERROR(ValidateName("experiment name", name));
  std::lock_guard<std::mutex> lock(mu_);
  MLPROD_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare("SELECT name, created_by, created_at_ms FROM experiments WHERE name = ?1"));
  MLPROD_ASSIGN_OR_RETURN(bool found, stmt.BindAll(name).Step());
  if (!found) return Status::NotFound("experiment '" + std::string(name) + "' not found");
  return Experiment{stmt.Text(0), stmt.Text(1), stmt.Int64(2)};
}

Result<std::vector<Experiment>> SqliteRegistry::ListExperiments() {
  std::lock_guard<std::mutex> lock(mu_);
  MLPROD_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare("SELECT name, created_by, created_at_ms FROM experiments ORDER BY name"));
  std::vector<Experiment> all;
  while (true) {
    MLPROD_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    all.push_back({stmt.Text(0), stmt.Text(1), stmt.Int64(2)});
  }
  return all;
}

}  // namespace mlprod::registry
