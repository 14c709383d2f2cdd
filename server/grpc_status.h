// The one place an mlprod::Status becomes a grpc::Status (codes are numbered alike).
#pragma once

#include <grpcpp/support/status.h>

#include "ml/status.h"

namespace mlprod::server {

inline grpc::Status ToGrpcStatus(const Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), s.message());
}

}  // namespace mlprod::server
