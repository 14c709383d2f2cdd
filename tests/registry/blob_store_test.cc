// LocalBlobStore: durable put/get/delete under a folder, keys checked before they become paths.
#include "registry/blob_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/registry/registry_fixture.h"

namespace mlprod::registry {
namespace {

namespace fs = std::filesystem;

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    root_ = (fs::path(dir_.path()) / "blobs").string();
    Result<std::unique_ptr<BlobStore>> opened = OpenLocalBlobStore(root_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  std::vector<std::string> Files() const {
    std::vector<std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(root_)) {
      if (entry.is_regular_file()) files.push_back(fs::relative(entry.path(), root_).string());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  testing::TempDir dir_;
  std::string root_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(BlobStoreTest, PutThenGetReturnsTheBytesAndLeavesNoTemporaryFile) {
  std::string binary("a\0b\xff\n", 5);
  ASSERT_TRUE(store_->Put("datasets/1.csv", binary).ok());
  ASSERT_TRUE(store_->Put("models/r1.model", std::string(1 << 20, 'm')).ok());
  Result<std::string> got = store_->Get("datasets/1.csv");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, binary);
  EXPECT_EQ(store_->Get("models/r1.model")->size(), size_t{1} << 20);
  EXPECT_EQ(Files(), (std::vector<std::string>{"datasets/1.csv", "models/r1.model"}));
}

TEST_F(BlobStoreTest, PutOverwritesAndEmptyBlobsRoundTrip) {
  ASSERT_TRUE(store_->Put("k", "old").ok());
  ASSERT_TRUE(store_->Put("k", "").ok());
  Result<std::string> got = store_->Get("k");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "");
  EXPECT_EQ(Files(), std::vector<std::string>{"k"});
}

TEST_F(BlobStoreTest, MissingBlobIsNotFoundAndDeleteIsIdempotent) {
  EXPECT_EQ(store_->Get("datasets/9.csv").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->Put("datasets/9.csv", "x").ok());
  EXPECT_TRUE(store_->Delete("datasets/9.csv").ok());
  EXPECT_EQ(store_->Get("datasets/9.csv").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete("datasets/9.csv").ok());
  EXPECT_TRUE(store_->Delete("never/there").ok());
}

TEST_F(BlobStoreTest, KeysThatCouldEscapeTheFolderAreRejected) {
  for (const char* key :
       {"", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b", "a/", "a b", "a\\b", ".."}) {
    EXPECT_EQ(store_->Put(key, "x").code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store_->Get(key).status().code(), StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(store_->Delete(key).code(), StatusCode::kInvalidArgument) << key;
  }
  EXPECT_TRUE(Files().empty());
  EXPECT_FALSE(fs::exists(fs::path(dir_.path()) / "x"));
}

TEST_F(BlobStoreTest, OpenFailsWhenTheRootIsAFile) {
  ASSERT_TRUE(store_->Put("k", "x").ok());
  Result<std::unique_ptr<BlobStore>> opened = OpenLocalBlobStore(root_ + "/k");
  EXPECT_EQ(opened.status().code(), StatusCode::kInternal);
}

TEST(RegistryBlobCleanupTest, OpenRemovesLeftoverTemporaryBlobs) {
  testing::TempDir dir;
  // A registry that exists: blobs next to an empty database would be refused as a lost one.
  ASSERT_TRUE(Registry::Open(dir.path()).ok());
  const fs::path blobs = fs::path(dir.path()) / "blobs" / "datasets";
  fs::create_directories(blobs);
  {
    std::FILE* f = std::fopen((blobs / "3.csv.tmp.abc").c_str(), "w");
    std::fclose(f);
  }
  {
    std::FILE* f = std::fopen((blobs / "2.csv").c_str(), "w");
    std::fclose(f);
  }
  ASSERT_TRUE(Registry::Open(dir.path()).ok());
  EXPECT_FALSE(fs::exists(blobs / "3.csv.tmp.abc"));
  EXPECT_TRUE(fs::exists(blobs / "2.csv"));
}

}  // namespace
}  // namespace mlprod::registry
