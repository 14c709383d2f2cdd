#include "server/training_service.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "ml/model.h"
#include "server/auth/call_gate.h"
#include "server/call_context.h"
#include "server/grpc_status.h"
#include "server/run_filter.h"
#include "server/run_report.h"

namespace mlprod::server {
namespace {

v1::RunStatus StatusToProto(registry::RunStatus s) {
  switch (s) {
    case registry::RunStatus::kQueued: return v1::RUN_STATUS_QUEUED;
    case registry::RunStatus::kRunning: return v1::RUN_STATUS_RUNNING;
    case registry::RunStatus::kSucceeded: return v1::RUN_STATUS_SUCCEEDED;
    case registry::RunStatus::kFailed: return v1::RUN_STATUS_FAILED;
    case registry::RunStatus::kCancelled: return v1::RUN_STATUS_CANCELLED;
  }
  return v1::RUN_STATUS_UNSPECIFIED;
}

bool Ended(registry::RunStatus s) {
  return s == registry::RunStatus::kSucceeded || s == registry::RunStatus::kFailed ||
         s == registry::RunStatus::kCancelled;
}

Status ValidateRunId(const std::string& id) {
  if (id.empty()) return Status::InvalidArgument("run id is empty");
  return registry::ValidateName("run id", id);
}

}  // namespace

void ToProto(const registry::Run& in, v1::Run* out) {
  out->set_id(in.id);
  out->set_experiment(in.experiment);
  out->mutable_dataset()->set_name(in.dataset_name);
  out->mutable_dataset()->set_version(in.dataset_version);
  out->set_formula(in.formula);
  out->set_model(in.kind);
  out->mutable_params()->insert(in.params.begin(), in.params.end());
  out->set_missing(in.missing);
  out->set_test_fraction(in.test_fraction);
  out->set_seed(in.seed);
  if (auto it = in.params.find(ml::kFoldsParam); it != in.params.end())
    out->set_folds(std::atoi(it->second.c_str()));
  if (auto it = in.params.find(ml::kSelectParam); it != in.params.end())
    out->set_select(it->second);
  if (auto it = in.params.find(ml::kCriterionParam); it != in.params.end())
    out->set_criterion(it->second);
  out->set_status(StatusToProto(in.status));
  out->set_error(in.error);
  out->mutable_metrics()->insert(in.metrics.begin(), in.metrics.end());
  DecodeReportInto(in.report, out);
  out->set_created_by(in.created_by);
  SetTimestamp(in.created_at_ms, out->mutable_created_at());
  if (in.started_at_ms > 0) SetTimestamp(in.started_at_ms, out->mutable_started_at());
  if (in.finished_at_ms > 0) SetTimestamp(in.finished_at_ms, out->mutable_finished_at());
}

grpc::Status TrainingServiceImpl::CreateExperiment(grpc::ServerContext* context,
                                                   const v1::CreateExperimentRequest* request,
                                                   v1::Experiment* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto e = registry_->CreateExperiment(request->name(), caller->name);
  if (!e.ok()) return ToGrpcStatus(e.status());
  response->set_name(e->name);
  response->set_created_by(e->created_by);
  SetTimestamp(e->created_at_ms, response->mutable_created_at());
  return grpc::Status::OK;
}

grpc::Status TrainingServiceImpl::ListExperiments(grpc::ServerContext* context,
                                                  const v1::ListExperimentsRequest*,
                                                  v1::ListExperimentsResponse* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto list = registry_->ListExperiments();
  if (!list.ok()) return ToGrpcStatus(list.status());
  for (const registry::Experiment& e : *list) {
    v1::Experiment* out = response->add_experiments();
    out->set_name(e.name);
    out->set_created_by(e.created_by);
    SetTimestamp(e.created_at_ms, out->mutable_created_at());
  }
  return grpc::Status::OK;
}

grpc::Status TrainingServiceImpl::SubmitRun(grpc::ServerContext* context,
                                            const v1::SubmitRunRequest* request,
                                            v1::Run* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  registry::Run spec;
  spec.experiment = request->experiment().empty() ? "Default" : request->experiment();
  spec.formula = request->formula();
  spec.kind = request->model().empty() ? "ols" : request->model();
  spec.params.insert(request->params().begin(), request->params().end());
  spec.missing = request->missing().empty() ? "drop" : request->missing();
  spec.test_fraction = request->test_fraction();
  spec.seed = request->seed();
  spec.created_by = caller->name;

  Status s = registry::ValidateName("experiment name", spec.experiment);
  if (!s.ok()) return ToGrpcStatus(s);
  for (const char* key : {ml::kFoldsParam, ml::kSelectParam, ml::kCriterionParam}) {
    if (spec.params.count(key) != 0) {
      return ToGrpcStatus(Status::InvalidArgument(
          std::string("param '") + key + "' is reserved; use the " + key + " field (--folds, "
          "--select, --criterion)"));
    }
  }
  if (request->folds() < 0) {
    return ToGrpcStatus(Status::InvalidArgument("folds must be at least 2, not " +
                                                std::to_string(request->folds())));
  }
  if (!request->criterion().empty() && request->select().empty()) {
    return ToGrpcStatus(Status::InvalidArgument("criterion needs select (forward or backward)"));
  }
  // The registry keeps params as a map: the fold count and the selection travel there.
  if (request->folds() != 0) spec.params[ml::kFoldsParam] = std::to_string(request->folds());
  if (!request->select().empty()) {
    spec.params[ml::kSelectParam] = request->select();
    spec.params[ml::kCriterionParam] =
        request->criterion().empty() ? "aic" : request->criterion();
  }
  if (!(spec.test_fraction >= 0 && spec.test_fraction < 1)) {
    return ToGrpcStatus(Status::InvalidArgument("test fraction must be in [0, 1)"));
  }
  auto missing = ml::ParseMissingStrategy(spec.missing);
  if (!missing.ok()) return ToGrpcStatus(missing.status());
  auto experiment = registry_->GetExperiment(spec.experiment);
  if (!experiment.ok()) return ToGrpcStatus(experiment.status());

  const v1::DatasetRef& ref = request->dataset();
  auto dataset = registry_->GetDatasetVersion(
      ref.name(), ref.version() > 0 ? std::optional<int>(ref.version()) : std::nullopt);
  if (!dataset.ok()) return ToGrpcStatus(dataset.status());
  spec.dataset_name = dataset->name;
  spec.dataset_version = dataset->version;

  // Answer formula and option errors now, not in a failed run later.
  auto frame = cache_->Get(*dataset);
  if (!frame.ok()) return ToGrpcStatus(frame.status());
  ml::TrainOptions options;
  options.formula = spec.formula;
  options.kind = spec.kind;
  options.params = spec.params;
  options.missing = *missing;
  options.test_fraction = spec.test_fraction;
  options.seed = spec.seed;
  options.formula_limits = formula_limits_;
  s = ml::TakePlanParams(&options);
  if (!s.ok()) return ToGrpcStatus(s);
  s = ml::ValidateTrainOptions(**frame, options);
  if (!s.ok()) return ToGrpcStatus(s);

  auto run = registry_->CreateRun(spec);
  if (!run.ok()) return ToGrpcStatus(run.status());
  queue_->Enqueue(run->id);
  ToProto(*run, response);
  return grpc::Status::OK;
}

grpc::Status TrainingServiceImpl::GetRun(grpc::ServerContext* context, const v1::GetRunRequest* request,
                                         v1::Run* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  Status s = ValidateRunId(request->id());
  if (!s.ok()) return ToGrpcStatus(s);
  auto run = registry_->GetRun(request->id());
  if (!run.ok()) return ToGrpcStatus(run.status());
  ToProto(*run, response);
  return grpc::Status::OK;
}

grpc::Status TrainingServiceImpl::ListRuns(grpc::ServerContext* context,
                                           const v1::ListRunsRequest* request,
                                           v1::ListRunsResponse* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  std::optional<std::string> experiment;
  if (!request->experiment().empty()) {
    auto e = registry_->GetExperiment(request->experiment());
    if (!e.ok()) return ToGrpcStatus(e.status());
    experiment = request->experiment();
  }
  // The registry has no query language: filter, order and page here, over its list.
  auto runs = registry_->ListRuns(experiment);
  if (!runs.ok()) return ToGrpcStatus(runs.status());
  return ToGrpcStatus(SelectRuns(*request, std::move(runs).value(), response, filter_limits_));
}

Status SelectRuns(const v1::ListRunsRequest& request, std::vector<registry::Run> runs,
                  v1::ListRunsResponse* response, const RunFilterLimits& limits) {
  MLPROD_ASSIGN_OR_RETURN(RunFilter filter, RunFilter::Parse(request.filter(), limits));
  MLPROD_ASSIGN_OR_RETURN(std::vector<OrderKey> order, ParseOrderBy(request.order_by(), limits));
  if (request.page_size() < 0) {
    return Status::InvalidArgument("page size must be >= 0, got " +
                                   std::to_string(request.page_size()));
  }
  size_t offset = 0;
  if (!request.page_token().empty()) {
    const std::string& token = request.page_token();
    if (token.size() > 12 || token.find_first_not_of("0123456789") != std::string::npos) {
      return Status::InvalidArgument("page token '" + token + "' is not one this server issued");
    }
    offset = std::stoull(token);
  }
  std::vector<registry::Run> selected;
  for (registry::Run& r : runs) {
    if (filter.Matches(r)) selected.push_back(std::move(r));
  }
  SortRuns(order, &selected);
  const size_t end = request.page_size() == 0
                         ? selected.size()
                         : std::min(selected.size(), offset + static_cast<size_t>(request.page_size()));
  for (size_t i = offset; i < end; ++i) ToProto(selected[i], response->add_runs());
  if (end < selected.size()) response->set_next_page_token(std::to_string(end));
  return Status::Ok();
}

grpc::Status TrainingServiceImpl::WatchRun(grpc::ServerContext* context,
                                           const v1::GetRunRequest* request,
                                           grpc::ServerWriter<v1::RunEvent>* writer) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  Status s = ValidateRunId(request->id());
  if (!s.ok()) return ToGrpcStatus(s);
  auto run = registry_->GetRun(request->id());
  if (!run.ok()) return ToGrpcStatus(run.status());

  size_t seen = 0;
  registry::RunStatus last_status = run->status;
  if (!Ended(run->status)) {
    v1::RunEvent first;
    ToProto(*run, first.mutable_run());
    if (!writer->Write(first)) return grpc::Status::OK;
  }
  // Sends each new log line with the progress it was written at; false when the client left.
  auto send_lines = [&](const RunQueue::Progress& p) {
    for (const RunQueue::LogLine& line : p.lines) {
      v1::RunEvent event;
      event.mutable_run()->set_id(run->id);
      event.mutable_run()->set_status(StatusToProto(run->status));
      event.set_progress(line.progress);
      event.set_log_line(line.text);
      if (!writer->Write(event)) return false;
    }
    seen += p.lines.size();
    return true;
  };
  while (!Ended(run->status)) {
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled");
    RunQueue::Progress p =
        queue_->WaitForProgress(request->id(), seen, std::chrono::milliseconds(250));
    if (!send_lines(p)) return grpc::Status::OK;
    run = registry_->GetRun(request->id());
    if (!run.ok()) return ToGrpcStatus(run.status());
    if (run->status != last_status && !Ended(run->status)) {
      last_status = run->status;
      v1::RunEvent event;
      event.mutable_run()->set_id(run->id);
      event.mutable_run()->set_status(StatusToProto(run->status));
      event.set_progress(p.progress);
      if (!writer->Write(event)) return grpc::Status::OK;
    }
  }
  // Lines logged between the last wait and the run's end would be lost: send them first.
  if (!send_lines(queue_->WaitForProgress(request->id(), seen, std::chrono::milliseconds(0)))) {
    return grpc::Status::OK;
  }
  v1::RunEvent last;
  ToProto(*run, last.mutable_run());
  last.set_progress(1.0);
  writer->Write(last);
  return grpc::Status::OK;
}

grpc::Status TrainingServiceImpl::CancelRun(grpc::ServerContext* context, const v1::GetRunRequest* request,
                                            v1::Run* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  Status s = ValidateRunId(request->id());
  if (!s.ok()) return ToGrpcStatus(s);
  auto run = registry_->GetRun(request->id());
  if (!run.ok()) return ToGrpcStatus(run.status());
  if (Ended(run->status)) {
    return ToGrpcStatus(Status::FailedPrecondition("run " + run->id + " has already ended (" +
                                                   std::string(registry::RunStatusName(run->status)) +
                                                   ")"));
  }
  s = queue_->Cancel(request->id());
  if (!s.ok()) return ToGrpcStatus(s);
  run = registry_->GetRun(request->id());
  if (!run.ok()) return ToGrpcStatus(run.status());
  ToProto(*run, response);
  return grpc::Status::OK;
}

grpc::Status TrainingServiceImpl::GetRunPlotData(grpc::ServerContext* context,
                                                 const v1::GetRunRequest* request,
                                                 v1::RunPlotData* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  Status s = ValidateRunId(request->id());
  if (!s.ok()) return ToGrpcStatus(s);
  auto run = registry_->GetRun(request->id());
  if (!run.ok()) return ToGrpcStatus(run.status());
  if (run->status != registry::RunStatus::kSucceeded) {
    return ToGrpcStatus(Status::FailedPrecondition(
        "run " + run->id + " is " + std::string(registry::RunStatusName(run->status)) +
        ": only a succeeded run has a fit to plot"));
  }
  v1::Run full;
  ToProto(*run, &full);
  response->set_id(run->id);
  response->set_formula(run->formula);
  response->set_n_obs(full.n_obs());
  *response->mutable_coefficients() = full.coefficients();
  DecodePlotDataInto(run->report, response);
  return grpc::Status::OK;
}

}  // namespace mlprod::server
