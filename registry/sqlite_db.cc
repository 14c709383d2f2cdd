#include "registry/sqlite_db.h"

#include <sqlite3.h>

#include <cerrno>
#include <string>

namespace mlprod::registry {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  // sqlite3_errmsg describes the most recent call on the connection; the owner serialises calls,
  // so that is the call that produced `rc`.
  std::string message(what);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  message += " (sqlite code " + std::to_string(rc) + ")";
  const int primary = rc & 0xff;
  // The file, so that an operator knows which disk is full or which file to restore.
  const char* file = db != nullptr ? sqlite3_db_filename(db, "main") : nullptr;
  const std::string where =
      file != nullptr && *file != '\0' ? std::string(", database ") + file : "";
  // A full disk is SQLITE_FULL when a write hits it; an fsync, a truncate or the growth of the
  // -shm file report ENOSPC as an I/O error, recognisable when SQLite kept the errno (it does not
  // for a failed COMMIT's fsync, which then stays INTERNAL).
  const int system_errno = db != nullptr ? sqlite3_system_errno(db) : 0;
  if (primary == SQLITE_FULL ||
      (primary == SQLITE_IOERR && (system_errno == ENOSPC || system_errno == EDQUOT))) {
    return Status::ResourceExhausted("disk full: " + message + where);
  }
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    return Status::DataLoss(message + where + "; restore it from a backup");
  }
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || rc == SQLITE_CONSTRAINT_UNIQUE ||
      rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return Status::Aborted(std::move(message));
  }
  return Status::Internal(std::move(message));
}

// ---- Database

Result<Database> Database::Open(const std::string& path, const std::string& vfs) {
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, vfs.empty() ? nullptr : vfs.c_str());
  Database db(raw);  // owns the handle even when opening failed
  if (rc != SQLITE_OK) return SqliteError(raw, rc, "opening " + path);
  sqlite3_extended_result_codes(raw, 1);
  int rc2 = sqlite3_busy_timeout(raw, 5000);
  if (rc2 != SQLITE_OK) return SqliteError(raw, rc2, "setting busy_timeout");
  MLPROD_RETURN_IF_ERROR(
      db.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"));
  // journal_mode silently stays as it was when WAL is impossible (e.g. some network file
  // systems); the durability argument depends on it, so check.
  MLPROD_ASSIGN_OR_RETURN(Statement mode, db.Prepare("PRAGMA journal_mode"));
  MLPROD_ASSIGN_OR_RETURN(bool has_row, mode.Step());
  if (!has_row || mode.Text(0) != "wal") {
    return Status::Internal("cannot put " + path + " in WAL mode");
  }
  return db;
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Database::~Database() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status Database::Exec(std::string_view sql) {
  std::string text(sql);  // sqlite3_exec wants a NUL-terminated string
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "executing SQL");
  return Status::Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteError(db_, rc, "preparing SQL");
  }
  return Statement(db_, stmt);
}

int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

int Database::Changes() const { return sqlite3_changes(db_); }

// ---- Statement

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      bind_status_(std::move(other.bind_status_)) {}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

void Statement::NoteBind(int rc, int index) {
  if (rc != SQLITE_OK && bind_status_.ok()) {
    bind_status_ = SqliteError(db_, rc, "binding parameter " + std::to_string(index));
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  NoteBind(sqlite3_bind_double(stmt_, index, value), index);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view value) {
  // sqlite3_bind_text64 with a null pointer would bind NULL; an empty string stays a string.
  NoteBind(sqlite3_bind_text64(stmt_, index, value.empty() ? "" : value.data(), value.size(),
                               SQLITE_TRANSIENT, SQLITE_UTF8),
           index);
  return *this;
}

Statement& Statement::Bind(int index, std::optional<int> value) {
  if (!value.has_value()) return BindNull(index);
  return Bind(index, static_cast<int64_t>(*value));
}

Statement& Statement::BindNull(int index) {
  NoteBind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

Result<bool> Statement::Step() {
  if (!bind_status_.ok()) return bind_status_;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, "executing SQL");
}

Status Statement::Run() {
  while (true) {
    MLPROD_ASSIGN_OR_RETURN(bool has_row, Step());
    if (!has_row) return Status::Ok();
  }
}

void Statement::Reset() { sqlite3_reset(stmt_); }

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::Int64(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::Text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<int> Statement::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

// ---- Transaction

Transaction::~Transaction() {
  if (active_) sqlite3_exec(db_->raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}

Status Transaction::Begin() {
  MLPROD_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  active_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  Status status = db_->Exec("COMMIT");
  // A failed COMMIT can leave the transaction open (e.g. SQLITE_BUSY); the destructor then rolls
  // it back. When SQLite already rolled back, the extra ROLLBACK is a harmless error.
  if (status.ok()) active_ = false;
  return status;
}

}  // namespace mlprod::registry
