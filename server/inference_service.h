// InferenceService: predictions from the version a model reference resolves to.
#pragma once

#include <cstddef>

#include "mlprod/v1/inference.grpc.pb.h"
#include "server/serving_models.h"

namespace mlprod::server {

class InferenceServiceImpl final : public v1::InferenceService::Service {
 public:
  // `serving` outlives the service. More than `max_rows` rows is RESOURCE_EXHAUSTED.
  InferenceServiceImpl(ServingModels* serving, size_t max_rows)
      : serving_(serving), max_rows_(max_rows) {}

  grpc::Status Predict(grpc::ServerContext* context, const v1::PredictRequest* request,
                       v1::PredictResponse* response) override;

 private:
  ServingModels* const serving_;
  const size_t max_rows_;
};

}  // namespace mlprod::server
