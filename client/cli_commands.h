// The `mlprod` CLI's commands, grouped by noun. Each Add*Commands registers its subcommands on
// the CLI11 app; the chosen one stores its body in CliState::action, which main runs after
// parsing, once the global flags are known.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <grpcpp/support/status.h>
#include <nlohmann/json.hpp>

#include "client/cli_output.h"
#include "client/mlprod_client.h"
#include "client/svg_plot.h"

namespace mlprod::client {

struct CliState {
  ClientOptions options;
  std::string output = "table";  // table | json | csv
  std::function<int()> action;

  OutputFormat format() const;
  // The client, created on first use from the global flags.
  const MlprodClient& client();
  // Prints `doc` with -o json, otherwise calls `text`. Returns 0.
  int Emit(const nlohmann::json& doc, const std::function<void()>& text) const;

 private:
  std::unique_ptr<MlprodClient> client_;
};

// Prints "error: <CODE>: <message>" to stderr and returns the exit status (1).
int ReportError(const grpc::Status& status);

void AddDatasetCommands(CLI::App& app, CliState& state);
void AddRunCommands(CLI::App& app, CliState& state);
void AddModelCommands(CLI::App& app, CliState& state);
void AddPredictCommand(CLI::App& app, CliState& state);
void AddTokenCommands(CLI::App& app, CliState& state);

}  // namespace mlprod::client

namespace mlprod::client {

// The SVG of `runs plot`: kind "residuals" (residual vs fitted, zero line), "actual" (actual vs
// fitted, y = x line) or "coefficients" (estimates with 95% CI bars; aliased terms left out, and
// (Intercept) too unless `intercept`).
SvgOutput RenderRunPlot(const v1::RunPlotData& data, const std::string& kind, bool intercept);

// "name" or "name@3" into `ref` (version 0 = latest). INVALID_ARGUMENT for "name@x".
grpc::Status ParseDatasetRef(const std::string& text, v1::DatasetRef* ref);

}  // namespace mlprod::client
