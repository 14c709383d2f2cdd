// Damaged storage is refused with DATA_LOSS naming what is damaged, never a crash and never
// served: a database file overwritten, truncated or lost (at Open) and a model blob altered (at
// read time).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "registry/registry.h"
#include "tests/registry/registry_fixture.h"

namespace mlprod::registry {
namespace {

namespace fs = std::filesystem;
using testing::RegistryTest;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

class RegistryCorruptionTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    // Enough rows that the database has a good number of pages.
    DatasetVersion d = AddDataset("salary", "x,y\n1,2\n");
    for (int i = 0; i < 20; ++i) {
      registry::Run run = AddSucceededRun(d);
      ASSERT_TRUE(registry_
                      ->RegisterModelVersion("m", run.id, std::string(3000, 's'), "",
                                             "version " + std::to_string(i), "alice")
                      .ok());
    }
    registry_.reset();  // a clean close checkpoints the WAL into mlprod.db
    db_path_ = fs::path(dir_.path()) / "mlprod.db";
    ASSERT_FALSE(fs::exists(dir_.path() + "/mlprod.db-wal"));
    ASSERT_GT(fs::file_size(db_path_), 16 * 4096u);
  }

  // Open must refuse the damaged folder with DATA_LOSS naming the database file.
  void ExpectRefused(const std::string& what) {
    Result<std::unique_ptr<Registry>> opened = Registry::Open(dir_.path());
    ASSERT_FALSE(opened.ok()) << what << " was accepted";
    EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << opened.status().ToString();
    EXPECT_NE(opened.status().message().find(db_path_.string()), std::string::npos)
        << opened.status().ToString();
  }

  fs::path db_path_;
};

TEST_F(RegistryCorruptionTest, GarbageOverTheHeaderIsDataLoss) {
  std::string bytes = ReadFile(db_path_);
  for (size_t i = 0; i < 100; ++i) bytes[i] = static_cast<char>(i * 37 + 11);
  WriteFile(db_path_, bytes);
  ExpectRefused("a database with a garbage header");
}

TEST_F(RegistryCorruptionTest, TruncatedDatabaseIsDataLoss) {
  std::string bytes = ReadFile(db_path_);
  WriteFile(db_path_, bytes.substr(0, bytes.size() / 2));
  ExpectRefused("a database cut in half");
}

TEST_F(RegistryCorruptionTest, OverwrittenPagesAreDataLoss) {
  std::string bytes = ReadFile(db_path_);
  // Pages 2 to 4 (the first tables' roots) become noise; page 1 and the header stay intact.
  for (size_t i = 4096; i < 4 * 4096; ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
  WriteFile(db_path_, bytes);
  ExpectRefused("a database with overwritten pages");
}

TEST_F(RegistryCorruptionTest, EmptyDatabaseNextToStoredBlobsIsDataLoss) {
  WriteFile(db_path_, "");
  ExpectRefused("an emptied database");
  // Without blobs an empty file is a new registry (a crash before the first commit).
  fs::remove_all(fs::path(dir_.path()) / "blobs");
  Result<std::unique_ptr<Registry>> opened = Registry::Open(dir_.path());
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
}

TEST_F(RegistryCorruptionTest, DamagedModelBlobIsDataLossNamingTheRun) {
  Reopen();
  ASSERT_TRUE(registry_->ReadRunModel("r3").ok());
  const fs::path blob = fs::path(dir_.path()) / "blobs" / "models" / "r3.model";
  std::string bytes = ReadFile(blob);
  bytes[3] ^= 0x04;  // one bit of the model's own bytes
  WriteFile(blob, bytes);
  Result<std::string> got = registry_->ReadRunModel("r3");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(got.status().message().find("r3"), std::string::npos) << got.status().ToString();
  // The other runs' models are untouched.
  EXPECT_EQ(*registry_->ReadRunModel("r2"), "model-bytes-r2");
}

TEST_F(RegistryCorruptionTest, ModelBlobStoredBeforeChecksumsIsReadAsItIs) {
  Reopen();
  // What CompleteRun stored before model blobs carried a checksum: the bare bytes.
  ASSERT_TRUE(registry_->blobs().Put("models/r4.model", "legacy-model").ok());
  EXPECT_EQ(*registry_->ReadRunModel("r4"), "legacy-model");
}

}  // namespace
}  // namespace mlprod::registry
