// The registry's SQLite schema as an ordered list of migrations. Migration i (0-based) takes the
// schema from version i to version i+1; `schema_version` holds the version reached. Migrations
// are append-only: never edit one that has shipped, add the next.
#pragma once

#include "ml/status.h"
#include "registry/sqlite_db.h"

namespace mlprod::registry {

// The schema version this binary creates and understands.
int LatestSchemaVersion();

// Brings `db` to LatestSchemaVersion(), each pending migration in its own IMMEDIATE transaction
// together with its schema_version update. FAILED_PRECONDITION when the database is newer than
// this binary; INTERNAL on an SQLite error (the failing migration leaves no trace).
Status Migrate(Database& db);

}  // namespace mlprod::registry
