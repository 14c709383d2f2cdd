// SqliteRegistry: the Registry over one SQLite connection and a BlobStore. Internal to
// registry/; everyone else uses registry.h.
//
// Threading: one connection, guarded by mu_; every method takes mu_ for its whole database
// work, so reads and writes are serialised. Blob reads of immutable blobs happen after mu_ is
// released; a blob is synced before mu_ is taken and renamed to its key inside the write
// transaction (before COMMIT).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "registry/blob_store.h"
#include "registry/registry.h"
#include "registry/sqlite_db.h"

namespace mlprod::registry {

class SqliteRegistry final : public Registry {
 public:
  SqliteRegistry(Database db, std::unique_ptr<BlobStore> blobs)
      : db_(std::move(db)), blobs_(std::move(blobs)) {}

  BlobStore& blobs() override { return *blobs_; }
  Result<DatasetVersion> CreateDatasetVersion(const NewDatasetVersion& spec, BlobWriter* columns,
                                              bool* existed) override;
  Result<DatasetVersion> GetDatasetVersion(std::string_view name,
                                           std::optional<int> version) override;
  Result<std::vector<DatasetVersion>> ListDatasetVersions() override;
  Result<DatasetBlob> OpenDatasetBlob(std::string_view name, int version) override;
  Result<std::vector<int>> DeleteDataset(std::string_view name, std::optional<int> version,
                                         std::string_view actor) override;

  Result<Experiment> CreateExperiment(std::string_view name, std::string_view actor) override;
  Result<Experiment> GetExperiment(std::string_view name) override;
  Result<std::vector<Experiment>> ListExperiments() override;

  Result<Run> CreateRun(Run spec) override;
  Result<Run> GetRun(std::string_view id) override;
  Result<std::vector<Run>> ListRuns(std::optional<std::string> experiment) override;
  Status MarkRunRunning(std::string_view id) override;
  Status CompleteRun(std::string_view id, const std::map<std::string, double>& metrics,
                     std::string_view report, std::string_view model_bytes) override;
  Status EndRun(std::string_view id, RunStatus status, std::string_view error) override;
  Result<int> FailInterruptedRuns() override;
  Result<std::string> ReadRunModel(std::string_view run_id) override;

  Result<ModelVersion> RegisterModelVersion(std::string_view model, std::string_view run_id,
                                            std::string_view signature,
                                            std::string_view formula,
                                            std::string_view description,
                                            std::string_view actor) override;
  Result<ModelVersion> GetModelVersion(std::string_view model, int version) override;
  Result<std::vector<ModelVersion>> ListModelVersions(std::string_view model) override;
  Result<std::vector<std::string>> ListModels() override;

  Result<std::optional<int>> ResolveAlias(std::string_view model, std::string_view alias) override;
  Result<AliasChange> MoveAlias(const MoveAliasRequest& request) override;
  Result<std::vector<AliasChange>> History(std::string_view model,
                                           std::optional<std::string> alias) override;

  Result<Token> CreateToken(std::string_view name, std::string_view role,
                            std::string_view selector, std::string_view secret_sha256,
                            std::string_view actor) override;
  Result<std::vector<Token>> ListTokens() override;
  Result<Token> RevokeToken(std::string_view name, std::string_view actor) override;
  Result<std::optional<TokenCredential>> FindValidToken(std::string_view selector) override;
  Result<int64_t> CountTokens() override;

 private:
  // REQUIRES: mu_ is held (for all helpers below).
  Result<DatasetVersion> LoadDataset(std::string_view name, std::optional<int> version);
  Result<Run> LoadRun(int64_t seq);
  Status CheckExperimentExists(std::string_view name);
  // The status of run `id`; NOT_FOUND when there is no such run.
  Result<RunStatus> LoadRunStatus(int64_t seq, std::string_view id);
  Result<ModelVersion> LoadModelVersion(std::string_view model, int version);
  Status CheckModelExists(std::string_view model);
  Result<std::optional<Token>> LoadToken(std::string_view name);

  std::mutex mu_;
  Database db_;                             // guarded by mu_
  const std::unique_ptr<BlobStore> blobs_;  // thread-safe itself
};

// "r17" -> 17; nullopt for anything that is not a run id.
std::optional<int64_t> ParseRunId(std::string_view id);
std::string RunIdFromSeq(int64_t seq);
std::optional<RunStatus> ParseRunStatus(std::string_view name);

}  // namespace mlprod::registry
