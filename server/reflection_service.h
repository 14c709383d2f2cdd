// gRPC server reflection (v1alpha), so grpcurl and grpc_cli can list and call mlprod's services
// (SPEC §9). Served by mlprod itself rather than libgrpc++_reflection, because a library service
// cannot ask the call gate: here the role table applies as to every method (viewer and up).
// Descriptors come from the protobuf generated pool, which holds every compiled-in .proto.
#pragma once

#include <string>
#include <vector>

#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace mlprod::server {

class ReflectionServiceImpl final
    : public grpc::reflection::v1alpha::ServerReflection::Service {
 public:
  // `services`: the full names list_services answers with.
  explicit ReflectionServiceImpl(std::vector<std::string> services)
      : services_(std::move(services)) {}

  // One response per request, in order, until the client half-closes. An unknown file, symbol or
  // extension is answered in-stream with an error_response (NOT_FOUND), as the protocol says.
  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<grpc::reflection::v1alpha::ServerReflectionResponse,
                               grpc::reflection::v1alpha::ServerReflectionRequest>* stream)
      override;

 private:
  const std::vector<std::string> services_;
};

}  // namespace mlprod::server
