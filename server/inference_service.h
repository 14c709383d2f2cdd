// InferenceService: predictions from the version a model reference resolves to.
//
// On gRPC's callback API: a prediction is microseconds of work that never blocks (the alias and
// the model come from memory), so it runs inline on gRPC's own threads and answers without the
// hand-off to a sync-server thread, which cost more than the prediction itself under concurrent
// load (docs/BENCHMARKS.md, "Serving"). The exceptions are a version's first load from disk and
// a very large batch (100 000 rows take about 0.1 s); both are rare and bounded.
#pragma once

#include <cstddef>

#include "mlprod/v1/inference.grpc.pb.h"
#include "server/metrics.h"
#include "server/serving_models.h"

namespace mlprod::server {

class InferenceServiceImpl final : public v1::InferenceService::CallbackService {
 public:
  // `serving` and `metrics` (rows predicted per version) outlive the service. More than
  // `max_rows` rows is RESOURCE_EXHAUSTED.
  InferenceServiceImpl(ServingModels* serving, ServerMetrics* metrics, size_t max_rows)
      : serving_(serving), metrics_(metrics), max_rows_(max_rows) {}

  grpc::ServerUnaryReactor* Predict(grpc::CallbackServerContext* context,
                                    const v1::PredictRequest* request,
                                    v1::PredictResponse* response) override;

 private:
  grpc::Status Answer(const v1::PredictRequest* request, v1::PredictResponse* response);
  ServingModels* const serving_;
  ServerMetrics* const metrics_;
  const size_t max_rows_;
};

}  // namespace mlprod::server
