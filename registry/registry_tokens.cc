// SqliteRegistry: API tokens. Only a secret's SHA-256 reaches the database.
#include <string>

#include "registry/sqlite_registry.h"

namespace mlprod::registry {
namespace {

constexpr std::string_view kTokenColumns =
    "name, role, created_by, created_at_ms, revoked_at_ms, revoked_by";

Token ReadTokenRow(const Statement& stmt) {
  Token t;
  t.name = stmt.Text(0);
  t.role = stmt.Text(1);
  t.created_by = stmt.Text(2);
  t.created_at_ms = stmt.Int64(3);
  t.revoked_at_ms = stmt.Int64(4);
  t.revoked_by = stmt.Text(5);
  return t;
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<std::optional<Token>> SqliteRegistry::LoadToken(std::string_view name) {
  MLPROD_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare("SELECT " + std::string(kTokenColumns) +
                                                      " FROM tokens WHERE name = ?1"));
  MLPROD_ASSIGN_OR_RETURN(bool found, stmt.BindAll(name).Step());
  if (!found) return std::optional<Token>();
  return std::optional<Token>(ReadTokenRow(stmt));
}

Result<Token> SqliteRegistry::CreateToken(std::string_view name, std::string_view role,
                                          std::string_view selector,
                                          std::string_view secret_sha256,
                                          std::string_view actor) {
  MLPROD_RETURN_IF_ERROR(ValidateName("token name", name));
  if (role != "viewer" && role != "editor" && role != "admin") {
    return Status::InvalidArgument("role '" + std::string(role) +
                                   "' is not one of viewer, editor, admin");
  }
  if (secret_sha256.size() != 64 || !IsLowerHex(secret_sha256) || selector.empty() ||
      !IsLowerHex(selector)) {
    return Status::InvalidArgument("a token is stored as a hex selector and the SHA-256 of its "
                                   "secret");
  }
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(&db_);
  MLPROD_RETURN_IF_ERROR(txn.Begin());
  MLPROD_ASSIGN_OR_RETURN(std::optional<Token> existing, LoadToken(name));
  if (existing) {
    return Status::AlreadyExists("token '" + std::string(name) + "' exists" +
                                 (existing->revoked_at_ms != 0 ? " (revoked)" : "") +
                                 "; token names are never reused");
  }
  Token t;
  t.name = std::string(name);
  t.role = std::string(role);
  t.created_by = std::string(actor);
  t.created_at_ms = NowMs();
  MLPROD_ASSIGN_OR_RETURN(
      Statement insert,
      db_.Prepare("INSERT INTO tokens (name, role, selector, secret_sha256, created_by, "
                  "created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  MLPROD_RETURN_IF_ERROR(
      insert.BindAll(t.name, t.role, selector, secret_sha256, t.created_by, t.created_at_ms)
          .Run());
  MLPROD_RETURN_IF_ERROR(txn.Commit());
  return t;
}

Result<std::vector<Token>> SqliteRegistry::ListTokens() {
  std::lock_guard<std::mutex> lock(mu_);
  MLPROD_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare("SELECT " + std::string(kTokenColumns) + " FROM tokens ORDER BY name"));
  std::vector<Token> out;
  while (true) {
    MLPROD_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
    if (!has_row) break;
    out.push_back(ReadTokenRow(stmt));
  }
  return out;
}

Result<Token> SqliteRegistry::RevokeToken(std::string_view name, std::string_view actor) {
  MLPROD_RETURN_IF_ERROR(ValidateName("token name", name));
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn(&db_);
  MLPROD_RETURN_IF_ERROR(txn.Begin());
  MLPROD_ASSIGN_OR_RETURN(std::optional<Token> token, LoadToken(name));
  if (!token) return Status::NotFound("token '" + std::string(name) + "' not found");
  if (token->revoked_at_ms != 0) {
    return Status::FailedPrecondition("token '" + std::string(name) + "' is already revoked");
  }
  token->revoked_at_ms = NowMs();
  token->revoked_by = std::string(actor);
  MLPROD_ASSIGN_OR_RETURN(
      Statement update,
      db_.Prepare("UPDATE tokens SET revoked_at_ms = ?1, revoked_by = ?2 WHERE name = ?3"));
  MLPROD_RETURN_IF_ERROR(update.BindAll(token->revoked_at_ms, token->revoked_by, name).Run());
  MLPROD_RETURN_IF_ERROR(txn.Commit());
  return *std::move(token);
}

Result<std::optional<Registry::TokenCredential>> SqliteRegistry::FindValidToken(
    std::string_view selector) {
  std::lock_guard<std::mutex> lock(mu_);
  MLPROD_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare("SELECT " + std::string(kTokenColumns) +
                  ", secret_sha256 FROM tokens WHERE selector = ?1 AND revoked_at_ms = 0"));
  MLPROD_ASSIGN_OR_RETURN(bool found, stmt.BindAll(selector).Step());
  if (!found) return std::optional<TokenCredential>();
  return std::optional<TokenCredential>(TokenCredential{ReadTokenRow(stmt), stmt.Text(6)});
}

Result<int64_t> SqliteRegistry::CountTokens() {
  std::lock_guard<std::mutex> lock(mu_);
  MLPROD_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare("SELECT COUNT(*) FROM tokens"));
  MLPROD_ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  return has_row ? stmt.Int64(0) : 0;
}

}  // namespace mlprod::registry
