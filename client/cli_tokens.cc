// mlprod tokens ...: API tokens, for admins (SPEC §6, §8). A secret is printed once, at create.
#include <iostream>

#include "client/cli_commands.h"

namespace mlprod::client {
namespace {

nlohmann::json ToJson(const v1::Token& t) {
  return {{"name", t.name()},
          {"role", t.role()},
          {"created_by", t.created_by()},
          {"created_at", FormatTime(t.created_at())},
          {"revoked", t.revoked()},
          {"revoked_at", t.revoked() ? nlohmann::json(FormatTime(t.revoked_at())) : nullptr},
          {"revoked_by", t.revoked() ? nlohmann::json(t.revoked_by()) : nullptr}};
}

std::vector<std::string> Row(const v1::Token& t) {
  return {t.name(), t.role(), t.created_by(), FormatTime(t.created_at()),
          t.revoked() ? FormatTime(t.revoked_at()) + " by " + t.revoked_by() : "-"};
}

const std::vector<std::string> kHeader = {"name", "role", "created_by", "created_at", "revoked"};

}  // namespace

void AddTokenCommands(CLI::App& app, CliState& state) {
  CLI::App* tokens =
      app.add_subcommand("tokens", "API tokens and their roles (admin)")->require_subcommand(1);
  struct Args {
    std::string name, role;
  };
  auto args = std::make_shared<Args>();

  CLI::App* create = tokens->add_subcommand("create", "a new token, printed once");
  create->add_option("--name", args->name, "the token's name, recorded as the actor")->required();
  create->add_option("--role", args->role, "viewer | editor | admin")
      ->required()
      ->check(CLI::IsMember({"viewer", "editor", "admin"}));
  create->callback([&state, args] {
    state.action = [&state, args] {
      v1::CreateTokenRequest request;
      request.set_name(args->name);
      request.set_role(args->role);
      v1::CreatedToken created;
      auto context = state.client().NewContext();
      grpc::Status s = state.client().tokens().CreateToken(context.get(), request, &created);
      if (!s.ok()) return ReportError(s);
      nlohmann::json doc = ToJson(created.token());
      doc["token"] = created.secret();
      return state.Emit(doc, [&] {
        if (state.format() == OutputFormat::kCsv) {
          PrintCsv(Table{{"name", "role", "token"},
                         {{created.token().name(), created.token().role(), created.secret()}}},
                   std::cout);
          return;
        }
        std::cout << "token " << created.token().name() << " (" << created.token().role()
                  << ") created. It is shown this once; the server keeps only a hash:\n"
                  << created.secret() << "\n";
      });
    };
  });

  tokens->add_subcommand("list", "every token, revoked ones too; never a secret")
      ->callback([&state] {
        state.action = [&state] {
          v1::ListTokensResponse response;
          auto context = state.client().NewContext();
          grpc::Status s = state.client().tokens().ListTokens(context.get(), {}, &response);
          if (!s.ok()) return ReportError(s);
          nlohmann::json doc = {{"tokens", nlohmann::json::array()}};
          Table table{kHeader, {}};
          for (const v1::Token& t : response.tokens()) {
            doc["tokens"].push_back(ToJson(t));
            table.rows.push_back(Row(t));
          }
          return state.Emit(doc, [&] { PrintTabular(table, state.format(), std::cout); });
        };
      });

  CLI::App* revoke = tokens->add_subcommand("revoke", "revoke a token for good");
  revoke->add_option("name", args->name, "token name")->required();
  revoke->callback([&state, args] {
    state.action = [&state, args] {
      v1::RevokeTokenRequest request;
      request.set_name(args->name);
      v1::Token token;
      auto context = state.client().NewContext();
      grpc::Status s = state.client().tokens().RevokeToken(context.get(), request, &token);
      if (!s.ok()) return ReportError(s);
      return state.Emit(ToJson(token), [&] {
        PrintTabular(Table{kHeader, {Row(token)}}, state.format(), std::cout);
      });
    };
  });
}

}  // namespace mlprod::client
