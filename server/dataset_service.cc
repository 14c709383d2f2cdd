#include "server/dataset_service.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>

#include "ml/describe.h"
#include "server/auth/call_gate.h"
#include "server/call_context.h"
#include "server/dataset_ingest.h"
#include "server/grpc_status.h"
#include "server/run_report.h"

namespace mlprod::server {
namespace {

v1::ColumnType ColumnTypeToProto(std::string_view name) {
  auto type = ml::ParseColumnType(name);
  return type.ok() ? ToProto(*type) : v1::COLUMN_TYPE_UNSPECIFIED;
}

Result<ml::CsvOptions> OptionsFromHeader(const v1::UploadHeader& header) {
  ml::CsvOptions options;
  if (!header.delimiter().empty()) {
    if (header.delimiter().size() != 1) {
      return Status::InvalidArgument("delimiter must be one character, got '" +
                                     header.delimiter() + "'");
    }
    options.delimiter = header.delimiter()[0];
    if (options.delimiter == '"' || options.delimiter == '\n' || options.delimiter == '\r') {
      return Status::InvalidArgument("delimiter cannot be a quote or a line break");
    }
  }
  if (header.na_values_set()) {
    options.na_values.assign(header.na_values().begin(), header.na_values().end());
  }
  for (const auto& [column, type] : header.schema()) {
    switch (type) {
      case v1::COLUMN_TYPE_NUMERIC: options.schema[column] = ml::ColumnType::kNumeric; break;
      case v1::COLUMN_TYPE_CATEGORICAL: options.schema[column] = ml::ColumnType::kCategorical; break;
      case v1::COLUMN_TYPE_BOOLEAN: options.schema[column] = ml::ColumnType::kBoolean; break;
      default: return Status::InvalidArgument("schema: column '" + column + "' has no type");
    }
  }
  return options;
}

std::optional<int> VersionOf(const v1::DatasetRef& ref) {
  if (ref.version() <= 0) return std::nullopt;
  return ref.version();
}

}  // namespace

void ToProto(const registry::DatasetVersion& in, v1::DatasetVersion* out) {
  out->set_name(in.name);
  out->set_version(in.version);
  out->set_rows(in.rows);
  for (const registry::ColumnInfo& c : in.columns) {
    v1::ColumnInfo* col = out->add_columns();
    col->set_name(c.name);
    col->set_type(ColumnTypeToProto(c.type));
    col->set_missing(c.missing);
  }
  out->set_sha256(in.sha256);
  out->set_size_bytes(in.size_bytes);
  out->set_created_by(in.created_by);
  SetTimestamp(in.created_at_ms, out->mutable_created_at());
}

grpc::Status DatasetServiceImpl::UploadDataset(grpc::ServerContext* context,
                                               grpc::ServerReader<v1::UploadDatasetRequest>* reader,
                                               v1::DatasetVersion* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  v1::UploadDatasetRequest message;
  if (!reader->Read(&message) || !message.has_header()) {
    return ToGrpcStatus(Status::InvalidArgument("upload must start with a header message"));
  }
  const v1::UploadHeader header = message.header();
  Status s = registry::ValidateName("dataset name", header.name());
  if (!s.ok()) return ToGrpcStatus(s);
  auto options = OptionsFromHeader(header);
  if (!options.ok()) return ToGrpcStatus(options.status());

  auto ingest = DatasetIngest::Start(registry_, *options);
  if (!ingest.ok()) return ToGrpcStatus(ingest.status());
  while (reader->Read(&message)) {
    if (!message.has_chunk()) {
      return ToGrpcStatus(Status::InvalidArgument("only the first upload message is a header"));
    }
    if ((*ingest)->bytes() + message.chunk().size() > max_upload_bytes_) {
      return ToGrpcStatus(Status::ResourceExhausted(
          "upload exceeds the server's limit of " + std::to_string(max_upload_bytes_) + " bytes"));
    }
    Status added = (*ingest)->Add(message.chunk());
    if (!added.ok()) return ToGrpcStatus(added);
  }

  // A client that went away mid-upload also ends the stream: its bytes are not a file.
  if (context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "upload cancelled before its end");
  }
  registry::NewDatasetVersion spec;
  spec.name = header.name();
  spec.parse_options = EncodeCsvOptions(*options);
  spec.created_by = caller->name;
  bool existed = false;
  auto version = (*ingest)->Finish(std::move(spec), &existed);
  if (!version.ok()) return ToGrpcStatus(version.status());
  ToProto(*version, response);
  response->set_existed(existed);
  return grpc::Status::OK;
}

grpc::Status DatasetServiceImpl::GetDataset(grpc::ServerContext* context,
                                            const v1::GetDatasetRequest* request,
                                            v1::DatasetVersion* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto version = registry_->GetDatasetVersion(request->dataset().name(),
                                              VersionOf(request->dataset()));
  if (!version.ok()) return ToGrpcStatus(version.status());
  ToProto(*version, response);
  return grpc::Status::OK;
}

grpc::Status DatasetServiceImpl::ListDatasets(grpc::ServerContext* context,
                                              const v1::ListDatasetsRequest*,
                                              v1::ListDatasetsResponse* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto versions = registry_->ListDatasetVersions();
  if (!versions.ok()) return ToGrpcStatus(versions.status());
  for (const registry::DatasetVersion& v : *versions) ToProto(v, response->add_datasets());
  return grpc::Status::OK;
}

grpc::Status DatasetServiceImpl::DescribeDataset(grpc::ServerContext* context,
                                                 const v1::GetDatasetRequest* request,
                                                 v1::DescribeDatasetResponse* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto version = registry_->GetDatasetVersion(request->dataset().name(),
                                              VersionOf(request->dataset()));
  if (!version.ok()) return ToGrpcStatus(version.status());
  auto frame = cache_->Get(*version);
  if (!frame.ok()) return ToGrpcStatus(frame.status());
  ToProto(*version, response->mutable_dataset());
  for (const ml::ColumnSummary& c : ml::Describe(**frame)) {
    v1::ColumnSummary* out = response->add_columns();
    out->set_name(c.name);
    out->set_type(ToProto(c.type));
    out->set_count(static_cast<int64_t>(c.count));
    out->set_missing(static_cast<int64_t>(c.missing));
    if (c.type == ml::ColumnType::kNumeric && c.count > 0) {
      out->set_mean(c.mean);
      if (!std::isnan(c.sd)) out->set_sd(c.sd);
      out->set_min(c.min);
      out->set_q1(c.q1);
      out->set_median(c.median);
      out->set_q3(c.q3);
      out->set_max(c.max);
    }
    for (const auto& [level, count] : c.level_counts) {
      v1::LevelCount* lc = out->add_levels();
      lc->set_level(level);
      lc->set_count(static_cast<int64_t>(count));
    }
  }
  return grpc::Status::OK;
}

void HeadRows(const ml::Frame& frame, size_t limit, v1::HeadDatasetResponse* response) {
  const size_t rows = std::min(limit, frame.rows);
  for (size_t r = 0; r < rows; ++r) {
    v1::HeadRow* row = response->add_rows();
    for (const ml::Column& c : frame.columns) {
      v1::Cell* cell = row->add_cells();
      if (c.IsMissing(r)) {
        cell->set_missing(true);
        continue;
      }
      if (c.type == ml::ColumnType::kNumeric) {
        char buffer[64];
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), c.values[r]);
        cell->set_value(ec == std::errc() ? std::string(buffer, end) : std::string("?"));
      } else {
        cell->set_value(c.levels[static_cast<size_t>(c.codes[r])]);
      }
    }
  }
}

grpc::Status DatasetServiceImpl::HeadDataset(grpc::ServerContext* context,
                                             const v1::HeadDatasetRequest* request,
                                             v1::HeadDatasetResponse* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  constexpr int kDefaultRows = 10, kMaxRows = 10000;
  const int limit = request->limit() == 0 ? kDefaultRows : request->limit();
  if (limit < 0 || limit > kMaxRows) {
    return ToGrpcStatus(Status::InvalidArgument("row count must be in [1, " +
                                                 std::to_string(kMaxRows) + "], got " +
                                                 std::to_string(limit)));
  }
  auto version = registry_->GetDatasetVersion(request->dataset().name(),
                                              VersionOf(request->dataset()));
  if (!version.ok()) return ToGrpcStatus(version.status());
  auto frame = cache_->Get(*version);
  if (!frame.ok()) return ToGrpcStatus(frame.status());
  ToProto(*version, response->mutable_dataset());
  HeadRows(**frame, static_cast<size_t>(limit), response);
  return grpc::Status::OK;
}

grpc::Status DatasetServiceImpl::DeleteDataset(grpc::ServerContext* context,
                                               const v1::GetDatasetRequest* request,
                                               v1::DeleteDatasetResponse* response) {
  auto caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const v1::DatasetRef& ref = request->dataset();
  auto deleted = registry_->DeleteDataset(ref.name(), VersionOf(ref), caller->name);
  if (!deleted.ok()) return ToGrpcStatus(deleted.status());
  response->set_name(ref.name());
  for (int version : *deleted) {
    cache_->Forget(ref.name(), version);
    response->add_versions(version);
  }
  return grpc::Status::OK;
}

}  // namespace mlprod::server
