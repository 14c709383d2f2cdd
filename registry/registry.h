// Registry: the durable state of mlprod — datasets, experiments, runs, model versions, aliases
// and the append-only alias history — in SQLite (metadata) plus a BlobStore (bytes).
//
// SQLite runs in WAL mode with synchronous=FULL and a busy_timeout; the schema is versioned in a
// `schema_version` table and migrated forward once at Open (a newer schema is refused). Every
// write is one `BEGIN IMMEDIATE` transaction, so an OK return means the write is durable and a
// crash leaves the last acknowledged state. Blobs are written (and fsynced) before the row that
// references them commits; a failed write removes the blob it wrote.
//
// Names (dataset, experiment, model, alias) must match [A-Za-z0-9][A-Za-z0-9_.-]{0,127}; others
// are INVALID_ARGUMENT before anything is touched. Names reach SQL only as bound parameters.
//
// Thread-safe: one Registry is shared by every server thread; writes are serialised internally.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ml/status.h"
#include "registry/blob_store.h"

namespace mlprod::registry {

// OK when `name` is a valid identifier; INVALID_ARGUMENT naming `what` ("dataset name") otherwise.
Status ValidateName(std::string_view what, std::string_view name);

// Milliseconds since the Unix epoch, as every *_ms field holds.
int64_t NowMs();

struct ColumnInfo {
  std::string name;
  std::string type;  // "numeric" | "categorical" | "boolean"
  int64_t missing = 0;
};

struct DatasetVersion {
  std::string name;
  int version = 0;  // 1, 2, ... per name
  int64_t rows = 0;
  std::vector<ColumnInfo> columns;
  std::string sha256;        // of the uploaded bytes, lowercase hex
  int64_t size_bytes = 0;
  std::string parse_options; // JSON the server wrote (delimiter, na, schema), returned as is
  std::string created_by;
  int64_t created_at_ms = 0;
};

struct NewDatasetVersion {
  std::string name;
  int64_t rows = 0;
  std::vector<ColumnInfo> columns;
  std::string parse_options;
  std::string created_by;
  std::string sha256;      // of the uploaded bytes, lowercase hex
  int64_t size_bytes = 0;  // of the uploaded bytes
};

struct Experiment {
  std::string name;
  std::string created_by;
  int64_t created_at_ms = 0;
};

enum class RunStatus {
  kQueued,     // accepted, waiting for a worker
  kRunning,    // a worker is fitting it
  kSucceeded,  // fitted; model blob and report stored
  kFailed,     // error set (e.g. "interrupted" after a server stop)
  kCancelled,  // stopped on request
};
std::string_view RunStatusName(RunStatus s);  // "QUEUED", "RUNNING", ...

struct Run {
  std::string id;  // "r1", "r2", ... in submission order
  std::string experiment;
  std::string dataset_name;
  int dataset_version = 0;
  std::string formula;
  std::string kind;
  std::map<std::string, std::string> params;
  std::string missing;       // "drop" | "mean" | "median"
  double test_fraction = 0;
  uint64_t seed = 0;
  RunStatus status = RunStatus::kQueued;
  std::string error;                      // why it FAILED / was CANCELLED
  std::map<std::string, double> metrics;  // empty until SUCCEEDED
  std::string report;                     // JSON the server wrote at the end, returned as is
  std::string created_by;
  int64_t created_at_ms = 0, started_at_ms = 0, finished_at_ms = 0;
};

struct ModelVersion {
  std::string model;
  int version = 0;  // 1, 2, ... per model name
  std::string run_id;
  std::string dataset_name;
  int dataset_version = 0;
  std::string dataset_sha256;
  std::string formula;
  std::string kind;
  std::map<std::string, std::string> params;
  std::map<std::string, double> metrics;
  std::string signature;  // JSON the server wrote, returned as is
  std::string description;
  std::string created_by;
  int64_t created_at_ms = 0;
  std::vector<std::string> aliases;  // aliases pointing at this version now, sorted
};

// One entry of the append-only alias history.
struct AliasChange {
  int64_t seq = 0;  // increasing, the history's order
  std::string model;
  std::string alias;
  std::optional<int> from_version;  // nullopt when the alias was new
  int to_version = 0;
  std::string action;  // "promote" | "rollback"
  std::string actor;
  std::string reason;
  bool forced = false;
  int64_t time_ms = 0;
};

struct MoveAliasRequest {
  std::string model;
  std::string alias;
  int to_version = 0;
  // Compare-and-swap: the version the caller saw the alias at (nullopt = unset). When the alias
  // points elsewhere now, MoveAlias returns ABORTED and changes nothing.
  std::optional<int> expected_from;
  std::string action;  // "promote" | "rollback"
  std::string actor;
  std::string reason;
  bool forced = false;
};

// An API token (SPEC §8): "mlp_<selector>_<secret>". The secret itself is never stored, only
// its SHA-256.
struct Token {
  std::string name;
  std::string role;  // "viewer" | "editor" | "admin"
  std::string created_by;
  int64_t created_at_ms = 0;
  int64_t revoked_at_ms = 0;  // 0 while the token is valid
  std::string revoked_by;
};

class Registry {
 public:
  // Opens (creating when missing) `data_dir`/mlprod.db and the blob folder `data_dir`/blobs,
  // runs pending migrations. INTERNAL when the folder or database cannot be opened;
  // FAILED_PRECONDITION when the database's schema is newer than this binary knows.
  // DATA_LOSS, naming the file, when the database is corrupt (PRAGMA quick_check) or is empty
  // while the blob folder holds stored datasets or models (the database was lost or truncated).
  static Result<std::unique_ptr<Registry>> Open(const std::string& data_dir);

  // Test seam, never set in production: what OpenForTest changes about Open.
  struct TestOpenOptions {
    std::string sqlite_vfs;                 // a VFS the test registered; empty: SQLite's default
    std::unique_ptr<BlobStore> blob_store;  // instead of `data_dir`/blobs; null: that folder
  };
  // Open with a fault-injecting SQLite VFS and/or blob store; otherwise exactly as Open.
  static Result<std::unique_ptr<Registry>> OpenForTest(const std::string& data_dir,
                                                       TestOpenOptions options);
  virtual ~Registry() = default;

  // ---- datasets
  // Where a new version's stored form is written (BlobStore::NewWriter) and an upload's scratch
  // space (BlobStore::NewScratch).
  virtual BlobStore& blobs() = 0;

  // Creates version N+1 of `spec.name`, stored as the column file in `columns` (a writer from
  // blobs(); it is synced and committed here), or, when a version of that name already has
  // spec.sha256, returns that version with *existed = true and stores nothing.
  virtual Result<DatasetVersion> CreateDatasetVersion(const NewDatasetVersion& spec,
                                                      BlobWriter* columns, bool* existed) = 0;
  // The given version, or the latest when `version` is nullopt. NOT_FOUND when unknown.
  virtual Result<DatasetVersion> GetDatasetVersion(std::string_view name,
                                                   std::optional<int> version) = 0;
  // Every version of every dataset, by name then version.
  virtual Result<std::vector<DatasetVersion>> ListDatasetVersions() = 0;
  // The stored form of a version: a column file (ml/column_file.h), or the CSV text itself for a
  // version uploaded before column files existed. NOT_FOUND when unknown.
  struct DatasetBlob {
    std::unique_ptr<BlobReader> reader;
    bool csv_text = false;
  };
  virtual Result<DatasetBlob> OpenDatasetBlob(std::string_view name, int version) = 0;
  // Deletes one version (every version when `version` is nullopt) and its bytes; returns the
  // version numbers deleted. A deleted version is gone for every read, and its number is never
  // given again. NOT_FOUND when unknown; FAILED_PRECONDITION, deleting nothing, when a model
  // version's lineage names a version to delete or a queued or running run reads it.
  virtual Result<std::vector<int>> DeleteDataset(std::string_view name, std::optional<int> version,
                                                 std::string_view actor) = 0;

  // ---- experiments ("Default" exists from the start)
  // ALREADY_EXISTS when the name is taken.
  virtual Result<Experiment> CreateExperiment(std::string_view name, std::string_view actor) = 0;
  virtual Result<Experiment> GetExperiment(std::string_view name) = 0;  // NOT_FOUND
  virtual Result<std::vector<Experiment>> ListExperiments() = 0;

  // ---- runs
  // Stores a new QUEUED run; fills id ("r<N>") and created_at_ms. The experiment and the dataset
  // version must exist (NOT_FOUND otherwise).
  virtual Result<Run> CreateRun(Run spec) = 0;
  virtual Result<Run> GetRun(std::string_view id) = 0;  // NOT_FOUND
  // Runs of one experiment (all when nullopt), newest first.
  virtual Result<std::vector<Run>> ListRuns(std::optional<std::string> experiment) = 0;
  // QUEUED -> RUNNING. FAILED_PRECONDITION from any other state.
  virtual Status MarkRunRunning(std::string_view id) = 0;
  // RUNNING or QUEUED -> SUCCEEDED, storing the model blob, metrics and report together.
  virtual Status CompleteRun(std::string_view id, const std::map<std::string, double>& metrics,
                             std::string_view report, std::string_view model_bytes) = 0;
  // RUNNING or QUEUED -> FAILED or CANCELLED with `error`. FAILED_PRECONDITION when already ended.
  virtual Status EndRun(std::string_view id, RunStatus status, std::string_view error) = 0;
  // Every QUEUED or RUNNING run becomes FAILED with error "interrupted"; called once at start-up.
  // Returns how many changed.
  virtual Result<int> FailInterruptedRuns() = 0;
  // The fitted model of a SUCCEEDED run. NOT_FOUND when the run is unknown or has no model.
  virtual Result<std::string> ReadRunModel(std::string_view run_id) = 0;

  // ---- model versions
  // Creates version N+1 of `model` from a SUCCEEDED run (FAILED_PRECONDITION otherwise),
  // copying its lineage (dataset, sha256, kind, params, metrics). `formula` is the fitted
  // model's own (a stepwise run's selected formula, not the scope it searched); empty: the run's.
  virtual Result<ModelVersion> RegisterModelVersion(std::string_view model,
                                                    std::string_view run_id,
                                                    std::string_view signature,
                                                    std::string_view formula,
                                                    std::string_view description,
                                                    std::string_view actor) = 0;
  virtual Result<ModelVersion> GetModelVersion(std::string_view model, int version) = 0;
  // NOT_FOUND when the model has no version.
  virtual Result<std::vector<ModelVersion>> ListModelVersions(std::string_view model) = 0;
  // Names of every model, sorted.
  virtual Result<std::vector<std::string>> ListModels() = 0;

  // ---- aliases
  // The version `alias` points at, or nullopt when unset. NOT_FOUND when the model is unknown.
  virtual Result<std::optional<int>> ResolveAlias(std::string_view model,
                                                  std::string_view alias) = 0;
  // Moves the alias and appends its history entry in one transaction. NOT_FOUND for an unknown
  // model or version; ABORTED when expected_from does not hold.
  virtual Result<AliasChange> MoveAlias(const MoveAliasRequest& request) = 0;
  // History of one model (one alias when given), oldest first. NOT_FOUND for an unknown model.
  virtual Result<std::vector<AliasChange>> History(std::string_view model,
                                                   std::optional<std::string> alias) = 0;

  // ---- tokens
  // Stores a token found by `selector` whose secret hashes to `secret_sha256` (64 lowercase hex
  // digits). Token names follow ValidateName and are never reused, revoked ones included:
  // ALREADY_EXISTS. A selector in use is ABORTED (a lost race: draw another).
  virtual Result<Token> CreateToken(std::string_view name, std::string_view role,
                                    std::string_view selector, std::string_view secret_sha256,
                                    std::string_view actor) = 0;
  // Every token ever created, revoked ones too, by name.
  virtual Result<std::vector<Token>> ListTokens() = 0;
  // Revokes a token for good. NOT_FOUND when unknown; FAILED_PRECONDITION when already revoked.
  virtual Result<Token> RevokeToken(std::string_view name, std::string_view actor) = 0;
  // The valid (not revoked) token of `selector` and the SHA-256 of its secret, or nullopt. The
  // caller compares the hash, in constant time.
  struct TokenCredential {
    Token token;
    std::string secret_sha256;
  };
  virtual Result<std::optional<TokenCredential>> FindValidToken(std::string_view selector) = 0;
  // How many tokens were ever created (revoked ones count: auth, once on, stays on).
  virtual Result<int64_t> CountTokens() = 0;
};

}  // namespace mlprod::registry
