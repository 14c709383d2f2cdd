// Registry: opening, schema, datasets, experiments and name validation.
#include "registry/registry.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "tests/registry/registry_fixture.h"

namespace mlprod::registry {
namespace {

namespace fs = std::filesystem;
using testing::RegistryTest;

// Runs one query on the registry's database file with a separate connection; returns the first
// column of the first row as text ("" when there is none).
std::string QueryText(const std::string& dir, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string value;
  if (sqlite3_open((fs::path(dir) / "mlprod.db").c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return value;
}

int CountFiles(const std::string& dir) {
  int n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) n += entry.is_regular_file();
  return n;
}

TEST_F(RegistryTest, OpenCreatesDatabaseBlobFolderAndSchemaVersion) {
  EXPECT_TRUE(fs::exists(fs::path(dir_.path()) / "mlprod.db"));
  EXPECT_TRUE(fs::is_directory(fs::path(dir_.path()) / "blobs"));
  EXPECT_EQ(QueryText(dir_.path(), "SELECT version FROM schema_version"), "3");
  EXPECT_EQ(QueryText(dir_.path(), "PRAGMA journal_mode"), "wal");
}

TEST_F(RegistryTest, OpenCreatesMissingParentFolders) {
  const std::string nested = (fs::path(dir_.path()) / "a" / "b").string();
  Result<std::unique_ptr<Registry>> opened = Registry::Open(nested);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_TRUE(fs::exists(fs::path(nested) / "mlprod.db"));
}

TEST_F(RegistryTest, ReopenDoesNotRerunMigrations) {
  Reopen();
  Reopen();
  EXPECT_EQ(QueryText(dir_.path(), "SELECT version FROM schema_version"), "3");
  EXPECT_EQ(QueryText(dir_.path(), "SELECT COUNT(*) FROM experiments WHERE name = 'Default'"), "1");
}

TEST_F(RegistryTest, NewerSchemaIsRefused) {
  registry_.reset();
  QueryText(dir_.path(), "UPDATE schema_version SET version = 99");
  ASSERT_EQ(QueryText(dir_.path(), "SELECT version FROM schema_version"), "99");
  Result<std::unique_ptr<Registry>> opened = Registry::Open(dir_.path());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(opened.status().message().find("99"), std::string::npos);
}

TEST_F(RegistryTest, OpenOnAFileInsteadOfAFolderIsInternal) {
  const std::string file = (fs::path(dir_.path()) / "plain-file").string();
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  Result<std::unique_ptr<Registry>> opened = Registry::Open(file);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kInternal);
}

TEST_F(RegistryTest, ReopenKeepsEverything) {
  DatasetVersion d = AddDataset("salary", "x,y\n1,2\n");
  ASSERT_TRUE(registry_->CreateExperiment("tuning", "bob").ok());
  registry::Run run = AddSucceededRun(d, 2.5);
  registry::Run queued = AddRun(d);
  ASSERT_TRUE(registry_->RegisterModelVersion("salary", run.id, "{}", "", "first", "carol").ok());
  ASSERT_TRUE(registry_
                  ->MoveAlias({"salary", "production", 1, std::nullopt, "promote", "carol",
                               "ship it", false})
                  .ok());

  Reopen();

  Result<DatasetVersion> got = registry_->GetDatasetVersion("salary", 1);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->sha256, d.sha256);
  EXPECT_EQ(got->columns.size(), 2u);
  EXPECT_EQ(got->columns[1].name, "country");
  EXPECT_EQ(got->columns[1].missing, 1);
  EXPECT_EQ(got->parse_options, d.parse_options);
  EXPECT_EQ(*StoredBytes("salary", 1), "x,y\n1,2\n");
  EXPECT_TRUE(registry_->GetExperiment("tuning").ok());
  Result<registry::Run> got_run = registry_->GetRun(run.id);
  ASSERT_TRUE(got_run.ok());
  EXPECT_EQ(got_run->status, RunStatus::kSucceeded);
  EXPECT_EQ(got_run->metrics.at("test_rmse"), 2.5);
  EXPECT_EQ(got_run->params.at("lambda"), "0.5");
  EXPECT_EQ(got_run->seed, 42u);
  EXPECT_EQ(*registry_->ReadRunModel(run.id), "model-bytes-" + run.id);
  EXPECT_EQ(registry_->GetRun(queued.id)->status, RunStatus::kQueued);
  EXPECT_EQ(registry_->GetModelVersion("salary", 1)->description, "first");
  EXPECT_EQ(registry_->ResolveAlias("salary", "production")->value_or(0), 1);
  EXPECT_EQ(registry_->History("salary", std::nullopt)->size(), 1u);
  // Numbering continues after a restart.
  EXPECT_EQ(AddRun(d).id, "r3");
  EXPECT_EQ(AddDataset("salary", "x,y\n3,4\n").version, 2);
}

TEST_F(RegistryTest, DatasetVersionsCountPerName) {
  EXPECT_EQ(AddDataset("a", "1").version, 1);
  EXPECT_EQ(AddDataset("a", "2").version, 2);
  EXPECT_EQ(AddDataset("b", "1").version, 1);
  EXPECT_EQ(AddDataset("a", "3").version, 3);
  Result<std::vector<DatasetVersion>> all = registry_->ListDatasetVersions();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].name + "@" + std::to_string((*all)[0].version), "a@1");
  EXPECT_EQ((*all)[2].name + "@" + std::to_string((*all)[2].version), "a@3");
  EXPECT_EQ((*all)[3].name + "@" + std::to_string((*all)[3].version), "b@1");
  EXPECT_EQ(registry_->GetDatasetVersion("a", std::nullopt)->version, 3);
  EXPECT_EQ(*StoredBytes("a", 2), "2");
}

TEST_F(RegistryTest, IdenticalBytesReturnTheExistingVersion) {
  DatasetVersion first = AddDataset("salary", "x,y\n1,2\n");
  AddDataset("salary", "x,y\n5,6\n");
  NewDatasetVersion spec{"salary", 1, {}, "", "bob", "", 0};
  bool existed = false;
  Result<DatasetVersion> again = CreateDataset(spec, "x,y\n1,2\n", &existed);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(existed);
  EXPECT_EQ(again->version, 1);
  EXPECT_EQ(again->created_by, "alice");  // the stored version, not the new request
  EXPECT_EQ(registry_->ListDatasetVersions()->size(), 2u);
  EXPECT_EQ(CountFiles(fs::path(dir_.path()) / "blobs"), 2);
  // Same bytes under another name are a new dataset.
  EXPECT_EQ(AddDataset("other", "x,y\n1,2\n").version, 1);
}

TEST_F(RegistryTest, DatasetRecordsSha256AndSize) {
  DatasetVersion d = AddDataset("abc", "abc");
  EXPECT_EQ(d.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(d.size_bytes, 3);
  EXPECT_GT(d.created_at_ms, 0);
}

TEST_F(RegistryTest, EmptyUploadIsStoredAsIs) {
  DatasetVersion d = AddDataset("empty", "");
  EXPECT_EQ(d.size_bytes, 0);
  EXPECT_EQ(*StoredBytes("empty", 1), "");
}

TEST_F(RegistryTest, FailedDatasetInsertLeavesNoBlobBehind) {
  AddDataset("salary", "1");
  // Make the next insert fail inside SQLite, after the blob was written.
  QueryText(dir_.path(),
            "CREATE TRIGGER reject BEFORE INSERT ON datasets BEGIN SELECT RAISE(ABORT, 'no'); END");
  NewDatasetVersion spec{"salary", 1, {}, "", "bob", "", 0};
  bool existed = true;
  Result<DatasetVersion> d = CreateDataset(spec, "2", &existed);
  EXPECT_EQ(d.status().code(), StatusCode::kInternal);
  EXPECT_FALSE(existed);
  EXPECT_EQ(CountFiles(fs::path(dir_.path()) / "blobs"), 1);
  EXPECT_EQ(registry_->ListDatasetVersions()->size(), 1u);
  // The registry stays usable once the cause is gone.
  QueryText(dir_.path(), "DROP TRIGGER reject");
  EXPECT_EQ(AddDataset("salary", "2").version, 2);
}

TEST_F(RegistryTest, FailedRunCompletionLeavesNoModelBlobBehind) {
  registry::Run run = AddRun(AddDataset("salary", "1"));
  QueryText(dir_.path(),
            "CREATE TRIGGER reject BEFORE UPDATE ON runs BEGIN SELECT RAISE(ABORT, 'no'); END");
  EXPECT_EQ(registry_->CompleteRun(run.id, {}, "", "model").code(), StatusCode::kInternal);
  EXPECT_EQ(registry_->GetRun(run.id)->status, RunStatus::kQueued);
  EXPECT_EQ(CountFiles(fs::path(dir_.path()) / "blobs"), 1);  // the dataset only
}

TEST(ValidateNameTest, AcceptsIdentifiersUpTo128Characters) {
  EXPECT_TRUE(ValidateName("name", "a").ok());
  EXPECT_TRUE(ValidateName("name", "Salary_2024.v1-final").ok());
  EXPECT_TRUE(ValidateName("name", "0abc").ok());
  EXPECT_TRUE(ValidateName("name", std::string(128, 'x')).ok());
  for (const std::string& bad :
       {std::string(), std::string(129, 'x'), std::string("_a"), std::string(".a"),
        std::string("-a"), std::string("a b"), std::string("../etc"), std::string("a/b"),
        std::string("a;DROP TABLE runs"), std::string("caf\xc3\xa9"), std::string("a\0b", 3),
        std::string("a'b")}) {
    Status s = ValidateName("dataset name", bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("dataset name"), std::string::npos);
  }
}

TEST_F(RegistryTest, InvalidNamesAreRejectedAndNothingIsWritten) {
  const std::string before = QueryText(dir_.path(), "SELECT COUNT(*) FROM experiments");
  NewDatasetVersion spec{"../evil", 1, {}, "", "eve", "", 0};
  bool existed = true;
  EXPECT_EQ(CreateDataset(spec, "x\n1\n", &existed).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(existed);
  EXPECT_EQ(registry_->CreateExperiment("bad name", "eve").status().code(),
            StatusCode::kInvalidArgument);
  DatasetVersion d = AddDataset("ok", "1");
  registry::Run run = AddSucceededRun(d);
  EXPECT_EQ(registry_->RegisterModelVersion("x'; DROP TABLE runs; --", run.id, "", "", "", "eve")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(registry_->RegisterModelVersion("m", run.id, "", "", "", "eve").ok());
  EXPECT_EQ(registry_->MoveAlias({"m", "prod/x", 1, std::nullopt, "promote", "eve", "", false})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  registry::Run spec_run = RunSpec(d);
  spec_run.experiment = "";
  EXPECT_EQ(registry_->CreateRun(spec_run).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->GetDatasetVersion("a b", 1).status().code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(registry_->ListDatasetVersions()->size(), 1u);
  EXPECT_EQ(QueryText(dir_.path(), "SELECT COUNT(*) FROM experiments"), before);
  EXPECT_EQ(*registry_->ListModels(), std::vector<std::string>{"m"});
  EXPECT_EQ(registry_->ListModelVersions("m")->size(), 1u);
  EXPECT_EQ(QueryText(dir_.path(), "SELECT COUNT(*) FROM alias_history"), "0");
  EXPECT_EQ(registry_->ListRuns(std::nullopt)->size(), 1u);
  EXPECT_EQ(CountFiles(fs::path(dir_.path()) / "blobs"), 2);  // the dataset and the model
}

TEST_F(RegistryTest, UnknownDatasetsAndExperimentsAreNotFound) {
  AddDataset("known", "1");
  EXPECT_EQ(registry_->GetDatasetVersion("missing", std::nullopt).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetDatasetVersion("known", 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(StoredBytes("known", 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetExperiment("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->ListRuns("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryTest, DefaultExperimentExistsAndNamesAreUnique) {
  Result<Experiment> def = registry_->GetExperiment("Default");
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_GT(def->created_at_ms, 0);
  Result<Experiment> created = registry_->CreateExperiment("tuning", "bob");
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->created_by, "bob");
  EXPECT_EQ(registry_->CreateExperiment("tuning", "eve").status().code(),
            StatusCode::kAlreadyExists);
  Result<std::vector<Experiment>> all = registry_->ListExperiments();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "Default");
  EXPECT_EQ((*all)[1].name, "tuning");
  EXPECT_EQ((*all)[1].created_by, "bob");
}

TEST_F(RegistryTest, FreeTextIsStoredVerbatim) {
  // Quotes, SQL and non-ASCII in free-text fields are data, not syntax.
  NewDatasetVersion spec{"text",
                         1,
                         {{"naïve'col", "categorical", 0}},
                         R"({"na":["NA","'; DROP TABLE datasets; --"]})",
                         "o'brien",
                         "",
                         0};
  bool existed = false;
  ASSERT_TRUE(CreateDataset(spec, "a", &existed).ok());
  Result<DatasetVersion> got = registry_->GetDatasetVersion("text", 1);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->columns[0].name, "naïve'col");
  EXPECT_EQ(got->parse_options, spec.parse_options);
  EXPECT_EQ(got->created_by, "o'brien");
}

}  // namespace
}  // namespace mlprod::registry
