#include "registry/schema.h"

#include <array>
#include <string>
#include <string_view>

namespace mlprod::registry {
namespace {

// Maps (params, metrics, columns) are JSON text. Times are milliseconds since the Unix epoch.
// Run ids are "r" || seq; AUTOINCREMENT keeps a seq from ever being reused.
constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE datasets (
  id            INTEGER PRIMARY KEY,
  name          TEXT    NOT NULL,
  version       INTEGER NOT NULL CHECK (version >= 1),
  sha256        TEXT    NOT NULL,
  rows          INTEGER NOT NULL,
  columns       TEXT    NOT NULL,
  size_bytes    INTEGER NOT NULL,
  parse_options TEXT    NOT NULL,
  blob_key      TEXT    NOT NULL,
  created_by    TEXT    NOT NULL,
  created_at_ms INTEGER NOT NULL,
  UNIQUE (name, version)
);
CREATE INDEX datasets_by_name_sha ON datasets (name, sha256);

CREATE TABLE experiments (
  name          TEXT    PRIMARY KEY,
  created_by    TEXT    NOT NULL,
  created_at_ms INTEGER NOT NULL
);
INSERT INTO experiments (name, created_by, created_at_ms)
  VALUES ('Default', 'system', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));

CREATE TABLE runs (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment      TEXT    NOT NULL REFERENCES experiments (name),
  dataset_name    TEXT    NOT NULL,
  dataset_version INTEGER NOT NULL,
  formula         TEXT    NOT NULL,
  kind            TEXT    NOT NULL,
  params          TEXT    NOT NULL,
  missing         TEXT    NOT NULL,
  test_fraction   REAL    NOT NULL,
  seed            INTEGER NOT NULL,
  status          TEXT    NOT NULL
    CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
  error           TEXT    NOT NULL DEFAULT '',
  metrics         TEXT    NOT NULL DEFAULT '{}',
  report          TEXT    NOT NULL DEFAULT '',
  model_blob_key  TEXT,
  created_by      TEXT    NOT NULL,
  created_at_ms   INTEGER NOT NULL,
  started_at_ms   INTEGER NOT NULL DEFAULT 0,
  finished_at_ms  INTEGER NOT NULL DEFAULT 0,
  FOREIGN KEY (dataset_name, dataset_version) REFERENCES datasets (name, version)
);
CREATE INDEX runs_by_experiment ON runs (experiment, seq);
CREATE INDEX runs_by_status ON runs (status);

CREATE TABLE model_versions (
  model           TEXT    NOT NULL,
  version         INTEGER NOT NULL CHECK (version >= 1),
  run_seq         INTEGER NOT NULL REFERENCES runs (seq),
  dataset_name    TEXT    NOT NULL,
  dataset_version INTEGER NOT NULL,
  dataset_sha256  TEXT    NOT NULL,
  formula         TEXT    NOT NULL,
  kind            TEXT    NOT NULL,
  params          TEXT    NOT NULL,
  metrics         TEXT    NOT NULL,
  signature       TEXT    NOT NULL,
  description     TEXT    NOT NULL,
  created_by      TEXT    NOT NULL,
  created_at_ms   INTEGER NOT NULL,
  PRIMARY KEY (model, version)
);
CREATE INDEX model_versions_by_run ON model_versions (run_seq);

CREATE TABLE aliases (
  model         TEXT    NOT NULL,
  alias         TEXT    NOT NULL,
  version       INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (model, alias),
  FOREIGN KEY (model, version) REFERENCES model_versions (model, version)
);

CREATE TABLE alias_history (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  model        TEXT    NOT NULL,
  alias        TEXT    NOT NULL,
  from_version INTEGER,
  to_version   INTEGER NOT NULL,
  action       TEXT    NOT NULL CHECK (action IN ('promote', 'rollback')),
  actor        TEXT    NOT NULL,
  reason       TEXT    NOT NULL,
  forced       INTEGER NOT NULL CHECK (forced IN (0, 1)),
  time_ms      INTEGER NOT NULL,
  FOREIGN KEY (model, to_version) REFERENCES model_versions (model, version)
);
CREATE INDEX alias_history_by_model ON alias_history (model, alias, seq);
CREATE TRIGGER alias_history_no_update BEFORE UPDATE ON alias_history
  BEGIN SELECT RAISE(ABORT, 'alias_history is append-only'); END;
CREATE TRIGGER alias_history_no_delete BEFORE DELETE ON alias_history
  BEGIN SELECT RAISE(ABORT, 'alias_history is append-only'); END;
)sql";

// Deleted dataset versions keep their row (a tombstone) so a version number is never reused and
// runs keep their lineage; their bytes are removed.
constexpr std::string_view kMigration2 = R"sql(
ALTER TABLE datasets ADD COLUMN deleted_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE datasets ADD COLUMN deleted_by TEXT NOT NULL DEFAULT '';
)sql";

// API tokens (SPEC §8). A token is "mlp_<selector>_<secret>": the selector finds the row, and only
// the SHA-256 of the secret is stored, compared in constant time. A revoked token keeps its row,
// so its name, which history entries record as their actor, is never given to another token;
// and auth, once on, never turns off because the last token was revoked.
constexpr std::string_view kMigration3 = R"sql(
CREATE TABLE tokens (
  name          TEXT    PRIMARY KEY,
  role          TEXT    NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
  selector      TEXT    NOT NULL UNIQUE,
  secret_sha256 TEXT    NOT NULL CHECK (length(secret_sha256) = 64),
  created_by    TEXT    NOT NULL,
  created_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER NOT NULL DEFAULT 0,
  revoked_by    TEXT    NOT NULL DEFAULT ''
);
CREATE TRIGGER tokens_no_delete BEFORE DELETE ON tokens
  BEGIN SELECT RAISE(ABORT, 'tokens are revoked, never deleted'); END;
)sql";

constexpr std::array<std::string_view, 3> kMigrations = {kMigration1, kMigration2, kMigration3};

Result<int> ReadVersion(Database& db) {
  MLPROD_ASSIGN_OR_RETURN(Statement stmt,
                          db.Prepare("SELECT version FROM schema_version WHERE id = 1"));
  MLPROD_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  return has_row ? stmt.Int(0) : 0;
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

Status Migrate(Database& db) {
  MLPROD_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_version ("
              "  id INTEGER PRIMARY KEY CHECK (id = 1),"
              "  version INTEGER NOT NULL)"));
  const int latest = LatestSchemaVersion();
  for (int target = 1; target <= latest; ++target) {
    Transaction txn(&db);
    MLPROD_RETURN_IF_ERROR(txn.Begin());
    // Read inside the write lock: another process may have migrated meanwhile.
    MLPROD_ASSIGN_OR_RETURN(int current, ReadVersion(db));
    if (current > latest) {
      return Status::FailedPrecondition("database schema version " + std::to_string(current) +
                                        " is newer than this mlprod knows (" +
                                        std::to_string(latest) + "); upgrade mlprod");
    }
    if (current >= target) continue;
    MLPROD_RETURN_IF_ERROR(db.Exec(kMigrations[target - 1]));
    MLPROD_ASSIGN_OR_RETURN(
        Statement set, db.Prepare("INSERT INTO schema_version (id, version) VALUES (1, ?1) "
                                  "ON CONFLICT (id) DO UPDATE SET version = excluded.version"));
    MLPROD_RETURN_IF_ERROR(set.BindAll(target).Run());
    MLPROD_RETURN_IF_ERROR(txn.Commit());
  }
  return Status::Ok();
}

}  // namespace mlprod::registry
