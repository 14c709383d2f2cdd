// DatasetCache: frames read from the stored column files, kept least-recently-used within a
// memory budget.
#include "server/dataset_cache.h"

#include <stdlib.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "server/dataset_ingest.h"

namespace mlprod::server {
namespace {

namespace fs = std::filesystem;

class DatasetCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/mlprod-cache-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    auto registry = registry::Registry::Open(dir_);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::move(registry).value();
  }
  void TearDown() override {
    registry_.reset();
    fs::remove_all(dir_);
  }

  // A version of `name` with `rows` rows of two numeric columns (about 16 bytes a row).
  registry::DatasetVersion Add(const std::string& name, int rows) {
    std::string text = "x,y\n";
    for (int r = 0; r < rows; ++r) text += std::to_string(r) + "," + std::to_string(2 * r) + "\n";
    auto ingest = DatasetIngest::Start(registry_.get(), ml::CsvOptions());
    EXPECT_TRUE(ingest.ok());
    EXPECT_TRUE((*ingest)->Add(text).ok());
    registry::NewDatasetVersion spec;
    spec.name = name;
    spec.parse_options = EncodeCsvOptions(ml::CsvOptions());
    bool existed = false;
    auto version = (*ingest)->Finish(spec, &existed);
    EXPECT_TRUE(version.ok()) << version.status().ToString();
    return *version;
  }

  std::string dir_;
  std::unique_ptr<registry::Registry> registry_;
};

TEST_F(DatasetCacheTest, ReadsTheStoredColumns) {
  const registry::DatasetVersion v = Add("a", 1000);
  DatasetCache cache(registry_.get(), size_t{1} << 30);
  auto frame = cache.Get(v);
  ASSERT_TRUE(frame.ok()) << frame.status().ToString();
  EXPECT_EQ((*frame)->rows, 1000u);
  EXPECT_EQ((*frame)->columns[1].values[999], 1998);
  EXPECT_EQ(cache.Get(v)->get(), frame->get());  // a hit: the same frame
  EXPECT_EQ(cache.held_bytes(), FrameBytes(**frame));
}

TEST_F(DatasetCacheTest, KeepsTheMostRecentlyUsedWithinTheBudget) {
  const registry::DatasetVersion a = Add("a", 10000), b = Add("b", 10000), c = Add("c", 10000);
  // Room for two frames of 10 000 rows, not three.
  DatasetCache cache(registry_.get(), 2 * 10000 * 16 + 4096);
  auto fa = cache.Get(a), fb = cache.Get(b);
  ASSERT_TRUE(fa.ok() && fb.ok());
  EXPECT_EQ(cache.Get(a)->get(), fa->get());  // a is now the most recent
  auto fc = cache.Get(c);                      // b goes
  ASSERT_TRUE(fc.ok());
  EXPECT_LE(cache.held_bytes(), 2 * 10000 * 16 + 4096);
  EXPECT_EQ(cache.Get(a)->get(), fa->get());
  EXPECT_EQ(cache.Get(c)->get(), fc->get());
  auto fb2 = cache.Get(b);  // read again: a new frame, equal to the first
  EXPECT_NE(fb2->get(), fb->get());
  EXPECT_EQ((*fb2)->columns[0].values, (*fb)->columns[0].values);
}

TEST_F(DatasetCacheTest, AFrameLargerThanTheBudgetIsStillServed) {
  const registry::DatasetVersion a = Add("a", 5000);
  DatasetCache cache(registry_.get(), 1024);
  auto fa = cache.Get(a);
  ASSERT_TRUE(fa.ok());
  EXPECT_EQ((*fa)->rows, 5000u);
  cache.Forget("a", a.version);
  EXPECT_EQ(cache.held_bytes(), 0u);
}

}  // namespace
}  // namespace mlprod::server
