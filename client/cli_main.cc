// mlprod: the command-line client (SPEC §6).
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "client/cli_commands.h"

namespace mlprod::client {
namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

std::string LoginName() {
  const passwd* entry = getpwuid(getuid());
  return entry != nullptr && entry->pw_name != nullptr ? entry->pw_name : "";
}

void AddServerCommands(CLI::App& app, CliState& state) {
  CLI::App* server = app.add_subcommand("server", "the server itself")->require_subcommand(1);
  server->add_subcommand("status", "version, uptime, queue and loaded models")
      ->callback([&state] {
        state.action = [&state] {
          v1::ServerStatus status;
          auto context = state.client().NewContext();
          grpc::Status s = state.client().server().GetStatus(context.get(), {}, &status);
          if (!s.ok()) return ReportError(s);
          nlohmann::json doc = {{"server", state.options.server},
                                {"version", status.version()},
                                {"uptime_seconds", status.uptime_seconds()},
                                {"data_dir", status.data_dir()},
                                {"workers", status.workers()},
                                {"queued_runs", status.queued_runs()},
                                {"running_runs", status.running_runs()},
                                {"loaded_models", status.loaded_models()},
                                {"auth", status.auth()},
                                {"tls", status.tls()},
                                {"caller", status.caller()},
                                {"caller_role", status.caller_role()}};
          return state.Emit(doc, [&] {
            Table t{{"field", "value"}, {}};
            for (const auto& [k, v] : doc.items()) {
              t.rows.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
            }
            PrintTabular(t, state.format(), std::cout);
          });
        };
      });
}

}  // namespace

OutputFormat CliState::format() const {
  if (output == "json") return OutputFormat::kJson;
  if (output == "csv") return OutputFormat::kCsv;
  return OutputFormat::kTable;
}

const MlprodClient& CliState::client() {
  if (!client_) {
    std::string error;
    client_ = MlprodClient::Create(options, &error);
    if (!client_) {
      std::cerr << "error: INVALID_ARGUMENT: " << error << "\n";
      std::exit(1);
    }
    // A command is one or two calls: connect first, so a transient connect failure is redialled
    // rather than failing the command. Not connected after 2 s: the call reports UNAVAILABLE.
    client_->Connect(std::chrono::seconds(2));
  }
  return *client_;
}

int CliState::Emit(const nlohmann::json& doc, const std::function<void()>& text) const {
  if (format() == OutputFormat::kJson) {
    std::cout << doc.dump(2) << "\n";
  } else {
    text();
  }
  return 0;
}

int ReportError(const grpc::Status& status) {
  std::string message = status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && message.empty()) {
    message = "cannot reach the server";
  }
  std::cerr << "error: " << CodeName(status.error_code()) << ": " << message << "\n";
  return 1;
}

}  // namespace mlprod::client

int main(int argc, char** argv) {
  using namespace mlprod::client;
  CliState state;
  state.options.server = EnvOr("MLPROD_SERVER", state.options.server);
  state.options.token = EnvOr("MLPROD_TOKEN", "");
  state.options.actor = EnvOr("USER", EnvOr("LOGNAME", LoginName()));

  CLI::App app{"mlprod: datasets, training runs, a model registry and predictions"};
  app.fallthrough();  // global flags may follow the subcommand
  app.require_subcommand(1);
  app.add_option("--server", state.options.server, "HOST:PORT (env MLPROD_SERVER)")
      ->capture_default_str();
  app.add_option("--token", state.options.token, "bearer token (env MLPROD_TOKEN)");
  app.add_option("--tls-ca", state.options.tls_ca_file, "PEM file of CA roots; enables TLS")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-cert", state.options.tls_cert_file,
                 "PEM client certificate for mTLS (with --tls-key); enables TLS")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", state.options.tls_key_file, "PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  app.add_option("-o,--output", state.output, "table | json | csv")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();

  AddDatasetCommands(app, state);
  AddRunCommands(app, state);
  AddModelCommands(app, state);
  AddPredictCommand(app, state);
  AddTokenCommands(app, state);
  AddServerCommands(app, state);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Usage errors read like every other error: one line, a code, non-zero exit.
    std::cerr << "error: INVALID_ARGUMENT: " << e.what() << " (see mlprod --help)\n";
    return 2;
  }
  if (!state.action) {
    std::cerr << app.help();
    return 2;
  }
  return state.action();
}
