#include "server/auth/role.h"

#include <algorithm>
#include <array>

namespace mlprod::server {
namespace {

constexpr Access kOpen{true, Role::kViewer};
constexpr Access kViewer{false, Role::kViewer};
constexpr Access kEditor{false, Role::kEditor};
constexpr Access kAdmin{false, Role::kAdmin};

// Sorted by method name; a test holds it to every service descriptor.
constexpr std::array kTable = {
    MethodAccess{"/grpc.health.v1.Health/Check", kOpen},
    MethodAccess{"/grpc.health.v1.Health/Watch", kOpen},
    MethodAccess{"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", kViewer},
    MethodAccess{"/mlprod.v1.DatasetService/DeleteDataset", kAdmin},
    MethodAccess{"/mlprod.v1.DatasetService/DescribeDataset", kViewer},
    MethodAccess{"/mlprod.v1.DatasetService/GetDataset", kViewer},
    MethodAccess{"/mlprod.v1.DatasetService/HeadDataset", kViewer},
    MethodAccess{"/mlprod.v1.DatasetService/ListDatasets", kViewer},
    MethodAccess{"/mlprod.v1.DatasetService/UploadDataset", kEditor},
    MethodAccess{"/mlprod.v1.InferenceService/Predict", kViewer},
    MethodAccess{"/mlprod.v1.ModelRegistry/GetHistory", kViewer},
    MethodAccess{"/mlprod.v1.ModelRegistry/GetModel", kViewer},
    MethodAccess{"/mlprod.v1.ModelRegistry/ListModels", kViewer},
    MethodAccess{"/mlprod.v1.ModelRegistry/Promote", kAdmin},
    MethodAccess{"/mlprod.v1.ModelRegistry/RegisterModel", kEditor},
    MethodAccess{"/mlprod.v1.ModelRegistry/Rollback", kAdmin},
    MethodAccess{"/mlprod.v1.ServerService/GetStatus", kViewer},
    MethodAccess{"/mlprod.v1.TokenService/CreateToken", kAdmin},
    MethodAccess{"/mlprod.v1.TokenService/ListTokens", kAdmin},
    MethodAccess{"/mlprod.v1.TokenService/RevokeToken", kAdmin},
    MethodAccess{"/mlprod.v1.TrainingService/CancelRun", kEditor},
    MethodAccess{"/mlprod.v1.TrainingService/CreateExperiment", kEditor},
    MethodAccess{"/mlprod.v1.TrainingService/GetRun", kViewer},
    MethodAccess{"/mlprod.v1.TrainingService/GetRunPlotData", kViewer},
    MethodAccess{"/mlprod.v1.TrainingService/ListExperiments", kViewer},
    MethodAccess{"/mlprod.v1.TrainingService/ListRuns", kViewer},
    MethodAccess{"/mlprod.v1.TrainingService/SubmitRun", kEditor},
    MethodAccess{"/mlprod.v1.TrainingService/WatchRun", kViewer},
};

constexpr bool ByMethod(const MethodAccess& a, const MethodAccess& b) { return a.method < b.method; }

static_assert(std::is_sorted(kTable.begin(), kTable.end(), ByMethod),
              "keep the role table sorted by method: it is searched by bisection");

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer: return "viewer";
    case Role::kEditor: return "editor";
    case Role::kAdmin: return "admin";
  }
  return "admin";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kViewer, Role::kEditor, Role::kAdmin}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

std::optional<Access> RequiredAccess(std::string_view method) {
  auto it = std::lower_bound(kTable.begin(), kTable.end(), MethodAccess{method, kAdmin}, ByMethod);
  if (it == kTable.end() || it->method != method) return std::nullopt;
  return it->access;
}

std::span<const MethodAccess> MethodTable() { return kTable; }

}  // namespace mlprod::server
