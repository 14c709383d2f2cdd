// mlprod models ...
#include <iostream>
#include <map>

#include "client/cli_commands.h"

namespace mlprod::client {
namespace {

std::string Versionish(const v1::AliasChange& c) {
  return c.has_from_version() ? std::to_string(c.from_version()) : "-";
}

int EmitChange(CliState& state, const v1::AliasChange& c) {
  return state.Emit(ToJson(c), [&] {
    if (state.format() == OutputFormat::kCsv) {
      PrintCsv(Table{{"name", "alias", "from", "to", "action", "actor", "forced", "reason", "time"},
                     {{c.name(), c.alias(), Versionish(c), std::to_string(c.to_version()),
                       c.action(), c.actor(), c.forced() ? "yes" : "no", c.reason(),
                       FormatTime(c.time())}}},
               std::cout);
      return;
    }
    std::cout << c.name() << ": " << c.alias() << " " << Versionish(c) << " -> "
              << c.to_version() << " (" << c.action() << (c.forced() ? ", forced" : "")
              << " by " << c.actor() << " at " << FormatTime(c.time()) << ")"
              << (c.reason().empty() ? "" : ": " + c.reason()) << "\n";
  });
}

std::string MetricOr(const v1::ModelVersion& v, const char* key) {
  auto it = v.metrics().find(key);
  return it == v.metrics().end() ? "-" : FormatNumber(it->second);
}

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
  return out.empty() ? "-" : out;
}

}  // namespace

void AddModelCommands(CLI::App& app, CliState& state) {
  CLI::App* models =
      app.add_subcommand("models", "the model registry: versions and aliases")
          ->require_subcommand(1);

  struct Args {
    std::string name, run, description, alias, reason;
    int version = 0, to = 0;
    bool force = false;
  };
  auto args = std::make_shared<Args>();

  CLI::App* reg = models->add_subcommand("register", "a new version from a succeeded run");
  reg->add_option("name", args->name, "model name")->required();
  reg->add_option("--run", args->run, "run id")->required();
  reg->add_option("--description", args->description, "free text");
  reg->callback([&state, args] {
    state.action = [&state, args] {
      v1::RegisterModelRequest request;
      request.set_name(args->name);
      request.set_run(args->run);
      request.set_description(args->description);
      v1::ModelVersion v;
      auto context = state.client().NewContext();
      grpc::Status s = state.client().registry().RegisterModel(context.get(), request, &v);
      if (!s.ok()) return ReportError(s);
      return state.Emit(ToJson(v), [&] {
        if (state.format() == OutputFormat::kCsv) {
          PrintCsv(Table{{"name", "version", "run", "dataset", "test_rmse"},
                         {{v.name(), std::to_string(v.version()), v.run(), FormatRef(v.dataset()),
                           MetricOr(v, "test_rmse")}}},
                   std::cout);
          return;
        }
        std::cout << v.name() << " version " << v.version() << " registered from run " << v.run()
                  << " (dataset " << FormatRef(v.dataset()) << ", test_rmse "
                  << MetricOr(v, "test_rmse") << ")\n";
      });
    };
  });

  models->add_subcommand("list", "every model with its aliases")->callback([&state] {
    state.action = [&state] {
      v1::ListModelsResponse response;
      auto context = state.client().NewContext();
      grpc::Status s = state.client().registry().ListModels(context.get(), {}, &response);
      if (!s.ok()) return ReportError(s);
      nlohmann::json list = nlohmann::json::array();
      Table t{{"name", "latest_version", "aliases"}, {}};
      for (const v1::ModelSummary& m : response.models()) {
        std::map<std::string, int> aliases(m.aliases().begin(), m.aliases().end());
        std::string text;
        for (const auto& [alias, version] : aliases) {
          text += (text.empty() ? "" : ",") + alias + "=" + std::to_string(version);
        }
        list.push_back(
            {{"name", m.name()}, {"latest_version", m.latest_version()}, {"aliases", aliases}});
        t.rows.push_back({m.name(), std::to_string(m.latest_version()), text.empty() ? "-" : text});
      }
      return state.Emit({{"models", list}}, [&] { PrintTabular(t, state.format(), std::cout); });
    };
  });

  CLI::App* show = models->add_subcommand("show", "a model's versions");
  show->add_option("name", args->name, "model name")->required();
  show->callback([&state, args] {
    state.action = [&state, args] {
      v1::GetModelRequest request;
      request.set_name(args->name);
      v1::Model model;
      auto context = state.client().NewContext();
      grpc::Status s = state.client().registry().GetModel(context.get(), request, &model);
      if (!s.ok()) return ReportError(s);
      nlohmann::json versions = nlohmann::json::array();
      Table t{{"version", "run", "aliases", "dataset", "formula", "test_rmse", "r_squared",
               "created_by", "created_at"},
              {}};
      for (const v1::ModelVersion& v : model.versions()) {
        versions.push_back(ToJson(v));
        t.rows.push_back({std::to_string(v.version()), v.run(), Join(v.aliases()),
                          FormatRef(v.dataset()), v.formula(), MetricOr(v, "test_rmse"),
                          MetricOr(v, "r_squared"), v.created_by(), FormatTime(v.created_at())});
      }
      return state.Emit({{"name", model.name()}, {"versions", versions}},
                        [&] { PrintTabular(t, state.format(), std::cout); });
    };
  });

  CLI::App* history = models->add_subcommand("history", "every alias change, oldest first");
  history->add_option("name", args->name, "model name")->required();
  history->add_option("--alias", args->alias, "only this alias");
  history->callback([&state, args] {
    state.action = [&state, args] {
      v1::GetHistoryRequest request;
      request.set_name(args->name);
      request.set_alias(args->alias);
      v1::GetHistoryResponse response;
      auto context = state.client().NewContext();
      grpc::Status s = state.client().registry().GetHistory(context.get(), request, &response);
      if (!s.ok()) return ReportError(s);
      nlohmann::json entries = nlohmann::json::array();
      Table t{{"time", "alias", "from", "to", "action", "actor", "forced", "reason"}, {}};
      for (const v1::AliasChange& c : response.entries()) {
        entries.push_back(ToJson(c));
        t.rows.push_back({FormatTime(c.time()), c.alias(), Versionish(c),
                          std::to_string(c.to_version()), c.action(), c.actor(),
                          c.forced() ? "yes" : "no", c.reason()});
      }
      return state.Emit({{"name", response.name()}, {"entries", entries}},
                        [&] { PrintTabular(t, state.format(), std::cout); });
    };
  });

  CLI::App* promote = models->add_subcommand("promote", "point an alias at a version");
  promote->add_option("name", args->name, "model name")->required();
  promote->add_option("version", args->version, "version")->required();
  promote->add_option("--alias", args->alias, "alias (default production)");
  promote->add_option("--reason", args->reason, "why, kept in the history");
  promote->add_flag("--force", args->force, "promote even when the gate refuses");
  promote->callback([&state, args] {
    state.action = [&state, args] {
      v1::PromoteRequest request;
      request.set_name(args->name);
      request.set_version(args->version);
      request.set_alias(args->alias);
      request.set_reason(args->reason);
      request.set_force(args->force);
      v1::AliasChange change;
      auto context = state.client().NewContext();
      grpc::Status s = state.client().registry().Promote(context.get(), request, &change);
      if (!s.ok()) return ReportError(s);
      return EmitChange(state, change);
    };
  });

  CLI::App* rollback = models->add_subcommand("rollback", "move an alias back");
  rollback->add_option("name", args->name, "model name")->required();
  rollback->add_option("--alias", args->alias, "alias (default production)");
  rollback->add_option("--to", args->to, "version (default: the one before the latest change)");
  rollback->add_option("--reason", args->reason, "why, kept in the history");
  rollback->callback([&state, args] {
    state.action = [&state, args] {
      v1::RollbackRequest request;
      request.set_name(args->name);
      request.set_alias(args->alias);
      request.set_to_version(args->to);
      request.set_reason(args->reason);
      v1::AliasChange change;
      auto context = state.client().NewContext();
      grpc::Status s = state.client().registry().Rollback(context.get(), request, &change);
      if (!s.ok()) return ReportError(s);
      return EmitChange(state, change);
    };
  });
}

}  // namespace mlprod::client
