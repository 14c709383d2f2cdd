// Registry: deleting dataset versions (tombstones, lineage protection, bytes removed).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "registry/registry.h"
#include "tests/registry/registry_fixture.h"

namespace mlprod::registry {
namespace {

namespace fs = std::filesystem;

using testing::RegistryTest;

int BlobFiles(const std::string& data_dir) {
  int n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(fs::path(data_dir) / "blobs")) {
    if (entry.is_regular_file()) ++n;
  }
  return n;
}

TEST_F(RegistryTest, DeletedVersionIsGoneAndItsNumberIsNeverReused) {
  AddDataset("sales", "a\n1\n");
  AddDataset("sales", "a\n2\n");
  ASSERT_EQ(BlobFiles(dir_.path()), 2);

  Result<std::vector<int>> deleted = registry_->DeleteDataset("sales", 2, "admin");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, std::vector<int>{2});
  EXPECT_EQ(BlobFiles(dir_.path()), 1);
  EXPECT_EQ(registry_->GetDatasetVersion("sales", 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(StoredBytes("sales", 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetDatasetVersion("sales", std::nullopt)->version, 1);
  ASSERT_EQ(registry_->ListDatasetVersions()->size(), 1u);

  // The same bytes again make a new version, numbered after the deleted one.
  EXPECT_EQ(AddDataset("sales", "a\n2\n").version, 3);
  Reopen();
  EXPECT_EQ(registry_->GetDatasetVersion("sales", 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetDatasetVersion("sales", std::nullopt)->version, 3);
}

TEST_F(RegistryTest, DeleteWithoutVersionDeletesEveryVersion) {
  AddDataset("sales", "a\n1\n");
  AddDataset("sales", "a\n2\n");
  AddDataset("other", "b\n1\n");
  Result<std::vector<int>> deleted = registry_->DeleteDataset("sales", std::nullopt, "admin");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, (std::vector<int>{1, 2}));
  EXPECT_EQ(registry_->GetDatasetVersion("sales", std::nullopt).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(registry_->ListDatasetVersions()->size(), 1u);
  EXPECT_EQ(BlobFiles(dir_.path()), 1);
}

TEST_F(RegistryTest, DeletingAVersionInAModelsLineageFailsAndDeletesNothing) {
  DatasetVersion d1 = AddDataset("sales", "a\n1\n");
  AddDataset("sales", "a\n2\n");
  registry::Run run = AddSucceededRun(d1);
  ASSERT_TRUE(registry_->RegisterModelVersion("m", run.id, "[]", "", "", "carol").ok());

  Status s = registry_->DeleteDataset("sales", std::nullopt, "admin").status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("model m version 1"), std::string::npos) << s.message();
  EXPECT_EQ(registry_->ListDatasetVersions()->size(), 2u);
  EXPECT_EQ(BlobFiles(dir_.path()), 3);  // two datasets and one model
  // The version nobody uses can go.
  EXPECT_TRUE(registry_->DeleteDataset("sales", 2, "admin").ok());
}

TEST_F(RegistryTest, DeletingAVersionAQueuedRunReadsFails) {
  DatasetVersion d = AddDataset("sales", "a\n1\n");
  registry::Run run = AddRun(d);
  Status s = registry_->DeleteDataset("sales", 1, "admin").status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find(run.id), std::string::npos) << s.message();
  ASSERT_TRUE(registry_->EndRun(run.id, RunStatus::kCancelled, "stop").ok());
  EXPECT_TRUE(registry_->DeleteDataset("sales", 1, "admin").ok());
}

TEST_F(RegistryTest, DeleteOfUnknownOrInvalidNameChangesNothing) {
  AddDataset("sales", "a\n1\n");
  EXPECT_EQ(registry_->DeleteDataset("sales", 9, "admin").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->DeleteDataset("nope", std::nullopt, "admin").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(registry_->DeleteDataset("../sales", 1, "admin").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->ListDatasetVersions()->size(), 1u);
  EXPECT_EQ(BlobFiles(dir_.path()), 1);
}

}  // namespace
}  // namespace mlprod::registry
