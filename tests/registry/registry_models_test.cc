// Registry: model versions, aliases and alias history.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "registry/registry.h"
#include "tests/registry/registry_fixture.h"

namespace mlprod::registry {
namespace {

using testing::RegistryTest;

class ModelTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    dataset_ = AddDataset("salary", "x,y\n1,2\n");
  }

  // Registers `count` versions of `model`, each from its own succeeded run.
  void RegisterVersions(const std::string& model, int count) {
    for (int i = 0; i < count; ++i) {
      registry::Run run = AddSucceededRun(dataset_);
      Result<ModelVersion> mv = registry_->RegisterModelVersion(model, run.id, "{}", "", "", "carol");
      ASSERT_TRUE(mv.ok()) << mv.status().ToString();
    }
  }

  Result<AliasChange> Move(const std::string& alias, int to, std::optional<int> expected,
                           const std::string& action = "promote", bool forced = false) {
    return registry_->MoveAlias(
        {"salary", alias, to, expected, action, "carol", "because " + alias, forced});
  }

  DatasetVersion dataset_;
};

TEST_F(ModelTest, TheFittedModelsFormulaWinsOverTheRuns) {
  registry::Run run = AddSucceededRun(dataset_);  // submitted as y ~ x
  Result<ModelVersion> v = registry_->RegisterModelVersion("salary", run.id, "{}", "y ~ 1", "", "x");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->formula, "y ~ 1");
  Result<ModelVersion> got = registry_->GetModelVersion("salary", 1);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->formula, "y ~ 1");
}

TEST_F(ModelTest, VersionsCountFromOneAndCopyLineage) {
  registry::Run first = AddSucceededRun(dataset_, 3.0);
  registry::Run second = AddSucceededRun(dataset_, 2.0);
  Result<ModelVersion> v1 =
      registry_->RegisterModelVersion("salary", first.id, R"({"x":"numeric"})", "", "base", "carol");
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  Result<ModelVersion> v2 = registry_->RegisterModelVersion("salary", second.id, "{}", "", "", "dan");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v2->version, 2);

  Result<ModelVersion> got = registry_->GetModelVersion("salary", 1);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->run_id, first.id);
  EXPECT_EQ(got->dataset_name, "salary");
  EXPECT_EQ(got->dataset_version, 1);
  EXPECT_EQ(got->dataset_sha256, dataset_.sha256);
  EXPECT_EQ(got->formula, "y ~ x");
  EXPECT_EQ(got->kind, "ols");
  EXPECT_EQ(got->params.at("lambda"), "0.5");
  EXPECT_EQ(got->metrics.at("test_rmse"), 3.0);
  EXPECT_EQ(got->signature, R"({"x":"numeric"})");
  EXPECT_EQ(got->description, "base");
  EXPECT_EQ(got->created_by, "carol");
  EXPECT_GT(got->created_at_ms, 0);
  EXPECT_TRUE(got->aliases.empty());

  // Numbering is per model.
  Result<ModelVersion> other = registry_->RegisterModelVersion("churn", first.id, "", "", "", "x");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->version, 1);
  EXPECT_EQ(*registry_->ListModels(), (std::vector<std::string>{"churn", "salary"}));
  Result<std::vector<ModelVersion>> versions = registry_->ListModelVersions("salary");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[1].run_id, second.id);
}

TEST_F(ModelTest, RegisteringAnUnfinishedRunFails) {
  registry::Run queued = AddRun(dataset_);
  EXPECT_EQ(registry_->RegisterModelVersion("salary", queued.id, "", "", "", "x").status().code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(registry_->EndRun(queued.id, RunStatus::kFailed, "boom").ok());
  EXPECT_EQ(registry_->RegisterModelVersion("salary", queued.id, "", "", "", "x").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->RegisterModelVersion("salary", "r77", "", "", "", "x").status().code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(registry_->ListModels()->empty());
}

TEST_F(ModelTest, UnknownModelsVersionsAndAliasesAreNotFound) {
  RegisterVersions("salary", 1);
  EXPECT_EQ(registry_->GetModelVersion("salary", 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->GetModelVersion("nope", 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->ListModelVersions("nope").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->ResolveAlias("nope", "production").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->History("nope", std::nullopt).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->MoveAlias({"nope", "production", 1, std::nullopt, "promote", "c", "", false})
                .status()
                .code(),
            StatusCode::kNotFound);
  // A known model with an unset alias resolves to nothing rather than failing.
  Result<std::optional<int>> unset = registry_->ResolveAlias("salary", "production");
  ASSERT_TRUE(unset.ok());
  EXPECT_FALSE(unset->has_value());
}

TEST_F(ModelTest, MoveAliasToMissingVersionIsNotFound) {
  RegisterVersions("salary", 2);
  Result<AliasChange> moved = Move("production", 7, std::nullopt);
  ASSERT_EQ(moved.status().code(), StatusCode::kNotFound);
  EXPECT_NE(moved.status().message().find("no version 7"), std::string::npos);
  EXPECT_TRUE(registry_->History("salary", std::nullopt)->empty());
}

TEST_F(ModelTest, MoveAliasPointsAliasAndRecordsHistory) {
  RegisterVersions("salary", 2);
  Result<AliasChange> first = Move("production", 1, std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->from_version.has_value());
  EXPECT_EQ(first->to_version, 1);
  EXPECT_EQ(first->action, "promote");
  EXPECT_EQ(first->actor, "carol");
  EXPECT_GT(first->time_ms, 0);
  EXPECT_EQ(registry_->ResolveAlias("salary", "production")->value_or(0), 1);

  Result<AliasChange> second = Move("production", 2, 1);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->from_version, 1);
  EXPECT_GT(second->seq, first->seq);
  EXPECT_EQ(registry_->ResolveAlias("salary", "production")->value_or(0), 2);
}

TEST_F(ModelTest, MoveAliasWithStaleExpectationIsAbortedAndChangesNothing) {
  RegisterVersions("salary", 3);
  ASSERT_TRUE(Move("production", 1, std::nullopt).ok());
  // Another caller saw the alias unset, or at a version it no longer has.
  EXPECT_EQ(Move("production", 2, std::nullopt).status().code(), StatusCode::kAborted);
  EXPECT_EQ(Move("production", 2, 3).status().code(), StatusCode::kAborted);
  // A caller that expects a value for an unset alias loses too.
  EXPECT_EQ(Move("staging", 2, 1).status().code(), StatusCode::kAborted);
  EXPECT_EQ(registry_->ResolveAlias("salary", "production")->value_or(0), 1);
  EXPECT_FALSE(registry_->ResolveAlias("salary", "staging")->has_value());
  EXPECT_EQ(registry_->History("salary", std::nullopt)->size(), 1u);
}

TEST_F(ModelTest, ConcurrentMovesFromTheSameStateLetExactlyOneWin) {
  RegisterVersions("salary", 2);
  ASSERT_TRUE(Move("production", 1, std::nullopt).ok());
  constexpr int kThreads = 8;
  std::vector<StatusCode> codes(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { codes[i] = Move("production", 2, 1).status().code(); });
  }
  for (std::thread& t : threads) t.join();
  int ok = 0, aborted = 0;
  for (StatusCode c : codes) {
    ok += c == StatusCode::kOk;
    aborted += c == StatusCode::kAborted;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(aborted, kThreads - 1);
  EXPECT_EQ(registry_->History("salary", std::nullopt)->size(), 2u);
}

TEST_F(ModelTest, HistoryIsOldestFirstAndFiltersByAlias) {
  RegisterVersions("salary", 3);
  ASSERT_TRUE(Move("production", 1, std::nullopt).ok());
  ASSERT_TRUE(Move("staging", 2, std::nullopt).ok());
  ASSERT_TRUE(Move("production", 3, 1, "promote", /*forced=*/true).ok());
  ASSERT_TRUE(Move("production", 1, 3, "rollback").ok());

  Result<std::vector<AliasChange>> all = registry_->History("salary", std::nullopt);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  std::vector<std::string> order;
  for (const AliasChange& c : *all) order.push_back(c.alias + ":" + std::to_string(c.to_version));
  EXPECT_EQ(order, (std::vector<std::string>{"production:1", "staging:2", "production:3",
                                             "production:1"}));
  EXPECT_TRUE((*all)[2].forced);
  EXPECT_FALSE((*all)[1].forced);
  EXPECT_EQ((*all)[3].action, "rollback");
  EXPECT_EQ((*all)[3].from_version, 3);
  EXPECT_EQ((*all)[3].reason, "because production");

  Result<std::vector<AliasChange>> production = registry_->History("salary", "production");
  ASSERT_TRUE(production.ok());
  ASSERT_EQ(production->size(), 3u);
  EXPECT_LT((*production)[0].seq, (*production)[1].seq);
  EXPECT_LT((*production)[1].seq, (*production)[2].seq);
  EXPECT_TRUE(registry_->History("salary", "canary")->empty());
}

TEST_F(ModelTest, UnknownAliasActionIsInvalid) {
  RegisterVersions("salary", 1);
  EXPECT_EQ(Move("production", 1, std::nullopt, "demote").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry_->History("salary", std::nullopt)->empty());
}

TEST_F(ModelTest, VersionsReportTheAliasesPointingAtThem) {
  RegisterVersions("salary", 3);
  ASSERT_TRUE(Move("staging", 2, std::nullopt).ok());
  ASSERT_TRUE(Move("production", 2, std::nullopt).ok());
  ASSERT_TRUE(Move("canary", 3, std::nullopt).ok());
  EXPECT_EQ(registry_->GetModelVersion("salary", 2)->aliases,
            (std::vector<std::string>{"production", "staging"}));
  ASSERT_TRUE(Move("staging", 3, 2).ok());
  Result<std::vector<ModelVersion>> versions = registry_->ListModelVersions("salary");
  ASSERT_TRUE(versions.ok());
  EXPECT_TRUE((*versions)[0].aliases.empty());
  EXPECT_EQ((*versions)[1].aliases, std::vector<std::string>{"production"});
  EXPECT_EQ((*versions)[2].aliases, (std::vector<std::string>{"canary", "staging"}));
}

TEST_F(ModelTest, ConcurrentRegistrationsGetDistinctConsecutiveVersions) {
  constexpr int kThreads = 4, kPerThread = 5;
  std::vector<registry::Run> runs;
  for (int i = 0; i < kThreads * kPerThread; ++i) runs.push_back(AddSucceededRun(dataset_));
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const registry::Run& run = runs[t * kPerThread + i];
        failures[t] += !registry_->RegisterModelVersion("salary", run.id, "", "", "", "x").ok();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int f : failures) EXPECT_EQ(f, 0);
  Result<std::vector<ModelVersion>> versions = registry_->ListModelVersions("salary");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < versions->size(); ++i) EXPECT_EQ((*versions)[i].version, int(i) + 1);
}

}  // namespace
}  // namespace mlprod::registry
