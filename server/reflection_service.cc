#include "server/reflection_service.h"

#include <set>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include "server/auth/call_gate.h"
#include "server/grpc_status.h"

namespace mlprod::server {
namespace {

namespace pb = google::protobuf;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

void SetError(ServerReflectionResponse* response, grpc::StatusCode code, std::string message) {
  response->mutable_error_response()->set_error_code(code);
  response->mutable_error_response()->set_error_message(std::move(message));
}

// `file` and every file it imports, transitively, each once: a client needs them all to build
// the descriptors.
void AddFileWithDependencies(const pb::FileDescriptor* file, std::set<std::string>* seen,
                             ServerReflectionResponse* response) {
  std::vector<const pb::FileDescriptor*> pending = {file};
  while (!pending.empty()) {
    const pb::FileDescriptor* f = pending.back();
    pending.pop_back();
    if (!seen->insert(f->name()).second) continue;
    pb::FileDescriptorProto proto;
    f->CopyTo(&proto);
    proto.SerializeToString(
        response->mutable_file_descriptor_response()->add_file_descriptor_proto());
    for (int i = 0; i < f->dependency_count(); ++i) pending.push_back(f->dependency(i));
  }
}

void Answer(const ServerReflectionRequest& request, const std::vector<std::string>& services,
            ServerReflectionResponse* response) {
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  response->set_valid_host(request.host());
  *response->mutable_original_request() = request;
  std::set<std::string> seen;
  const pb::FileDescriptor* file = nullptr;
  std::string what;
  switch (request.message_request_case()) {
    case ServerReflectionRequest::kListServices:
      for (const std::string& name : services) {
        response->mutable_list_services_response()->add_service()->set_name(name);
      }
      return;
    case ServerReflectionRequest::kFileByFilename:
      file = pool->FindFileByName(request.file_by_filename());
      what = "file " + request.file_by_filename();
      break;
    case ServerReflectionRequest::kFileContainingSymbol:
      file = pool->FindFileContainingSymbol(request.file_containing_symbol());
      what = "symbol " + request.file_containing_symbol();
      break;
    case ServerReflectionRequest::kFileContainingExtension: {
      const auto& ext = request.file_containing_extension();
      const pb::Descriptor* type = pool->FindMessageTypeByName(ext.containing_type());
      const pb::FieldDescriptor* field =
          type != nullptr ? pool->FindExtensionByNumber(type, ext.extension_number()) : nullptr;
      file = field != nullptr ? field->file() : nullptr;
      what = "extension " + std::to_string(ext.extension_number()) + " of " +
             ext.containing_type();
      break;
    }
    case ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const pb::Descriptor* type =
          pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) {
        SetError(response, grpc::StatusCode::NOT_FOUND,
                 "no message type " + request.all_extension_numbers_of_type());
        return;
      }
      std::vector<const pb::FieldDescriptor*> extensions;
      pool->FindAllExtensions(type, &extensions);
      auto* out = response->mutable_all_extension_numbers_response();
      out->set_base_type_name(type->full_name());
      for (const pb::FieldDescriptor* e : extensions) out->add_extension_number(e->number());
      return;
    }
    case ServerReflectionRequest::MESSAGE_REQUEST_NOT_SET:
      SetError(response, grpc::StatusCode::INVALID_ARGUMENT, "the request asks for nothing");
      return;
  }
  if (file == nullptr) {
    SetError(response, grpc::StatusCode::NOT_FOUND, "no " + what);
    return;
  }
  AddFileWithDependencies(file, &seen, response);
}

}  // namespace

grpc::Status ReflectionServiceImpl::ServerReflectionInfo(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<ServerReflectionResponse, ServerReflectionRequest>* stream) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  ServerReflectionRequest request;
  while (stream->Read(&request)) {
    ServerReflectionResponse response;
    Answer(request, services_, &response);
    if (!stream->Write(response)) break;
  }
  return grpc::Status::OK;
}

}  // namespace mlprod::server
