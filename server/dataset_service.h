// DatasetService: upload, list, show and describe dataset versions.
#pragma once

#include <cstddef>

#include "mlprod/v1/datasets.grpc.pb.h"
#include "registry/registry.h"
#include "server/dataset_cache.h"

namespace mlprod::server {

class DatasetServiceImpl final : public v1::DatasetService::Service {
 public:
  // `registry` and `cache` outlive the service. Uploads larger than `max_upload_bytes` are
  // RESOURCE_EXHAUSTED.
  DatasetServiceImpl(registry::Registry* registry, DatasetCache* cache, size_t max_upload_bytes)
      : registry_(registry), cache_(cache), max_upload_bytes_(max_upload_bytes) {}

  grpc::Status UploadDataset(grpc::ServerContext* context,
                             grpc::ServerReader<v1::UploadDatasetRequest>* reader,
                             v1::DatasetVersion* response) override;
  grpc::Status GetDataset(grpc::ServerContext* context, const v1::GetDatasetRequest* request,
                          v1::DatasetVersion* response) override;
  grpc::Status ListDatasets(grpc::ServerContext* context, const v1::ListDatasetsRequest* request,
                            v1::ListDatasetsResponse* response) override;
  grpc::Status DescribeDataset(grpc::ServerContext* context, const v1::GetDatasetRequest* request,
                               v1::DescribeDatasetResponse* response) override;
  grpc::Status HeadDataset(grpc::ServerContext* context, const v1::HeadDatasetRequest* request,
                           v1::HeadDatasetResponse* response) override;
  grpc::Status DeleteDataset(grpc::ServerContext* context, const v1::GetDatasetRequest* request,
                             v1::DeleteDatasetResponse* response) override;

 private:
  registry::Registry* const registry_;
  DatasetCache* const cache_;
  const size_t max_upload_bytes_;
};

// The first `limit` rows of `frame` as cells: numbers in shortest round-trip form, levels as
// stored, missing cells flagged (value empty).
void HeadRows(const ml::Frame& frame, size_t limit, v1::HeadDatasetResponse* response);

// Converts a stored dataset version to the API message.
void ToProto(const registry::DatasetVersion& in, v1::DatasetVersion* out);

}  // namespace mlprod::server
