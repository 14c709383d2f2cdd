// Registry: runs, their ids and their state machine.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "registry/registry.h"
#include "tests/registry/registry_fixture.h"

namespace mlprod::registry {
namespace {

using testing::RegistryTest;

TEST_F(RegistryTest, RunIdsAreAssignedInSubmissionOrder) {
  DatasetVersion d = AddDataset("salary", "1");
  ASSERT_TRUE(registry_->CreateExperiment("tuning", "bob").ok());
  EXPECT_EQ(AddRun(d).id, "r1");
  registry::Run spec = RunSpec(d);
  spec.experiment = "tuning";
  Result<registry::Run> second = registry_->CreateRun(spec);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->id, "r2");
  EXPECT_EQ(AddRun(d).id, "r3");

  Result<std::vector<registry::Run>> all = registry_->ListRuns(std::nullopt);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, "r3");  // newest first
  EXPECT_EQ((*all)[2].id, "r1");
  Result<std::vector<registry::Run>> tuning = registry_->ListRuns("tuning");
  ASSERT_TRUE(tuning.ok());
  ASSERT_EQ(tuning->size(), 1u);
  EXPECT_EQ((*tuning)[0].id, "r2");
}

TEST_F(RegistryTest, NewRunIsQueuedWithItsSpecStored) {
  DatasetVersion d = AddDataset("salary", "1");
  registry::Run spec = RunSpec(d);
  spec.status = RunStatus::kSucceeded;  // ignored: a new run is always QUEUED
  spec.seed = std::numeric_limits<uint64_t>::max();
  Result<registry::Run> created = registry_->CreateRun(spec);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->status, RunStatus::kQueued);
  EXPECT_GT(created->created_at_ms, 0);
  Result<registry::Run> got = registry_->GetRun(created->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, RunStatus::kQueued);
  EXPECT_EQ(got->experiment, "Default");
  EXPECT_EQ(got->dataset_name, "salary");
  EXPECT_EQ(got->dataset_version, 1);
  EXPECT_EQ(got->formula, "y ~ x");
  EXPECT_EQ(got->kind, "ols");
  EXPECT_EQ(got->params, spec.params);
  EXPECT_EQ(got->missing, "drop");
  EXPECT_DOUBLE_EQ(got->test_fraction, 0.2);
  EXPECT_EQ(got->seed, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(got->created_by, "alice");
  EXPECT_EQ(got->created_at_ms, created->created_at_ms);
  EXPECT_EQ(got->started_at_ms, 0);
  EXPECT_TRUE(got->metrics.empty());
}

TEST_F(RegistryTest, RunOnUnknownDatasetOrExperimentIsNotFound) {
  DatasetVersion d = AddDataset("salary", "1");
  registry::Run spec = RunSpec(d);
  spec.dataset_version = 2;
  EXPECT_EQ(registry_->CreateRun(spec).status().code(), StatusCode::kNotFound);
  spec = RunSpec(d);
  spec.experiment = "nope";
  EXPECT_EQ(registry_->CreateRun(spec).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(registry_->ListRuns(std::nullopt)->empty());
}

TEST_F(RegistryTest, UnknownRunsAreNotFound) {
  AddRun(AddDataset("salary", "1"));
  for (const char* id : {"r2", "r0", "r01", "x1", "", "r", "r-1", "r1x", "r99999999999999999999"}) {
    EXPECT_EQ(registry_->GetRun(id).status().code(), StatusCode::kNotFound) << id;
  }
  EXPECT_EQ(registry_->MarkRunRunning("r2").code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->CompleteRun("r2", {}, "", "m").code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->EndRun("r2", RunStatus::kFailed, "x").code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->ReadRunModel("r2").status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryTest, RunGoesQueuedRunningSucceeded) {
  registry::Run run = AddRun(AddDataset("salary", "1"));
  ASSERT_TRUE(registry_->MarkRunRunning(run.id).ok());
  Result<registry::Run> running = registry_->GetRun(run.id);
  EXPECT_EQ(running->status, RunStatus::kRunning);
  EXPECT_GT(running->started_at_ms, 0);
  EXPECT_EQ(registry_->MarkRunRunning(run.id).code(), StatusCode::kFailedPrecondition);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  ASSERT_TRUE(
      registry_->CompleteRun(run.id, {{"test_rmse", 0.25}, {"r2", nan}}, R"({"coef":[1]})", "M")
          .ok());
  Result<registry::Run> done = registry_->GetRun(run.id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, RunStatus::kSucceeded);
  EXPECT_EQ(done->metrics.at("test_rmse"), 0.25);
  EXPECT_TRUE(std::isnan(done->metrics.at("r2")));
  EXPECT_EQ(done->report, R"({"coef":[1]})");
  EXPECT_GE(done->finished_at_ms, done->started_at_ms);
  EXPECT_EQ(*registry_->ReadRunModel(run.id), "M");
}

TEST_F(RegistryTest, EndedRunCannotChangeState) {
  DatasetVersion d = AddDataset("salary", "1");
  registry::Run succeeded = AddSucceededRun(d);
  EXPECT_EQ(registry_->MarkRunRunning(succeeded.id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->CompleteRun(succeeded.id, {}, "", "other").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->EndRun(succeeded.id, RunStatus::kFailed, "late").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(*registry_->ReadRunModel(succeeded.id), "model-bytes-" + succeeded.id);

  registry::Run cancelled = AddRun(d);
  ASSERT_TRUE(registry_->EndRun(cancelled.id, RunStatus::kCancelled, "user asked").ok());
  Result<registry::Run> got = registry_->GetRun(cancelled.id);
  EXPECT_EQ(got->status, RunStatus::kCancelled);
  EXPECT_EQ(got->error, "user asked");
  EXPECT_GT(got->finished_at_ms, 0);
  EXPECT_EQ(registry_->MarkRunRunning(cancelled.id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->CompleteRun(cancelled.id, {}, "", "m").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->ReadRunModel(cancelled.id).status().code(), StatusCode::kNotFound);
}

TEST_F(RegistryTest, QueuedRunCanCompleteOrFailWithoutRunning) {
  DatasetVersion d = AddDataset("salary", "1");
  registry::Run a = AddRun(d);
  ASSERT_TRUE(registry_->CompleteRun(a.id, {}, "{}", "m").ok());
  EXPECT_EQ(registry_->GetRun(a.id)->status, RunStatus::kSucceeded);
  registry::Run b = AddRun(d);
  ASSERT_TRUE(registry_->MarkRunRunning(b.id).ok());
  ASSERT_TRUE(registry_->EndRun(b.id, RunStatus::kFailed, "singular matrix").ok());
  EXPECT_EQ(registry_->GetRun(b.id)->status, RunStatus::kFailed);
  EXPECT_EQ(registry_->GetRun(b.id)->error, "singular matrix");
}

TEST_F(RegistryTest, EndRunOnlyTakesFailedOrCancelled) {
  registry::Run run = AddRun(AddDataset("salary", "1"));
  EXPECT_EQ(registry_->EndRun(run.id, RunStatus::kSucceeded, "").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->EndRun(run.id, RunStatus::kRunning, "").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_->GetRun(run.id)->status, RunStatus::kQueued);
}

TEST_F(RegistryTest, FailInterruptedRunsFailsOnlyUnfinishedRuns) {
  DatasetVersion d = AddDataset("salary", "1");
  registry::Run queued = AddRun(d);
  registry::Run running = AddRun(d);
  ASSERT_TRUE(registry_->MarkRunRunning(running.id).ok());
  registry::Run succeeded = AddSucceededRun(d);
  registry::Run cancelled = AddRun(d);
  ASSERT_TRUE(registry_->EndRun(cancelled.id, RunStatus::kCancelled, "stop").ok());

  Reopen();  // as after a server stop
  Result<int> changed = registry_->FailInterruptedRuns();
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(*changed, 2);
  for (const registry::Run& r : {queued, running}) {
    Result<registry::Run> got = registry_->GetRun(r.id);
    EXPECT_EQ(got->status, RunStatus::kFailed) << r.id;
    EXPECT_EQ(got->error, "interrupted");
    EXPECT_GT(got->finished_at_ms, 0);
  }
  EXPECT_EQ(registry_->GetRun(succeeded.id)->status, RunStatus::kSucceeded);
  EXPECT_EQ(registry_->GetRun(cancelled.id)->error, "stop");
  EXPECT_EQ(*registry_->FailInterruptedRuns(), 0);
}

TEST(RunStatusNameTest, NamesEveryState) {
  EXPECT_EQ(RunStatusName(RunStatus::kQueued), "QUEUED");
  EXPECT_EQ(RunStatusName(RunStatus::kRunning), "RUNNING");
  EXPECT_EQ(RunStatusName(RunStatus::kSucceeded), "SUCCEEDED");
  EXPECT_EQ(RunStatusName(RunStatus::kFailed), "FAILED");
  EXPECT_EQ(RunStatusName(RunStatus::kCancelled), "CANCELLED");
}

}  // namespace
}  // namespace mlprod::registry
