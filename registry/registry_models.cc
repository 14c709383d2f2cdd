// SqliteRegistry: model versions, aliases and the append-only alias history.
#include <string>

#include "registry/codec.h"
#include "registry/sqlite_registry.h"

namespace mlprod::registry {
namespace {

constexpr std::string_view kVersionColumns =
    "model, version, run_seq, dataset_name, dataset_version, dataset_sha256, formula, kind, "
    "params, metrics, signature, description, created_by, created_at_ms";

constexpr std::string_view kHistoryColumns =
    "seq, model, alias, from_version, to_version, action, actor, reason, forced, time_ms";

Result<ModelVersion> ReadVersionRow(const Statement& stmt) {
  ModelVersion mv;
  mv.model = stmt.Text(0);
  mv.version = stmt.Int(1);
  mv.run_id = RunIdFromSeq(stmt.Int64(2));
  mv.dataset_name = stmt.Text(3);
  mv.dataset_version = stmt.Int(4);
  mv.dataset_sha256 = stmt.Text(5);
  mv.formula = stmt.Text(6);
  mv.kind = stmt.Text(7);
  MLPROD_ASSIGN_OR_RETURN(mv.params, DecodeParams(stmt.Text(8)));
  MLPROD_ASSIGN_OR_RETURN(mv.metrics, DecodeMetrics(stmt.Text(9)));
  mv.signature = stmt.Text(10);
  mv.description = stmt.Text(11);
  mv.created_by = stmt.Text(12);
  mv.created_at_ms = stmt.Int64(13);
  return mv;
}

AliasChange ReadHistoryRow(const Statement& stmt) {
  AliasChange c;
  c.seq = stmt.Int64(0);
  c.model = stmt.Text(1);
  c.alias = stmt.Text(2);
  c.from_version = stmt.OptionalInt(3);
  c.to_version = stmt.Int(4);
  c.action = stmt.Text(5);
  c.actor = stmt.Text(6);
  c.reason = stmt.Text(7);
  c.forced = stmt.Int64(8) != 0;
  c.time_ms = stmt.Int64(9);
  return c;
}

std::string NoVersion(std::string_view model, int version) {
  return "model '" + std::string(model) + "' has no version " + std::to_string(version);
}

std::string Describe(std::optional<int> version) {
  return version.has_value() ? "version " + std::to_string(*version) : "unset";
}

}  // namespace

Status SqliteRegistry::CheckModelExists(std::string_view model) {
  MLPROD_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare("SELECT 1 FROM model_versions WHERE model = ?1 LIMIT 1"));
  MLPROD_ASSIGN_OR_RETURN(bool found, stmt.BindAll(model).Step());
  if (!found) return Status::NotFound("model '" + std::string(model) + "' not found");
  return Status::Ok();
}

Result<ModelVersion> SqliteRegistry::LoadModelVersion(std::string_view model, int version) {
  MLPROD_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare("SELECT " + std::string(kVersionColumns) +
                                      " FROM model_versions WHERE model = ?1 AND version = ?2"));
  MLPROD_ASSIGN_OR_RETURN(bool found, stmt.BindAll(model, version).Step());
  if (!found) return Status::NotFound(NoVersion(model, version));
  MLPROD_ASSIGN_OR_RETURN(ModelVersion mv, ReadVersionRow(stmt));
  MLPROD_ASSIGN_OR_RETURN(
      Statement aliases,
      db_.Prepare("SELECT alias FROM aliases WHERE model = ?1 AND version = ?2 ORDER BY alias"));
  aliases.BindAll(model, version);
  while (true) {
    MLPROD_ASSIGN_OR_RETURN(bool has_row, aliases.Step());
    if (!has_row) break;
    mv.aliases.push_back(aliases.Text(0));
  }
  return mv;
}

Result<ModelVersion> SqliteRegistry::RegisterModelVersion(std::string_view model,
                                                          std::string_view run_id,
                                                          std::string_view signature,
                                                          std::string_view formula,
                                                          std::string_view description,
                                                          std::string_view actor) {
  MLPROD_RETURN_IF_ERROR(ValidateName("model name", model));
  std::optional<int64_t> seq = ParseRunId(run_id);
  if (!seq.has_value()) return Status::NotFound("run '" + std::string(run_id) + "' not found");

  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(&db_);
  MLPROD_RETURN_IF_ERROR(txn.Begin());
  MLPROD_ASSIGN_OR_RETURN(Run run, LoadRun(*seq));
  if (run.status != RunStatus::kSucceeded) {
    return Status::FailedPrecondition("run " + run.id + " is " +
                                      std::string(RunStatusName(run.status)) +
                                      "; only a SUCCEEDED run can be registered");
  }
  ModelVersion mv;
  mv.model = std::string(model);
  mv.run_id = run.id;
  mv.dataset_name = run.dataset_name;
  mv.dataset_version = run.dataset_version;
  mv.formula = formula.empty() ? run.formula : std::string(formula);
  mv.kind = run.kind;
  mv.params = run.params;
  mv.metrics = run.metrics;
  mv.signature = std::string(signature);
  mv.description = std::string(description);
  mv.created_by = std::string(actor);
  mv.created_at_ms = NowMs();
  {
    MLPROD_ASSIGN_OR_RETURN(
        Statement sha, db_.Prepare("SELECT sha256 FROM datasets WHERE name = ?1 AND version = ?2"));
    MLPROD_ASSIGN_OR_RETURN(bool found, sha.BindAll(mv.dataset_name, mv.dataset_version).Step());
    if (!found) return Status::Internal("run " + run.id + " references a missing dataset");
    mv.dataset_sha256 = sha.Text(0);
  }
  {
    // Inside the IMMEDIATE transaction, so no other writer can take the same number.
    MLPROD_ASSIGN_OR_RETURN(
        Statement next,
        db_.Prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model = ?1"));
    MLPROD_ASSIGN_OR_RETURN(bool has_row, next.BindAll(model).Step());
    if (!has_row) return Status::Internal("no next model version");
    mv.version = next.Int(0);
  }
  MLPROD_ASSIGN_OR_RETURN(
      Statement insert,
      db_.Prepare("INSERT INTO model_versions (model, version, run_seq, dataset_name, "
                  "dataset_version, dataset_sha256, formula, kind, params, metrics, signature, "
                  "description, created_by, created_at_ms) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"));
  MLPROD_RETURN_IF_ERROR(insert
                             .BindAll(mv.model, mv.version, *seq, mv.dataset_name,
                                      mv.dataset_version, mv.dataset_sha256, mv.formula, mv.kind,
                                      EncodeParams(mv.params), EncodeMetrics(mv.metrics),
                                      mv.signature, mv.description, mv.created_by, mv.created_at_ms)
                             .Run());
  MLPROD_RETURN_IF_ERROR(txn.Commit());
  return mv;
}

Result<ModelVersion> SqliteRegistry::GetModelVersion(std::string_view model, int version) {
  MLPROD_RETURN_IF_ERROR(ValidateName("model name", model));
  std::lock_guard<std::mutex> lock(mu_);
  return LoadModelVersion(model, version);
}

Result<std::vector<ModelVersion>> SqliteRegistry::ListModelVersions(std::string_view model) {
  MLPROD_RETURN_IF_ERROR(ValidateName("model name", model));
  std::lock_guard<std::mutex> lock(mu_);
  MLPROD_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare("SELECT " + std::string(kVersionColumns) +
                                      " FROM model_versions WHERE model = ?1 ORDER BY version"));
  stmt.BindAll(model);
  std::vector<ModelVersion> versions;
  while (true) {
    MLPROD_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    MLPROD_ASSIGN_OR_RETURN(ModelVersion mv, ReadVersionRow(stmt));
    versions.push_back(std::move(mv));
  }
  if (versions.empty()) return Status::NotFound("model '" + std::string(model) + "' not found");
  MLPROD_ASSIGN_OR_RETURN(
      Statement aliases,
      db_.Prepare("SELECT alias, version FROM aliases WHERE model = ?1 ORDER BY alias"));
  aliases.BindAll(model);
  while (true) {
    MLPROD_ASSIGN_OR_RETURN(bool has_row, aliases.Step());
    if (!has_row) break;
    const int version = aliases.Int(1);
    // Versions are 1..N without gaps, but look the version up rather than rely on it.
    for (ModelVersion& mv : versions) {
      if (mv.version == version) mv.aliases.push_back(aliases.Text(0));
    }
  }
  return versions;
}

Result<std::vector<std::string>> SqliteRegistry::ListModels() {
  std::lock_guard<std::mutex> lock(mu_);
  MLPROD_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare("SELECT DISTINCT model FROM model_versions ORDER BY model"));
  std::vector<std::string> models;
  while (true) {
    MLPROD_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    models.push_back(stmt.Text(0));
  }
  return models;
}

Result<std::optional<int>> SqliteRegistry::ResolveAlias(std::string_view model,
                                                        std::string_view alias) {
  MLPROD_RETURN_IF_ERROR(ValidateName("model name", model));
  MLPROD_RETURN_IF_ERROR(ValidateName("alias", alias));
  std::lock_guard<std::mutex> lock(mu_);
  MLPROD_RETURN_IF_ERROR(CheckModelExists(model));
  MLPROD_ASSIGN_OR_RETURN(
      Statement stmt, db_.Prepare("SELECT version FROM aliases WHERE model = ?1 AND alias = ?2"));
  MLPROD_ASSIGN_OR_RETURN(bool found, stmt.BindAll(model, alias).Step());
  if (!found) return std::optional<int>();
  return std::optional<int>(stmt.Int(0));
}

Result<AliasChange> SqliteRegistry::MoveAlias(const MoveAliasRequest& request) {
  MLPROD_RETURN_IF_ERROR(ValidateName("model name", request.model));
  MLPROD_RETURN_IF_ERROR(ValidateName("alias", request.alias));
  if (request.action != "promote" && request.action != "rollback") {
    return Status::InvalidArgument("alias action must be promote or rollback");
  }
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(&db_);
  MLPROD_RETURN_IF_ERROR(txn.Begin());
  MLPROD_RETURN_IF_ERROR(CheckModelExists(request.model));
  {
    MLPROD_ASSIGN_OR_RETURN(
        Statement target,
        db_.Prepare("SELECT 1 FROM model_versions WHERE model = ?1 AND version = ?2"));
    MLPROD_ASSIGN_OR_RETURN(bool found, target.BindAll(request.model, request.to_version).Step());
    if (!found) return Status::NotFound(NoVersion(request.model, request.to_version));
  }
  std::optional<int> current;
  {
    MLPROD_ASSIGN_OR_RETURN(
        Statement stmt, db_.Prepare("SELECT version FROM aliases WHERE model = ?1 AND alias = ?2"));
    MLPROD_ASSIGN_OR_RETURN(bool found, stmt.BindAll(request.model, request.alias).Step());
    if (found) current = stmt.Int(0);
  }
  if (current != request.expected_from) {
    return Status::Aborted("alias '" + request.alias + "' of model '" + request.model + "' is " +
                           Describe(current) + ", not " + Describe(request.expected_from) +
                           "; it changed meanwhile, retry");
  }

  AliasChange change;
  change.model = request.model;
  change.alias = request.alias;
  change.from_version = current;
  change.to_version = request.to_version;
  change.action = request.action;
  change.actor = request.actor;
  change.reason = request.reason;
  change.forced = request.forced;
  change.time_ms = NowMs();
  MLPROD_ASSIGN_OR_RETURN(
      Statement upsert,
      db_.Prepare("INSERT INTO aliases (model, alias, version, updated_at_ms) "
                  "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (model, alias) DO UPDATE SET "
                  "version = excluded.version, updated_at_ms = excluded.updated_at_ms"));
  MLPROD_RETURN_IF_ERROR(
      upsert.BindAll(change.model, change.alias, change.to_version, change.time_ms).Run());
  MLPROD_ASSIGN_OR_RETURN(
      Statement history,
      db_.Prepare("INSERT INTO alias_history (model, alias, from_version, to_version, action, "
                  "actor, reason, forced, time_ms) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  MLPROD_RETURN_IF_ERROR(history
                             .BindAll(change.model, change.alias, change.from_version,
                                      change.to_version, change.action, change.actor, change.reason,
                                      change.forced ? 1 : 0, change.time_ms)
                             .Run());
  change.seq = db_.LastInsertRowId();
  MLPROD_RETURN_IF_ERROR(txn.Commit());
  return change;
}

Result<std::vector<AliasChange>> SqliteRegistry::History(std::string_view model,
                                                         std::optional<std::string> alias) {
  MLPROD_RETURN_IF_ERROR(ValidateName("model name", model));
  if (alias.has_value()) MLPROD_RETURN_IF_ERROR(ValidateName("alias", *alias));
  std::lock_guard<std::mutex> lock(mu_);
  MLPROD_RETURN_IF_ERROR(CheckModelExists(model));
  MLPROD_ASSIGN_OR_RETURN(
      Statement stmt, db_.Prepare("SELECT " + std::string(kHistoryColumns) +
                                  " FROM alias_history WHERE model = ?1" +
                                  (alias.has_value() ? " AND alias = ?2" : "") + " ORDER BY seq"));
  stmt.Bind(1, model);
  if (alias.has_value()) stmt.Bind(2, *alias);
  std::vector<AliasChange> changes;
  while (true) {
    MLPROD_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    changes.push_back(ReadHistoryRow(stmt));
  }
  return changes;
}

}  // namespace mlprod::registry
