// Thin RAII layer over the SQLite C API for the registry: a Database owns one connection, a
// Statement owns one prepared statement, a Transaction rolls back in its destructor unless
// committed. Every SQLite failure comes back as a Status (INTERNAL with sqlite3_errmsg and the
// extended result code; ABORTED for SQLITE_BUSY/LOCKED and unique-constraint conflicts, i.e. a
// lost race; RESOURCE_EXHAUSTED for a full disk; DATA_LOSS for a corrupt or foreign file; the
// last two name the database file). Nothing here throws.
//
// Internal to registry/: public headers never include this file (nor <sqlite3.h>).
//
// Threading: a Database, and the Statements and Transactions made from it, are NOT thread-safe;
// the owner serialises every use (SqliteRegistry holds its mutex around each call).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ml/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace mlprod::registry {

// The Status for SQLite result code `rc` on `db` (may be null), prefixed with `what`.
Status SqliteError(sqlite3* db, int rc, std::string_view what);

class Statement;

class Database {
 public:
  // Opens (creating when missing) the database file at `path` through the SQLite VFS named
  // `vfs` (empty: the default one; tests register fault-injecting ones) and applies the
  // connection settings: WAL, synchronous=FULL, foreign_keys=ON, busy_timeout=5000 ms.
  static Result<Database> Open(const std::string& path, const std::string& vfs = "");

  Database() = default;
  Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more SQL statements that take no parameters (schema scripts, PRAGMAs).
  Status Exec(std::string_view sql);
  // Prepares one statement. INTERNAL on a syntax error.
  Result<Statement> Prepare(std::string_view sql);
  // Rowid of the last successful INSERT on this connection.
  int64_t LastInsertRowId() const;
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int Changes() const;

  sqlite3* raw() const { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// One prepared statement. Bind* copy their argument (SQLITE_TRANSIENT); parameters are numbered
// from 1. A failed bind is remembered and returned by the next Step()/Run().
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view value);
  Statement& Bind(int index, const std::string& value) {
    return Bind(index, std::string_view(value));
  }
  Statement& Bind(int index, const char* value) { return Bind(index, std::string_view(value)); }
  Statement& Bind(int index, std::optional<int> value);
  Statement& BindNull(int index);
  // Binds `args` to parameters 1, 2, ... in order.
  template <typename... Args>
  Statement& BindAll(const Args&... args) {
    int index = 0;
    (Bind(++index, args), ...);
    return *this;
  }

  // true when a row is available, false when the statement is done.
  Result<bool> Step();
  // Steps to completion, ignoring any rows (for INSERT/UPDATE/DELETE).
  Status Run();
  // Ends the current execution (bindings stay), e.g. once a single-row SELECT has been read.
  void Reset();

  // Column accessors for the current row; columns are numbered from 0.
  bool IsNull(int column) const;
  int64_t Int64(int column) const;
  int Int(int column) const { return static_cast<int>(Int64(column)); }
  double Double(int column) const;
  std::string Text(int column) const;
  std::optional<int> OptionalInt(int column) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void NoteBind(int rc, int index);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  Status bind_status_;
};

// BEGIN IMMEDIATE ... COMMIT. The write lock is taken at Begin(), so reads inside the
// transaction see the state the writes will be based on (next version numbers, alias CAS).
// Rolls back in the destructor unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Database* db) : db_(db) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status Begin();
  Status Commit();

 private:
  Database* db_;
  bool active_ = false;
};

}  // namespace mlprod::registry
