// TrainingService: experiments, run submission, inspection, watching and cancelling.
#pragma once

#include "mlprod/v1/training.grpc.pb.h"
#include "registry/registry.h"
#include "ml/formula_limits.h"
#include "server/dataset_cache.h"
#include "server/run_filter.h"
#include "server/run_queue.h"

namespace mlprod::server {

class TrainingServiceImpl final : public v1::TrainingService::Service {
 public:
  // Every pointer outlives the service. Formulas and filters over the limits are
  // INVALID_ARGUMENT naming the position.
  TrainingServiceImpl(registry::Registry* registry, DatasetCache* cache, RunQueue* queue,
                      const ml::FormulaLimits& formula_limits,
                      const RunFilterLimits& filter_limits)
      : registry_(registry),
        cache_(cache),
        queue_(queue),
        formula_limits_(formula_limits),
        filter_limits_(filter_limits) {}

  grpc::Status CreateExperiment(grpc::ServerContext* context,
                                const v1::CreateExperimentRequest* request,
                                v1::Experiment* response) override;
  grpc::Status ListExperiments(grpc::ServerContext* context,
                               const v1::ListExperimentsRequest* request,
                               v1::ListExperimentsResponse* response) override;
  grpc::Status SubmitRun(grpc::ServerContext* context, const v1::SubmitRunRequest* request,
                         v1::Run* response) override;
  grpc::Status GetRun(grpc::ServerContext* context, const v1::GetRunRequest* request,
                      v1::Run* response) override;
  grpc::Status ListRuns(grpc::ServerContext* context, const v1::ListRunsRequest* request,
                        v1::ListRunsResponse* response) override;
  grpc::Status WatchRun(grpc::ServerContext* context, const v1::GetRunRequest* request,
                        grpc::ServerWriter<v1::RunEvent>* writer) override;
  grpc::Status CancelRun(grpc::ServerContext* context, const v1::GetRunRequest* request,
                         v1::Run* response) override;
  grpc::Status GetRunPlotData(grpc::ServerContext* context, const v1::GetRunRequest* request,
                              v1::RunPlotData* response) override;

 private:
  registry::Registry* const registry_;
  DatasetCache* const cache_;
  RunQueue* const queue_;
  const ml::FormulaLimits formula_limits_;
  const RunFilterLimits filter_limits_;
};

// ListRuns below gRPC: the runs of `runs` (newest first, as the registry lists them) that match
// request.filter(), in request.order_by() order, paged. INVALID_ARGUMENT for a bad filter,
// order-by (or one over `limits`), page size or page token.
Status SelectRuns(const v1::ListRunsRequest& request, std::vector<registry::Run> runs,
                  v1::ListRunsResponse* response, const RunFilterLimits& limits = {});

// Converts a stored run (with its report) to the API message.
void ToProto(const registry::Run& in, v1::Run* out);

}  // namespace mlprod::server
