// Storage faults (issue 10, item 6): every registry write, with its Nth write point failing for
// every N — each write, fsync, truncate of SQLite's files and each blob create, append, fsync,
// rename, folder fsync and unlink — as a transient or a persistent EIO or ENOSPC. After each
// attempt the process "crashes" and the data folder is reopened with the real VFS and blob store,
// both as a process crash leaves it and as a power loss does. The invariant:
//   - an operation that answered OK is there in full (rows and the bytes of its blobs);
//   - one that failed is either absent or there in full, never half-applied;
//   - a failure says RESOURCE_EXHAUSTED for a full disk and INTERNAL for an I/O error;
//   - the same registry takes writes again once the fault is gone, without reopening;
//   - PRAGMA integrity_check is ok.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ml/checksum.h"
#include "registry/codec.h"
#include "registry/registry.h"
#include "tests/registry/fault_injection.h"
#include "tests/registry/registry_fixture.h"

namespace mlprod::registry {
namespace {

namespace fs = std::filesystem;
using testing::FaultKind;
using testing::FaultState;
using testing::TempDir;

constexpr char kVfsName[] = "mlprod-faulty";
constexpr char kProbe[] = "probe-after-fault";

std::string CodeOf(const Status& s) { return std::string(StatusCodeName(s.code())); }

// The size and XXH64 of a blob's bytes, or its error code: a missing blob shows up as
// DATA_LOSS.
std::string ValueOrCode(const Result<std::string>& r) {
  if (!r.ok()) return "error=" + CodeOf(r.status());
  std::ostringstream text;
  text << "bytes=" << r->size() << ":" << std::hex << ml::Xxh64(*r);
  return text.str();
}

Result<std::string> DatasetBytes(Registry& r, const std::string& name, int version) {
  MLPROD_ASSIGN_OR_RETURN(Registry::DatasetBlob blob, r.OpenDatasetBlob(name, version));
  std::string bytes(blob.reader->size(), '\0');
  MLPROD_RETURN_IF_ERROR(blob.reader->ReadAt(0, bytes.size(), bytes.data()));
  return bytes;
}

// Everything a client can read from the registry, times left out, as lines of text.
std::vector<std::string> Observe(Registry& r) {
  std::vector<std::string> lines;
  auto add = [&lines](std::ostringstream& line) { lines.push_back(line.str()); };
  if (auto datasets = r.ListDatasetVersions(); datasets.ok()) {
    for (const DatasetVersion& d : *datasets) {
      std::ostringstream line;
      line << "dataset " << d.name << "@" << d.version << " rows=" << d.rows << " sha=" << d.sha256
           << " size=" << d.size_bytes << " by=" << d.created_by << " " << EncodeColumns(d.columns)
           << " " << ValueOrCode(DatasetBytes(r, d.name, d.version));
      add(line);
    }
  } else {
    lines.push_back("datasets error=" + CodeOf(datasets.status()));
  }
  if (auto experiments = r.ListExperiments(); experiments.ok()) {
    for (const Experiment& e : *experiments) lines.push_back("experiment " + e.name);
  } else {
    lines.push_back("experiments error=" + CodeOf(experiments.status()));
  }
  if (auto runs = r.ListRuns(std::nullopt); runs.ok()) {
    for (const Run& run : *runs) {
      std::ostringstream line;
      line << "run " << run.id << " " << run.dataset_name << "@" << run.dataset_version << " "
           << RunStatusName(run.status) << " error=" << run.error
           << " metrics=" << EncodeMetrics(run.metrics) << " report=" << run.report
           << " started=" << (run.started_at_ms != 0) << " finished=" << (run.finished_at_ms != 0)
           << " model " << ValueOrCode(r.ReadRunModel(run.id));
      add(line);
    }
  } else {
    lines.push_back("runs error=" + CodeOf(runs.status()));
  }
  if (auto tokens = r.ListTokens(); tokens.ok()) {
    for (const Token& t : *tokens) {
      auto valid = r.FindValidToken(t.name == "ci" ? "c1" : "0a");
      std::ostringstream line;
      line << "token " << t.name << " " << t.role << " by=" << t.created_by
           << " revoked=" << (t.revoked_at_ms != 0) << " " << t.revoked_by << " valid="
           << (valid.ok() ? (valid->has_value() ? (*valid)->secret_sha256 : "no") : "error");
      add(line);
    }
  } else {
    lines.push_back("tokens error=" + CodeOf(tokens.status()));
  }
  auto models = r.ListModels();
  if (!models.ok()) lines.push_back("models error=" + CodeOf(models.status()));
  for (const std::string& model : models.ok() ? *models : std::vector<std::string>()) {
    const Result<std::vector<ModelVersion>> versions = r.ListModelVersions(model);
    const Result<std::vector<AliasChange>> history = r.History(model, std::nullopt);
    if (!versions.ok() || !history.ok()) lines.push_back("model " + model + " error");
    for (const ModelVersion& mv : versions.ok() ? *versions : std::vector<ModelVersion>()) {
      std::ostringstream line;
      line << "model " << mv.model << " v" << mv.version << " run=" << mv.run_id << " "
           << mv.dataset_name << "@" << mv.dataset_version << " sha=" << mv.dataset_sha256
           << " formula=" << mv.formula << " metrics=" << EncodeMetrics(mv.metrics)
           << " signature=" << mv.signature << " aliases=";
      for (const std::string& alias : mv.aliases) line << alias << ",";
      add(line);
    }
    for (const AliasChange& c : history.ok() ? *history : std::vector<AliasChange>()) {
      std::ostringstream line;
      line << "history " << c.seq << " " << c.model << " " << c.alias << " "
           << c.from_version.value_or(0) << "->" << c.to_version << " " << c.action << " "
           << c.actor << " " << c.reason << " " << c.forced;
      add(line);
    }
  }
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += "  " + line + "\n";
  return text;
}

// PRAGMA integrity_check of the database in `dir`, through its own connection.
std::string IntegrityCheck(const std::string& dir) {
  sqlite3* db = nullptr;
  std::string result = "cannot open";
  if (sqlite3_open((fs::path(dir) / "mlprod.db").c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return result;
}

Status AddDataset(Registry& r, const std::string& name, const std::string& bytes) {
  MLPROD_ASSIGN_OR_RETURN(std::unique_ptr<BlobWriter> writer, r.blobs().NewWriter());
  MLPROD_RETURN_IF_ERROR(writer->Append(bytes));
  NewDatasetVersion spec;
  spec.name = name;
  spec.rows = 3;
  spec.columns = {{"x", "numeric", 0}, {"y", "numeric", 1}};
  spec.parse_options = "{}";
  spec.created_by = "alice";
  MLPROD_ASSIGN_OR_RETURN(spec.sha256, Sha256Hex(bytes));
  spec.size_bytes = static_cast<int64_t>(bytes.size());
  bool existed = false;
  return r.CreateDatasetVersion(spec, writer.get(), &existed).status();
}

Run RunOn(const std::string& dataset) {
  Run spec;
  spec.experiment = "Default";
  spec.dataset_name = dataset;
  spec.dataset_version = 1;
  spec.formula = "y ~ x";
  spec.kind = "ols";
  spec.missing = "drop";
  spec.created_by = "alice";
  return spec;
}

// The state every attempt starts from: base@1 and gone@1; r1 SUCCEEDED with a model, r2 QUEUED,
// r3 RUNNING; model m versions 1 and 2 (both from r1), production -> 1; token ops (admin).
Status BuildBaseState(Registry& r) {
  MLPROD_RETURN_IF_ERROR(AddDataset(r, "base", "x,y\n1,2\n2,4\n3,\n"));
  MLPROD_RETURN_IF_ERROR(AddDataset(r, "gone", "x,y\n9,9\n"));
  for (int i = 0; i < 3; ++i) MLPROD_RETURN_IF_ERROR(r.CreateRun(RunOn("base")).status());
  MLPROD_RETURN_IF_ERROR(r.MarkRunRunning("r1"));
  MLPROD_RETURN_IF_ERROR(r.CompleteRun("r1", {{"test_rmse", 1.5}}, R"({"r":1})", "model-of-r1"));
  MLPROD_RETURN_IF_ERROR(r.MarkRunRunning("r3"));
  for (int i = 0; i < 2; ++i) {
    MLPROD_RETURN_IF_ERROR(r.RegisterModelVersion("m", "r1", "sig", "", "", "alice").status());
  }
  MLPROD_RETURN_IF_ERROR(
      r.CreateToken("ops", "admin", "0a", std::string(64, 'a'), "mlprod-server").status());
  return r.MoveAlias({"m", "production", 1, std::nullopt, "promote", "alice", "first", false})
      .status();
}

struct Operation {
  const char* name;
  std::function<Status(Registry&)> apply;
};

// Test names and failure messages show the operation's name, not its bytes.
void PrintTo(const Operation& op, std::ostream* out) { *out << op.name; }

const std::vector<Operation>& Operations() {
  static const std::vector<Operation> ops = {
      {"CreateDatasetVersion", [](Registry& r) { return AddDataset(r, "base", "x,y\n7,8\n"); }},
      {"CreateDatasetNewName", [](Registry& r) { return AddDataset(r, "fresh", "a\n1\n"); }},
      {"CreateExperiment", [](Registry& r) { return r.CreateExperiment("exp", "bob").status(); }},
      {"CreateRun", [](Registry& r) { return r.CreateRun(RunOn("gone")).status(); }},
      {"MarkRunRunning", [](Registry& r) { return r.MarkRunRunning("r2"); }},
      {"CompleteRun",
       [](Registry& r) {
         return r.CompleteRun("r3", {{"test_rmse", 2.5}}, R"({"r":3})",
                              std::string(20000, 'm') + "-model-of-r3");
       }},
      {"EndRun", [](Registry& r) { return r.EndRun("r3", RunStatus::kFailed, "boom"); }},
      {"FailInterruptedRuns", [](Registry& r) { return r.FailInterruptedRuns().status(); }},
      {"RegisterModelVersion",
       [](Registry& r) {
         return r.RegisterModelVersion("m", "r1", "sig", "y ~ x", "third", "bob").status();
       }},
      {"MoveAlias",
       [](Registry& r) {
         return r.MoveAlias({"m", "production", 2, 1, "promote", "bob", "better", false}).status();
       }},
      {"DeleteDataset",
       [](Registry& r) { return r.DeleteDataset("gone", std::nullopt, "bob").status(); }},
      {"CreateToken",
       [](Registry& r) {
         return r.CreateToken("ci", "editor", "c1", std::string(64, 'c'), "ops").status();
       }},
      {"RevokeToken", [](Registry& r) { return r.RevokeToken("ops", "bob").status(); }},
  };
  return ops;
}

// Fault-test folders live on /dev/shm when there is one: the fault model, not the disk, decides
// what survives, and tmpfs makes the thousands of fsyncs free.
std::string FastTempRoot() {
  std::error_code ec;
  if (fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) return "/dev/shm";
  return fs::temp_directory_path().string();
}

class RegistryFaultsTest : public ::testing::TestWithParam<Operation> {
 protected:
  static void SetUpTestSuite() {
    root_ = std::make_unique<TempDir>(FastTempRoot());
    ASSERT_FALSE(root_->path().empty());
    template_dir_ = root_->path() + "/template";
    Result<std::unique_ptr<Registry>> r = Registry::Open(template_dir_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    Status built = BuildBaseState(**r);
    ASSERT_TRUE(built.ok()) << built.ToString();
  }
  static void TearDownTestSuite() { root_.reset(); }

  // A copy of the folder `from` (the base state by default) named `name`.
  std::string FreshCopy(const std::string& name, const std::string& from = template_dir_) {
    const std::string dir = root_->path() + "/" + name;
    fs::remove_all(dir);
    fs::copy(from, dir, fs::copy_options::recursive);
    return dir;
  }

  // Opens `dir` with the real VFS and blob store and reads it; empty plus a failure when it
  // cannot be opened or is not intact.
  std::vector<std::string> Reopen(const std::string& dir, const std::string& context) {
    Result<std::unique_ptr<Registry>> r = Registry::Open(dir);
    EXPECT_TRUE(r.ok()) << context << ": reopening failed: " << r.status().ToString();
    if (!r.ok()) return {};
    EXPECT_EQ(IntegrityCheck(dir), "ok") << context;
    return Observe(**r);
  }

  bool Attempt(const Operation& op, int n, FaultKind kind, bool persistent, bool probe);

  static std::unique_ptr<TempDir> root_;
  static std::string template_dir_;
  std::vector<std::string> base_;    // what the base state shows
  std::vector<std::string> golden_;  // what it shows after the operation, without faults
};

std::unique_ptr<TempDir> RegistryFaultsTest::root_;
std::string RegistryFaultsTest::template_dir_;

// One attempt: the operation on a fresh copy of the base state with write point `n` failing;
// then, with `probe`, one more write once the fault is gone; then a crash. Returns false when
// the operation has fewer than `n` write points (nothing was injected).
bool RegistryFaultsTest::Attempt(const Operation& op, int n, FaultKind kind, bool persistent,
                                 bool probe) {
  std::ostringstream context_text;
  context_text << op.name << ": write point " << n << " fails with "
               << (kind == FaultKind::kDiskFull ? "ENOSPC" : "EIO")
               << (persistent ? " (persistent)" : " (transient)")
               << (probe ? ", then a write once it is gone" : ", then a crash");
  std::string context = context_text.str();
  const std::string dir = FreshCopy("attempt");
  const std::string blob_root = dir + "/blobs";
  auto state = std::make_shared<FaultState>();
  testing::ScopedFaultyVfs vfs(kVfsName, state.get());
  Result<std::unique_ptr<BlobStore>> real_blobs = OpenLocalBlobStore(blob_root);
  EXPECT_TRUE(real_blobs.ok()) << real_blobs.status().ToString();
  if (!real_blobs.ok()) return false;
  Registry::TestOpenOptions options;
  options.sqlite_vfs = kVfsName;
  options.blob_store =
      testing::MakeFaultyBlobStore(std::move(real_blobs).value(), blob_root, state);
  Result<std::unique_ptr<Registry>> opened = Registry::OpenForTest(dir, std::move(options));
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  if (!opened.ok()) return false;
  std::unique_ptr<Registry> registry = std::move(opened).value();

  state->Arm(n, kind, persistent);
  const Status s = op.apply(*registry);
  if (!state->fired()) {
    // Past the last write point: the operation ran untouched.
    EXPECT_TRUE(s.ok()) << context << ": " << s.ToString();
    return false;
  }
  context += " (first at " + state->first_site() + ")";
  if (!s.ok()) {
    // SQLite reports a failed fsync or truncate as an I/O error without its errno.
    const bool errno_unknown =
        state->first_site() == "sqlite xSync" || state->first_site() == "sqlite xTruncate";
    if (kind == FaultKind::kIoError) {
      EXPECT_EQ(s.code(), StatusCode::kInternal) << context << ": " << s.ToString();
    } else if (!errno_unknown) {
      EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << context << ": " << s.ToString();
    }
  }
  Status probe_status = Status::Ok();
  if (probe) {
    // The disk has room again: the same registry must take writes at once.
    state->Disarm();
    probe_status = registry->CreateExperiment(kProbe, "probe").status();
    EXPECT_TRUE(probe_status.ok())
        << context << ": the write after the fault failed: " << probe_status.ToString();
  }
  const std::vector<std::string> live = Observe(*registry);

  state->Crash();
  registry.reset();
  const std::string crashed_copy = FreshCopy("attempt-process-crash", dir);
  state->LosePower();

  const std::vector<std::pair<std::string, std::vector<std::string>>> outcomes = {
      {"live", live},
      {"after a process crash", Reopen(crashed_copy, context + ", process crash")},
      {"after a power loss", Reopen(dir, context + ", power loss")},
  };
  for (const auto& [when, observed] : outcomes) {
    std::vector<std::string> seen = observed;
    auto it = std::find(seen.begin(), seen.end(), std::string("experiment ") + kProbe);
    if (probe && probe_status.ok()) {
      EXPECT_NE(it, seen.end()) << context << ", " << when << ": the later write is lost";
    }
    if (it != seen.end()) seen.erase(it);
    if (s.ok()) {
      EXPECT_EQ(seen, golden_) << context << ", " << when
                               << ": answered OK but the write is not all there\nexpected:\n"
                               << Join(golden_) << "got:\n"
                               << Join(seen);
    } else {
      EXPECT_TRUE(seen == base_ || seen == golden_)
          << context << ", " << when << ": failed (" << s.ToString()
          << ") and left a half-applied write\nbefore:\n"
          << Join(base_) << "complete:\n"
          << Join(golden_) << "got:\n"
          << Join(seen);
    }
  }
  return true;
}

TEST_P(RegistryFaultsTest, NeverAcknowledgesAWriteThatDidNotPersist) {
  const Operation& op = GetParam();
  {
    const std::string dir = FreshCopy("golden");
    Result<std::unique_ptr<Registry>> r = Registry::Open(dir);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    base_ = Observe(**r);
    Status s = op.apply(**r);
    ASSERT_TRUE(s.ok()) << "without faults: " << s.ToString();
    golden_ = Observe(**r);
    ASSERT_NE(base_, golden_) << "the operation changes nothing visible";
  }
  int points = 0;
  for (FaultKind kind : {FaultKind::kIoError, FaultKind::kDiskFull}) {
    for (bool persistent : {false, true}) {
      int n = 1;
      while (Attempt(op, n, kind, persistent, /*probe=*/false)) {
        Attempt(op, n, kind, persistent, /*probe=*/true);
        if (HasFailure()) return;  // the first broken case says enough
        ++n;
        ASSERT_LT(n, 200) << "the operation never ran out of write points";
      }
      if (HasFailure()) return;
      points = n - 1;
    }
  }
  EXPECT_GE(points, 2) << op.name << " has too few write points to prove anything";
  RecordProperty("write_points", points);
}

INSTANTIATE_TEST_SUITE_P(EveryWrite, RegistryFaultsTest, ::testing::ValuesIn(Operations()),
                         [](const ::testing::TestParamInfo<Operation>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace mlprod::registry
