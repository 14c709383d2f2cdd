// mlprod runs ...
#include <algorithm>
#include <cmath>
#include <iostream>

#include <fstream>

#include "client/cli_commands.h"
#include "client/svg_plot.h"

namespace mlprod::client {
namespace {


std::string Metric(const v1::Run& run, const char* key) {
  auto it = run.metrics().find(key);
  return it == run.metrics().end() ? "-" : FormatNumber(it->second);
}

grpc::Status GetRun(CliState& state, const std::string& id, v1::Run* run) {
  v1::GetRunRequest request;
  request.set_id(id);
  auto context = state.client().NewContext();
  return state.client().training().GetRun(context.get(), request, run);
}

// Streams progress and log lines to stderr; `run` gets the finished run.
grpc::Status Watch(CliState& state, const std::string& id, v1::Run* run) {
  return state.client().WatchRun(
      id,
      [](const v1::RunEvent& event) {
        if (!event.log_line().empty()) {
          std::cerr << "[" << event.run().id() << " " << std::lround(event.progress() * 100)
                    << "%] " << event.log_line() << "\n";
        } else {
          std::cerr << "[" << event.run().id() << "] " << RunStatusName(event.run().status()) << "\n";
        }
      },
      run);
}

// A run as -o asks: R's summary as text, the coefficient table as CSV, or the JSON document.
int EmitRun(CliState& state, const v1::Run& run) {
  return state.Emit(ToJson(run), [&] {
    if (state.format() == OutputFormat::kCsv) {
      PrintCoefficientCsv(run, std::cout);
    } else {
      PrintRunSummary(run, std::cout);
    }
  });
}

// id and status of a run just submitted or cancelled.
int EmitRunState(CliState& state, const v1::Run& run) {
  return state.Emit(ToJson(run), [&] {
    if (state.format() == OutputFormat::kCsv) {
      PrintCsv(Table{{"id", "status"}, {{run.id(), RunStatusName(run.status())}}}, std::cout);
    } else {
      std::cout << run.id() << " " << RunStatusName(run.status()) << "\n";
    }
  });
}

// Prints a finished run; a run that did not succeed also exits non-zero with its error.
int EmitFinishedRun(CliState& state, const v1::Run& run) {
  EmitRun(state, run);
  if (run.status() == v1::RUN_STATUS_SUCCEEDED) return 0;
  std::cerr << "error: run " << run.id() << " " << RunStatusName(run.status()) << ": " << run.error()
            << "\n";
  return 1;
}

void PrintRunTable(const std::vector<v1::Run>& runs, OutputFormat format) {
  Table t{{"id", "status", "experiment", "dataset", "model", "formula", "test_rmse", "r_squared",
           "aic", "created_by", "created_at"},
          {}};
  for (const v1::Run& r : runs) {
    t.rows.push_back({r.id(), RunStatusName(r.status()), r.experiment(), FormatRef(r.dataset()), r.model(),
                      r.formula(), Metric(r, "test_rmse"), Metric(r, "r_squared"),
                      Metric(r, "aic"), r.created_by(), FormatTime(r.created_at())});
  }
  PrintTabular(t, format, std::cout);
}

void PrintComparison(const std::vector<v1::Run>& runs, OutputFormat format) {
  Table t{{"field"}, {}};
  for (const v1::Run& r : runs) t.headers.push_back(r.id());
  auto row = [&](const std::string& name, auto value) {
    std::vector<std::string> cells{name};
    for (const v1::Run& r : runs) cells.push_back(value(r));
    t.rows.push_back(cells);
  };
  row("status", [](const v1::Run& r) { return RunStatusName(r.status()); });
  row("dataset", [](const v1::Run& r) { return FormatRef(r.dataset()); });
  row("model", [](const v1::Run& r) { return r.model(); });
  row("formula", [](const v1::Run& r) { return r.formula(); });
  row("missing", [](const v1::Run& r) { return r.missing(); });
  row("n_obs", [](const v1::Run& r) { return std::to_string(r.n_obs()); });
  row("terms", [](const v1::Run& r) { return std::to_string(r.coefficients_size()); });
  for (const char* key : {"test_rmse", "test_mae", "test_r_squared", "r_squared",
                          "adj_r_squared", "aic", "bic", "rmse"}) {
    row(key, [key](const v1::Run& r) { return Metric(r, key); });
  }
  PrintTabular(t, format, std::cout);
}

}  // namespace

SvgOutput RenderRunPlot(const v1::RunPlotData& data, const std::string& kind, bool intercept) {
  const std::string what = data.id() + ": " + data.formula();
  const std::string response = data.response().empty() ? "response" : data.response();
  if (kind == "coefficients") {
    IntervalPlot plot;
    const bool intervals = std::any_of(data.coefficients().begin(), data.coefficients().end(),
                                       [](const v1::Coefficient& c) {
                                         return std::isfinite(c.ci_lower());
                                       });
    plot.title = (intervals ? "Coefficients with 95% confidence intervals, "
                            : "Coefficients (a penalised fit: no intervals), ") +
                 what;
    plot.x_label = "Estimate";
    for (const v1::Coefficient& c : data.coefficients()) {
      if (c.aliased() || (!intercept && c.term() == "(Intercept)")) continue;
      plot.rows.push_back({c.term(), c.estimate(), c.ci_lower(), c.ci_upper()});
    }
    return RenderIntervals(plot);
  }
  ScatterPlot plot;
  plot.x.assign(data.fitted().begin(), data.fitted().end());
  plot.x_label = "Fitted values";
  if (kind == "residuals") {
    plot.title = "Residuals vs fitted, " + what;
    plot.y_label = "Residuals (" + response + " - fitted)";
    plot.reference = ScatterPlot::Reference::kZeroLine;
    for (int i = 0; i < data.actual_size() && i < data.fitted_size(); ++i) {
      plot.y.push_back(data.actual(i) - data.fitted(i));
    }
  } else {
    plot.title = "Actual vs fitted, " + what;
    plot.y_label = "Actual " + response;
    plot.reference = ScatterPlot::Reference::kIdentity;
    plot.y.assign(data.actual().begin(), data.actual().end());
  }
  return RenderScatter(plot);
}

void AddRunCommands(CLI::App& app, CliState& state) {
  CLI::App* runs = app.add_subcommand("runs", "train and inspect runs")->require_subcommand(1);

  struct SubmitArgs {
    std::string dataset, formula, model = "ols", missing = "drop", experiment;
    std::vector<std::string> params;
    double test_fraction = 0;
    int folds = 0;
    uint64_t seed = 0;
    std::string select, criterion;
    bool watch = false;
  };
  auto sub = std::make_shared<SubmitArgs>();
  CLI::App* submit = runs->add_subcommand("submit", "queue a training run");
  submit->add_option("--dataset", sub->dataset, "NAME[@VERSION]")->required();
  submit->add_option("--formula", sub->formula, "R formula, e.g. \"y ~ x1 + x2\"")->required();
  submit->add_option("--model", sub->model, "model kind")->capture_default_str();
  submit->add_option("--param", sub->params, "k=v, repeatable");
  submit->add_option("--missing", sub->missing, "drop | mean | median")
      ->check(CLI::IsMember({"drop", "mean", "median"}))
      ->capture_default_str();
  submit->add_option("--test-fraction", sub->test_fraction, "held-out share in [0, 1)");
  submit->add_option("--folds", sub->folds, "k-fold cross-validation");
  submit->add_option("--seed", sub->seed, "seed of the split or of the fold assignment");
  submit->add_option("--select", sub->select, "stepwise selection (ols): forward | backward")
      ->check(CLI::IsMember({"forward", "backward"}));
  submit->add_option("--criterion", sub->criterion, "stepwise criterion: aic | bic (default aic)")
      ->check(CLI::IsMember({"aic", "bic"}));
  submit->add_option("--experiment", sub->experiment, "experiment (default Default)");
  submit->add_flag("--watch", sub->watch, "stream progress until the run ends");
  submit->callback([&state, sub] {
    state.action = [&state, sub] {
      v1::SubmitRunRequest request;
      grpc::Status s = ParseDatasetRef(sub->dataset, request.mutable_dataset());
      if (!s.ok()) return ReportError(s);
      request.set_formula(sub->formula);
      request.set_model(sub->model);
      for (const std::string& kv : sub->params) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
          return ReportError(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                          "--param '" + kv + "' is not k=v"));
        }
        (*request.mutable_params())[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      request.set_missing(sub->missing);
      request.set_test_fraction(sub->test_fraction);
      request.set_folds(sub->folds);
      request.set_seed(sub->seed);
      request.set_select(sub->select);
      request.set_criterion(sub->criterion);
      request.set_experiment(sub->experiment);
      v1::Run run;
      auto context = state.client().NewContext();
      s = state.client().training().SubmitRun(context.get(), request, &run);
      if (!s.ok()) return ReportError(s);
      if (!sub->watch) return EmitRunState(state, run);
      v1::Run last;
      s = Watch(state, run.id(), &last);
      if (!s.ok()) return ReportError(s);
      return EmitFinishedRun(state, last);
    };
  });

  auto id = std::make_shared<std::string>();
  CLI::App* show = runs->add_subcommand("show", "a run with its coefficient table");
  show->add_option("run", *id, "run id")->required();
  show->callback([&state, id] {
    state.action = [&state, id] {
      v1::Run run;
      grpc::Status s = GetRun(state, *id, &run);
      if (!s.ok()) return ReportError(s);
      return EmitRun(state, run);
    };
  });

  CLI::App* watch = runs->add_subcommand("watch", "stream a run's progress until it ends");
  watch->add_option("run", *id, "run id")->required();
  watch->callback([&state, id] {
    state.action = [&state, id] {
      v1::Run last;
      grpc::Status s = Watch(state, *id, &last);
      if (!s.ok()) return ReportError(s);
      return EmitFinishedRun(state, last);
    };
  });

  CLI::App* cancel = runs->add_subcommand("cancel", "stop a queued or running run");
  cancel->add_option("run", *id, "run id")->required();
  cancel->callback([&state, id] {
    state.action = [&state, id] {
      v1::GetRunRequest request;
      request.set_id(*id);
      v1::Run run;
      auto context = state.client().NewContext();
      grpc::Status s = state.client().training().CancelRun(context.get(), request, &run);
      if (!s.ok()) return ReportError(s);
      return EmitRunState(state, run);
    };
  });

  struct ListArgs {
    std::string experiment, filter, order_by, page_token;
    int limit = 0;
  };
  auto la = std::make_shared<ListArgs>();
  CLI::App* list = runs->add_subcommand("list", "runs, newest first, filtered and ordered");
  list->add_option("--experiment", la->experiment, "only this experiment");
  list->add_option("--filter", la->filter,
                   "MLflow search syntax plus or/(), e.g. \"metrics.test_rmse < 5000 and "
                   "params.model = 'ols'\"");
  list->add_option("--order-by", la->order_by,
                   "e.g. \"metrics.test_rmse ASC, attributes.created_at DESC\"");
  list->add_option("--limit", la->limit, "at most K runs (a page); 0 = all")
      ->check(CLI::NonNegativeNumber);
  list->add_option("--page-token", la->page_token, "next page, as the previous page printed");
  list->callback([&state, la] {
    state.action = [&state, la] {
      v1::ListRunsRequest request;
      request.set_experiment(la->experiment);
      request.set_filter(la->filter);
      request.set_order_by(la->order_by);
      request.set_page_size(la->limit);
      request.set_page_token(la->page_token);
      v1::ListRunsResponse response;
      auto context = state.client().NewContext();
      grpc::Status s = state.client().training().ListRuns(context.get(), request, &response);
      if (!s.ok()) return ReportError(s);
      std::vector<v1::Run> runs(response.runs().begin(), response.runs().end());
      nlohmann::json list = nlohmann::json::array();
      for (const v1::Run& r : runs) list.push_back(ToJson(r));
      nlohmann::json doc = {{"runs", list}};
      if (!response.next_page_token().empty()) doc["next_page_token"] = response.next_page_token();
      return state.Emit(doc, [&] {
        PrintRunTable(runs, state.format());
        if (!response.next_page_token().empty()) {
          std::cerr << "more runs: add --page-token " << response.next_page_token() << "\n";
        }
      });
    };
  });

  struct PlotArgs {
    std::string run, kind, out;
    bool intercept = false;
  };
  auto pa = std::make_shared<PlotArgs>();
  CLI::App* plot = runs->add_subcommand("plot", "draw a fit as a self-contained SVG file");
  plot->add_option("run", pa->run, "run id")->required();
  plot->add_option("--kind", pa->kind, "residuals | actual | coefficients")
      ->required()
      ->check(CLI::IsMember({"residuals", "actual", "coefficients"}));
  plot->add_option("--out", pa->out, "SVG file to write")->required();
  plot->add_flag("--intercept", pa->intercept, "coefficients: include (Intercept) (left out by default)");
  plot->callback([&state, pa] {
    state.action = [&state, pa] {
      v1::GetRunRequest request;
      request.set_id(pa->run);
      v1::RunPlotData data;
      auto context = state.client().NewContext();
      grpc::Status s = state.client().training().GetRunPlotData(context.get(), request, &data);
      if (!s.ok()) return ReportError(s);
      // Nothing to draw is an error, not an empty picture.
      const bool scatter = pa->kind != "coefficients";
      if (scatter ? data.fitted_size() == 0 : data.coefficients_size() == 0) {
        return ReportError(grpc::Status(
            grpc::StatusCode::FAILED_PRECONDITION,
            "run " + data.id() + " has no " + (scatter ? "fitted values" : "coefficients") +
                " to plot (a kmeans run has neither; --kind residuals and actual are for "
                "regression and logistic runs)"));
      }
      SvgOutput svg = RenderRunPlot(data, pa->kind, pa->intercept);
      std::ofstream file(pa->out, std::ios::binary | std::ios::trunc);
      if (file) file << svg.svg;
      file.close();
      if (!file) {
        return ReportError(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                        "cannot write " + pa->out));
      }
      nlohmann::json doc = {{"run", data.id()},   {"kind", pa->kind},
                            {"out", pa->out},     {"points", svg.points},
                            {"skipped", svg.skipped}, {"n_obs", data.n_obs()}};
      return state.Emit(doc, [&] {
        if (state.format() == OutputFormat::kCsv) {
          PrintCsv(Table{{"run", "kind", "out", "points"},
                         {{data.id(), pa->kind, pa->out, std::to_string(svg.points)}}},
                   std::cout);
        } else {
          std::cout << "wrote " << pa->out << " (" << pa->kind << ", " << svg.points
                    << " points)\n";
        }
      });
    };
  });

  auto ids = std::make_shared<std::vector<std::string>>();
  CLI::App* compare = runs->add_subcommand("compare", "runs side by side");
  compare->add_option("runs", *ids, "run ids")->required()->expected(1, -1);
  compare->callback([&state, ids] {
    state.action = [&state, ids] {
      std::vector<v1::Run> runs;
      nlohmann::json list = nlohmann::json::array();
      for (const std::string& run_id : *ids) {
        v1::Run run;
        grpc::Status s = GetRun(state, run_id, &run);
        if (!s.ok()) return ReportError(s);
        list.push_back(ToJson(run));
        runs.push_back(std::move(run));
      }
      return state.Emit({{"runs", list}}, [&] { PrintComparison(runs, state.format()); });
    };
  });
}

}  // namespace mlprod::client
