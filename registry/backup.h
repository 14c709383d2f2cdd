// Online backup of a data folder (SPEC §9): a consistent copy of the registry while the server
// keeps serving and writing.
//
// The SQLite database is copied with the backup API in a single step, so the copy is one
// snapshot (one read transaction; writers in WAL mode go on meanwhile). The blobs that snapshot
// references — dataset column files and model files — are then copied as they are: a blob is
// written and synced before any row names it and never changes after, so every blob the
// snapshot names is complete. The result is one POSIX tar file holding `mlprod.db` and
// `blobs/…`, the layout of a data folder: restoring is `mkdir D && tar -xf FILE -C D`, then
// `mlprod-server --data-dir D`.
#pragma once

#include <cstdint>
#include <string>

#include "ml/status.h"

namespace mlprod::registry {

struct BackupSummary {
  int blobs = 0;        // blob files in the archive
  uint64_t bytes = 0;   // the archive's size
};

// Writes the backup of `data_dir` to `out_path` (through a temporary name, fsynced, then
// renamed: a crash never leaves a partial file under `out_path`). NOT_FOUND when `data_dir` has
// no registry; ABORTED when a blob the snapshot names was deleted before it could be copied
// (a dataset deleted during the backup: run it again); INTERNAL on an I/O error.
Result<BackupSummary> BackupDataDir(const std::string& data_dir, const std::string& out_path);

}  // namespace mlprod::registry
