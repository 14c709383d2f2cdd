// ModelRegistry service: register versions, read them, and move aliases (promote, rollback)
// behind the promotion gate.
#pragma once

#include "mlprod/v1/registry.grpc.pb.h"
#include "registry/registry.h"
#include "server/serving_models.h"

namespace mlprod::server {

// The metric the promotion gate compares, by the candidate's model kind: held-out RMSE for the
// regressions, held-out log-loss (a proper scoring rule) for logistic, held-out silhouette for
// kmeans (inertia always falls as k grows, so it cannot judge a k against another).
struct GateMetric {
  const char* name;
  bool higher_is_better;
};
GateMetric GateMetricFor(const std::string& kind);

class ModelRegistryImpl final : public v1::ModelRegistry::Service {
 public:
  // Both pointers outlive the service.
  ModelRegistryImpl(registry::Registry* registry, ServingModels* serving)
      : registry_(registry), serving_(serving) {}

  grpc::Status RegisterModel(grpc::ServerContext* context, const v1::RegisterModelRequest* request,
                             v1::ModelVersion* response) override;
  grpc::Status ListModels(grpc::ServerContext* context, const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;
  grpc::Status GetModel(grpc::ServerContext* context, const v1::GetModelRequest* request,
                        v1::Model* response) override;
  grpc::Status Promote(grpc::ServerContext* context, const v1::PromoteRequest* request,
                       v1::AliasChange* response) override;
  grpc::Status Rollback(grpc::ServerContext* context, const v1::RollbackRequest* request,
                        v1::AliasChange* response) override;
  grpc::Status GetHistory(grpc::ServerContext* context, const v1::GetHistoryRequest* request,
                          v1::GetHistoryResponse* response) override;

 private:
  registry::Registry* const registry_;
  ServingModels* const serving_;
};

// Why promoting `candidate` over `current` is refused, or OK: a different signature, or a worse
// or missing gate metric (GateMetricFor the candidate's kind). Pure: tested on its own.
Status CheckPromotionGate(const registry::ModelVersion& current,
                          const registry::ModelVersion& candidate);

}  // namespace mlprod::server
