#include "server/inference_service.h"

#include <string>
#include <vector>

#include "server/auth/call_gate.h"
#include "server/grpc_status.h"

namespace mlprod::server {

grpc::ServerUnaryReactor* InferenceServiceImpl::Predict(grpc::CallbackServerContext* context,
                                                        const v1::PredictRequest* request,
                                                        v1::PredictResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto caller = CallerOf(*context);
  reactor->Finish(caller.ok() ? Answer(request, response) : ToGrpcStatus(caller.status()));
  return reactor;
}

grpc::Status InferenceServiceImpl::Answer(const v1::PredictRequest* request,
                                          v1::PredictResponse* response) {
  if (request->rows().empty()) {
    return ToGrpcStatus(Status::InvalidArgument("predict needs at least one row"));
  }
  if (static_cast<size_t>(request->rows_size()) > max_rows_) {
    return ToGrpcStatus(Status::ResourceExhausted(
        "predict takes at most " + std::to_string(max_rows_) + " rows per request"));
  }
  const double level = request->level() == 0 ? 0.95 : request->level();
  if (!(level > 0 && level < 1)) {
    return ToGrpcStatus(Status::InvalidArgument("level must be in (0, 1)"));
  }
  // The handle pins one version for the whole request, whatever promotes meanwhile.
  auto handle = serving_->Resolve(request->model());
  if (!handle.ok()) return ToGrpcStatus(handle.status());

  std::vector<ml::TextRecord> records(request->rows_size());
  for (int r = 0; r < request->rows_size(); ++r) {
    const auto& fields = request->rows(r).fields();
    records[r].reserve(fields.size());
    for (const auto& [name, text] : fields) records[r].emplace_back(name, text);
  }
  auto frame = ml::FrameFromRecords(handle->model->signature(), records);
  if (!frame.ok()) return ToGrpcStatus(frame.status());
  ml::PredictOptions options;
  options.intervals = request->intervals();
  options.level = level;
  auto predictions = handle->model->Predict(*frame, options);
  if (!predictions.ok()) return ToGrpcStatus(predictions.status());

  response->set_model(handle->name);
  response->set_version(handle->version);
  for (const ml::Prediction& p : *predictions) {
    v1::Prediction* out = response->add_predictions();
    out->set_value(p.value);
    if (request->intervals()) {
      out->set_lower(p.lower);
      out->set_upper(p.upper);
    }
  }
  metrics_->RecordPredictions(handle->name, handle->version, predictions->size());
  return grpc::Status::OK;
}

}  // namespace mlprod::server
