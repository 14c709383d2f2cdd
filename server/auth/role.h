// Roles of API tokens (SPEC §8), each including the one before: a viewer reads and predicts, an
// editor also uploads, trains and registers, an admin also promotes, rolls back, deletes and
// manages tokens.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace mlprod::server {

enum class Role {
  kViewer = 1,
  kEditor = 2,
  kAdmin = 3,
};

// "viewer", "editor", "admin".
std::string_view RoleName(Role role);
// The role spelled `name`; nullopt for anything else.
std::optional<Role> ParseRole(std::string_view name);

// What a method needs: no token at all (health probes), or at least a role.
struct Access {
  bool open = false;           // anyone, even with auth on and no token
  Role role = Role::kAdmin;    // the least role that may call, when not open
};

// The one role table: every method the server serves, by its full gRPC name
// ("/mlprod.v1.ModelRegistry/Promote"). nullopt for a method missing from it, which the server
// refuses (default deny).
std::optional<Access> RequiredAccess(std::string_view method);

// Every entry of the table, for the tests that hold it to the services' descriptors and for the
// docs.
struct MethodAccess {
  std::string_view method;
  Access access;
};
std::span<const MethodAccess> MethodTable();

}  // namespace mlprod::server
