// SqliteRegistry: runs and their state machine
//   QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED   (QUEUED may also end directly).
#include <charconv>
#include <cstring>
#include <string>

#include "ml/checksum.h"
#include "registry/codec.h"
#include "registry/sqlite_registry.h"

namespace mlprod::registry {
namespace {

constexpr std::string_view kRunColumns =
    "seq, experiment, dataset_name, dataset_version, formula, kind, params, missing, "
    "test_fraction, seed, status, error, metrics, report, created_by, created_at_ms, "
    "started_at_ms, finished_at_ms";

Result<Run> ReadRunRow(const Statement& stmt) {
  Run run;
  run.id = RunIdFromSeq(stmt.Int64(0));
  run.experiment = stmt.Text(1);
  run.dataset_name = stmt.Text(2);
  run.dataset_version = stmt.Int(3);
  run.formula = stmt.Text(4);
  run.kind = stmt.Text(5);
  MLPROD_ASSIGN_OR_RETURN(run.params, DecodeParams(stmt.Text(6)));
  run.missing = stmt.Text(7);
  run.test_fraction = stmt.Double(8);
  run.seed = static_cast<uint64_t>(stmt.Int64(9));  // stored as its int64 bit pattern
  std::optional<RunStatus> status = ParseRunStatus(stmt.Text(10));
  if (!status.has_value()) return Status::Internal("corrupt run status in the registry");
  run.status = *status;
  run.error = stmt.Text(11);
  MLPROD_ASSIGN_OR_RETURN(run.metrics, DecodeMetrics(stmt.Text(12)));
  run.report = stmt.Text(13);
  run.created_by = stmt.Text(14);
  run.created_at_ms = stmt.Int64(15);
  run.started_at_ms = stmt.Int64(16);
  run.finished_at_ms = stmt.Int64(17);
  return run;
}

Status RunNotFound(std::string_view id) {
  return Status::NotFound("run '" + std::string(id) + "' not found");
}

bool IsActive(RunStatus s) { return s == RunStatus::kQueued || s == RunStatus::kRunning; }

// A model blob ends with the XXH64 of the model's bytes and this magic, so that a damaged blob
// is refused when read instead of serving altered coefficients. Blobs stored before the
// checksum have no trailer and are returned as they are.
constexpr std::string_view kModelTrailerMagic = "MLPSUM01";
constexpr size_t kModelTrailer = 16;  // uint64 XXH64 (little-endian) + magic

std::string SealModel(std::string_view model_bytes) {
  std::string sealed(model_bytes);
  const uint64_t hash = ml::Xxh64(model_bytes);
  sealed.append(reinterpret_cast<const char*>(&hash), sizeof(hash));
  sealed.append(kModelTrailerMagic);
  return sealed;
}

Result<std::string> UnsealModel(std::string blob, std::string_view run_id, std::string_view key) {
  if (blob.size() < kModelTrailer ||
      std::string_view(blob).substr(blob.size() - kModelTrailerMagic.size()) !=
          kModelTrailerMagic) {
    return blob;
  }
  const size_t size = blob.size() - kModelTrailer;
  uint64_t hash;
  std::memcpy(&hash, blob.data() + size, sizeof(hash));
  if (ml::Xxh64(std::string_view(blob).substr(0, size)) != hash) {
    return Status::DataLoss("the model of run " + std::string(run_id) + " (blob " +
                            std::string(key) + ") is damaged: checksum mismatch");
  }
  blob.resize(size);
  return blob;
}

Status AlreadyEnded(std::string_view id, RunStatus s) {
  return Status::FailedPrecondition("run " + std::string(id) + " has already ended (" +
                                    std::string(RunStatusName(s)) + ")");
}

}  // namespace

std::string_view RunStatusName(RunStatus s) {
  switch (s) {
    case RunStatus::kQueued:
      return "QUEUED";
    case RunStatus::kRunning:
      return "RUNNING";
    case RunStatus::kSucceeded:
      return "SUCCEEDED";
    case RunStatus::kFailed:
      return "FAILED";
    case RunStatus::kCancelled:
      return "CANCELLED";
  }
  return "UNKNOWN";
}

std::optional<RunStatus> ParseRunStatus(std::string_view name) {
  for (RunStatus s : {RunStatus::kQueued, RunStatus::kRunning, RunStatus::kSucceeded,
                      RunStatus::kFailed, RunStatus::kCancelled}) {
    if (RunStatusName(s) == name) return s;
  }
  return std::nullopt;
}

std::optional<int64_t> ParseRunId(std::string_view id) {
  // "r" then a positive decimal without leading zeros, so each run has exactly one id.
  if (id.size() < 2 || id.size() > 20 || id[0] != 'r' || id[1] == '0') return std::nullopt;
  int64_t seq = 0;
  const char* end = id.data() + id.size();
  auto [ptr, ec] = std::from_chars(id.data() + 1, end, seq);
  if (ec != std::errc() || ptr != end || seq <= 0) return std::nullopt;
  return seq;
}

std::string RunIdFromSeq(int64_t seq) {
  // Appending (rather than "r" + ...) avoids a GCC 12 -Wrestrict false positive.
  std::string id = "r";
  id += std::to_string(seq);
  return id;
}

Result<Run> SqliteRegistry::LoadRun(int64_t seq) {
  MLPROD_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare("SELECT " + std::string(kRunColumns) +
                                                      " FROM runs WHERE seq = ?1"));
  MLPROD_ASSIGN_OR_RETURN(bool found, stmt.BindAll(seq).Step());
  if (!found) return RunNotFound(RunIdFromSeq(seq));
  return ReadRunRow(stmt);
}

Result<RunStatus> SqliteRegistry::LoadRunStatus(int64_t seq, std::string_view id) {
  MLPROD_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare("SELECT status FROM runs WHERE seq = ?1"));
  MLPROD_ASSIGN_OR_RETURN(bool found, stmt.BindAll(seq).Step());
  if (!found) return RunNotFound(id);
  std::optional<RunStatus> status = ParseRunStatus(stmt.Text(0));
  if (!status.has_value()) return Status::Internal("corrupt run status in the registry");
  return *status;
}

Result<Run> SqliteRegistry::CreateRun(Run spec) {
  MLPROD_RETURN_IF_ERROR(ValidateName("experiment name", spec.experiment));
  MLPROD_RETURN_IF_ERROR(ValidateName("dataset name", spec.dataset_name));
  spec.status = RunStatus::kQueued;
  spec.error.clear();
  spec.metrics.clear();
  spec.report.clear();
  spec.started_at_ms = spec.finished_at_ms = 0;
  spec.created_at_ms = NowMs();

  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(&db_);
  MLPROD_RETURN_IF_ERROR(txn.Begin());
  MLPROD_RETURN_IF_ERROR(CheckExperimentExists(spec.experiment));
  {
    MLPROD_ASSIGN_OR_RETURN(Statement dataset,
                            db_.Prepare("SELECT 1 FROM datasets WHERE name = ?1 AND version = ?2"));
    MLPROD_ASSIGN_OR_RETURN(bool found,
                            dataset.BindAll(spec.dataset_name, spec.dataset_version).Step());
    if (!found) {
      return Status::NotFound("dataset '" + spec.dataset_name + "' has no version " +
                              std::to_string(spec.dataset_version));
    }
  }
  MLPROD_ASSIGN_OR_RETURN(
      Statement insert,
      db_.Prepare("INSERT INTO runs (experiment, dataset_name, dataset_version, formula, kind, "
                  "params, missing, test_fraction, seed, status, created_by, created_at_ms) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'QUEUED', ?10, ?11)"));
  MLPROD_RETURN_IF_ERROR(
      insert
          .BindAll(spec.experiment, spec.dataset_name, spec.dataset_version, spec.formula,
                   spec.kind, EncodeParams(spec.params), spec.missing, spec.test_fraction,
                   static_cast<int64_t>(spec.seed), spec.created_by, spec.created_at_ms)
          .Run());
  spec.id = RunIdFromSeq(db_.LastInsertRowId());
  MLPROD_RETURN_IF_ERROR(txn.Commit());
  return spec;
}

Result<Run> SqliteRegistry::GetRun(std::string_view id) {
  std::optional<int64_t> seq = ParseRunId(id);
  if (!seq.has_value()) return RunNotFound(id);
  std::lock_guard<std::mutex> lock(mu_);
  return LoadRun(*seq);
}

Result<std::vector<Run>> SqliteRegistry::ListRuns(std::optional<std::string> experiment) {
  if (experiment.has_value()) {
    MLPROD_RETURN_IF_ERROR(ValidateName("experiment name", *experiment));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (experiment.has_value()) MLPROD_RETURN_IF_ERROR(CheckExperimentExists(*experiment));
  MLPROD_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare("SELECT " + std::string(kRunColumns) + " FROM runs" +
                  (experiment.has_value() ? " WHERE experiment = ?1" : "") + " ORDER BY seq DESC"));
  if (experiment.has_value()) stmt.Bind(1, *experiment);
  std::vector<Run> runs;
  while (true) {
    MLPROD_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    MLPROD_ASSIGN_OR_RETURN(Run run, ReadRunRow(stmt));
    runs.push_back(std::move(run));
  }
  return runs;
}

Status SqliteRegistry::MarkRunRunning(std::string_view id) {
  std::optional<int64_t> seq = ParseRunId(id);
  if (!seq.has_value()) return RunNotFound(id);
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(&db_);
  MLPROD_RETURN_IF_ERROR(txn.Begin());
  MLPROD_ASSIGN_OR_RETURN(RunStatus status, LoadRunStatus(*seq, id));
  if (status != RunStatus::kQueued) {
    return Status::FailedPrecondition("run " + std::string(id) + " is " +
                                      std::string(RunStatusName(status)) + ", not QUEUED");
  }
  MLPROD_ASSIGN_OR_RETURN(
      Statement update,
      db_.Prepare("UPDATE runs SET status = 'RUNNING', started_at_ms = ?2 WHERE seq = ?1"));
  MLPROD_RETURN_IF_ERROR(update.BindAll(*seq, NowMs()).Run());
  return txn.Commit();
}

Status SqliteRegistry::CompleteRun(std::string_view id,
                                   const std::map<std::string, double>& metrics,
                                   std::string_view report, std::string_view model_bytes) {
  std::optional<int64_t> seq = ParseRunId(id);
  if (!seq.has_value()) return RunNotFound(id);
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(&db_);
  MLPROD_RETURN_IF_ERROR(txn.Begin());
  MLPROD_ASSIGN_OR_RETURN(RunStatus status, LoadRunStatus(*seq, id));
  if (!IsActive(status)) return AlreadyEnded(id, status);

  // Key from the run id, never from input; durable before the row references it.
  const std::string key = "models/" + RunIdFromSeq(*seq) + ".model";
  MLPROD_RETURN_IF_ERROR(blobs_->Put(key, SealModel(model_bytes)));
  MLPROD_ASSIGN_OR_RETURN(
      Statement update,
      db_.Prepare("UPDATE runs SET status = 'SUCCEEDED', error = '', metrics = ?2, report = ?3, "
                  "model_blob_key = ?4, finished_at_ms = ?5 WHERE seq = ?1"));
  Status s = update.BindAll(*seq, EncodeMetrics(metrics), report, key, NowMs()).Run();
  if (!s.ok()) {
    blobs_->Delete(key);  // best effort: nothing references it
    return s;
  }
  // A failed COMMIT may still reach the disk (WAL frames written, their fsync failed: a crash
  // recovery replays them), so the blob stays rather than risk a SUCCEEDED run without a model.
  return txn.Commit();
}

Status SqliteRegistry::EndRun(std::string_view id, RunStatus status, std::string_view error) {
  if (status != RunStatus::kFailed && status != RunStatus::kCancelled) {
    return Status::InvalidArgument("EndRun takes FAILED or CANCELLED, not " +
                                   std::string(RunStatusName(status)));
  }
  std::optional<int64_t> seq = ParseRunId(id);
  if (!seq.has_value()) return RunNotFound(id);
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(&db_);
  MLPROD_RETURN_IF_ERROR(txn.Begin());
  MLPROD_ASSIGN_OR_RETURN(RunStatus current, LoadRunStatus(*seq, id));
  if (!IsActive(current)) return AlreadyEnded(id, current);
  MLPROD_ASSIGN_OR_RETURN(
      Statement update,
      db_.Prepare("UPDATE runs SET status = ?2, error = ?3, finished_at_ms = ?4 WHERE seq = ?1"));
  MLPROD_RETURN_IF_ERROR(update.BindAll(*seq, RunStatusName(status), error, NowMs()).Run());
  return txn.Commit();
}

Result<int> SqliteRegistry::FailInterruptedRuns() {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(&db_);
  MLPROD_RETURN_IF_ERROR(txn.Begin());
  MLPROD_ASSIGN_OR_RETURN(
      Statement update,
      db_.Prepare("UPDATE runs SET status = 'FAILED', error = 'interrupted', finished_at_ms = ?1 "
                  "WHERE status IN ('QUEUED', 'RUNNING')"));
  MLPROD_RETURN_IF_ERROR(update.BindAll(NowMs()).Run());
  const int changed = db_.Changes();
  MLPROD_RETURN_IF_ERROR(txn.Commit());
  return changed;
}

Result<std::string> SqliteRegistry::ReadRunModel(std::string_view run_id) {
  std::optional<int64_t> seq = ParseRunId(run_id);
  if (!seq.has_value()) return RunNotFound(run_id);
  std::string key;
  {
    std::lock_guard<std::mutex> lock(mu_);
    MLPROD_ASSIGN_OR_RETURN(Statement stmt,
                            db_.Prepare("SELECT model_blob_key FROM runs WHERE seq = ?1"));
    MLPROD_ASSIGN_OR_RETURN(bool found, stmt.BindAll(*seq).Step());
    if (!found) return RunNotFound(run_id);
    if (stmt.IsNull(0)) {
      return Status::NotFound("run " + std::string(run_id) + " has no fitted model");
    }
    key = stmt.Text(0);
  }
  // A committed model blob is immutable; read it without the lock.
  Result<std::string> bytes = blobs_->Get(key);
  if (bytes.status().code() == StatusCode::kNotFound) {
    return Status::DataLoss("the model of run " + std::string(run_id) +
                            " is missing from the blob store");
  }
  if (!bytes.ok()) return bytes.status();
  return UnsealModel(std::move(bytes).value(), run_id, key);
}

}  // namespace mlprod::registry
