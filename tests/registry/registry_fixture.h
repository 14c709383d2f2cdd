// Shared set-up for the registry tests: a fresh temporary data dir per test (mkdtemp), removed
// afterwards, and helpers that put the registry into common states.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "registry/codec.h"
#include "registry/registry.h"

namespace mlprod::registry::testing {

class TempDir {
 public:
  // A new folder below `root` (the system's temporary folder by default).
  explicit TempDir(const std::string& root = std::filesystem::temp_directory_path().string()) {
    std::string pattern = (std::filesystem::path(root) / "mlprod-registry-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
    Reopen();
  }

  // Closes the registry (if open) and opens it again on the same folder.
  void Reopen() {
    registry_.reset();
    Result<std::unique_ptr<Registry>> opened = Registry::Open(dir_.path());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    registry_ = std::move(opened).value();
  }

  // CreateDatasetVersion with `bytes` as both the upload and its stored form.
  Result<DatasetVersion> CreateDataset(NewDatasetVersion spec, std::string_view bytes,
                                       bool* existed) {
    MLPROD_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, registry_->blobs().NewWriter());
    MLPROD_RETURN_IF_ERROR(writer->Append(bytes));
    MLPROD_ASSIGN_OR_RETURN(spec.sha256, Sha256Hex(bytes));
    spec.size_bytes = static_cast<int64_t>(bytes.size());
    return registry_->CreateDatasetVersion(spec, writer.get(), existed);
  }

  // The stored bytes of a version, or the error.
  Result<std::string> StoredBytes(std::string_view name, int version) {
    MLPROD_ASSIGN_OR_RETURN(Registry::DatasetBlob blob, registry_->OpenDatasetBlob(name, version));
    std::string bytes(blob.reader->size(), '\0');
    MLPROD_RETURN_IF_ERROR(blob.reader->ReadAt(0, bytes.size(), bytes.data()));
    return bytes;
  }

  DatasetVersion AddDataset(const std::string& name, const std::string& bytes) {
    NewDatasetVersion spec;
    spec.name = name;
    spec.rows = 2;
    spec.columns = {{"x", "numeric", 0}, {"country", "categorical", 1}};
    spec.parse_options = R"({"delimiter":","})";
    spec.created_by = "alice";
    bool existed = true;
    Result<DatasetVersion> d = CreateDataset(spec, bytes, &existed);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_FALSE(existed);
    return d.ok() ? *d : DatasetVersion{};
  }

  registry::Run RunSpec(const DatasetVersion& d) {
    registry::Run spec;
    spec.experiment = "Default";
    spec.dataset_name = d.name;
    spec.dataset_version = d.version;
    spec.formula = "y ~ x";
    spec.kind = "ols";
    spec.params = {{"lambda", "0.5"}};
    spec.missing = "drop";
    spec.test_fraction = 0.2;
    spec.seed = 42;
    spec.created_by = "alice";
    return spec;
  }

  registry::Run AddRun(const DatasetVersion& d) {
    Result<registry::Run> run = registry_->CreateRun(RunSpec(d));
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : registry::Run{};
  }

  // A SUCCEEDED run on `d` with metric test_rmse = rmse.
  registry::Run AddSucceededRun(const DatasetVersion& d, double rmse = 1.5) {
    registry::Run run = AddRun(d);
    EXPECT_TRUE(registry_->MarkRunRunning(run.id).ok());
    Status s = registry_->CompleteRun(run.id, {{"test_rmse", rmse}}, R"({"report":1})",
                                      "model-bytes-" + run.id);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return run;
  }

  TempDir dir_;
  std::unique_ptr<Registry> registry_;
};

}  // namespace mlprod::registry::testing
