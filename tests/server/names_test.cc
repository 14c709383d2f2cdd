// The names battery: every string a client sends that could become a name or a path (dataset,
// experiment, model, alias, run id, token name), crossed with path-traversal spellings, is
// INVALID_ARGUMENT; and a canary file beside the data dir is never opened, read, written or
// removed while the battery runs (inotify watches it).
#include <sys/inotify.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <gtest/gtest.h>

#include "client/mlprod_client.h"
#include "server/mlprod_server.h"
#include "tests/server/loopback_server.h"

namespace mlprod {
namespace {

namespace fs = std::filesystem;

class NamesTest : public testing::LoopbackServerTest {
 protected:
  void SetUp() override {
    LoopbackServerTest::SetUp();
    canary_ = dir_ + "/canary";
    std::ofstream(canary_) << "canary\n";
    ASSERT_NO_FATAL_FAILURE(StartServer());
    client_ = NewClient();
  }

  // Traversal spellings aimed at the canary, which sits next to the data dir.
  std::vector<std::pair<std::string, std::string>> HostileNames() const {
    return {
        {"../", "../canary"},
        {"..\\", "..\\canary"},
        {"%2e%2e%2f", "%2e%2e%2fcanary"},
        {"%252e", "%252e%252e%252fcanary"},
        {"/etc/passwd", "/etc/passwd"},
        {"absolute canary", canary_},
        {"file:///", "file://" + canary_},
        {"#", "x#../canary"},
        {"?", "x?../canary"},
        {"..;/", "..;/canary"},
        {"//proc/self/root", "//proc/self/root" + canary_},
        {"NUL", std::string("ok\0../canary", 12)},
        {"10 MB", std::string(10 << 20, 'a')},
    };
  }

  std::string canary_;
  std::unique_ptr<client::MlprodClient> client_;
};

// Every RPC field that names something, as a call that puts `name` in it.
using NamedCall = std::function<grpc::Status(const client::MlprodClient&, const std::string&)>;

std::vector<std::pair<std::string, NamedCall>> NamedFields() {
  using C = const client::MlprodClient&;
  using S = const std::string&;
  auto dataset_ref = [](auto method) {
    return [method](C c, S name) {
      v1::GetDatasetRequest request;
      request.mutable_dataset()->set_name(name);
      auto context = c.NewContext();
      return method(c, context.get(), request);
    };
  };
  auto run_id = [](auto method) {
    return [method](C c, S id) {
      v1::GetRunRequest request;
      request.set_id(id);
      auto context = c.NewContext();
      return method(c, context.get(), request);
    };
  };
  return {
      {"UploadDataset header.name",
       [](C c, S name) {
         v1::UploadHeader header;
         header.set_name(name);
         v1::DatasetVersion out;
         auto context = c.NewContext();
         auto writer = c.datasets().UploadDataset(context.get(), &out);
         v1::UploadDatasetRequest message;
         *message.mutable_header() = header;
         writer->Write(message);
         message.Clear();
         message.set_chunk("y,x\n1,2\n");
         writer->Write(message);
         writer->WritesDone();
         return writer->Finish();
       }},
      {"GetDataset dataset.name", dataset_ref([](C c, grpc::ClientContext* ctx, const auto& r) {
         v1::DatasetVersion out;
         return c.datasets().GetDataset(ctx, r, &out);
       })},
      {"DescribeDataset dataset.name", dataset_ref([](C c, grpc::ClientContext* ctx, const auto& r) {
         v1::DescribeDatasetResponse out;
         return c.datasets().DescribeDataset(ctx, r, &out);
       })},
      {"HeadDataset dataset.name",
       [](C c, S name) {
         v1::HeadDatasetRequest request;
         request.mutable_dataset()->set_name(name);
         v1::HeadDatasetResponse out;
         auto context = c.NewContext();
         return c.datasets().HeadDataset(context.get(), request, &out);
       }},
      {"DeleteDataset dataset.name", dataset_ref([](C c, grpc::ClientContext* ctx, const auto& r) {
         v1::DeleteDatasetResponse out;
         return c.datasets().DeleteDataset(ctx, r, &out);
       })},
      {"CreateExperiment name",
       [](C c, S name) {
         v1::CreateExperimentRequest request;
         request.set_name(name);
         v1::Experiment out;
         auto context = c.NewContext();
         return c.training().CreateExperiment(context.get(), request, &out);
       }},
      {"SubmitRun dataset.name",
       [](C c, S name) {
         v1::SubmitRunRequest request;
         request.mutable_dataset()->set_name(name);
         request.set_formula("y ~ x");
         v1::Run out;
         auto context = c.NewContext();
         return c.training().SubmitRun(context.get(), request, &out);
       }},
      {"SubmitRun experiment",
       [](C c, S name) {
         v1::SubmitRunRequest request;
         request.mutable_dataset()->set_name("d");
         request.set_experiment(name);
         request.set_formula("y ~ x");
         v1::Run out;
         auto context = c.NewContext();
         return c.training().SubmitRun(context.get(), request, &out);
       }},
      {"ListRuns experiment",
       [](C c, S name) {
         v1::ListRunsRequest request;
         request.set_experiment(name);
         v1::ListRunsResponse out;
         auto context = c.NewContext();
         return c.training().ListRuns(context.get(), request, &out);
       }},
      {"GetRun id", run_id([](C c, grpc::ClientContext* ctx, const auto& r) {
         v1::Run out;
         return c.training().GetRun(ctx, r, &out);
       })},
      {"CancelRun id", run_id([](C c, grpc::ClientContext* ctx, const auto& r) {
         v1::Run out;
         return c.training().CancelRun(ctx, r, &out);
       })},
      {"GetRunPlotData id", run_id([](C c, grpc::ClientContext* ctx, const auto& r) {
         v1::RunPlotData out;
         return c.training().GetRunPlotData(ctx, r, &out);
       })},
      {"WatchRun id", run_id([](C c, grpc::ClientContext* ctx, const auto& r) {
         auto reader = c.training().WatchRun(ctx, r);
         v1::RunEvent event;
         while (reader->Read(&event)) {
         }
         return reader->Finish();
       })},
      {"RegisterModel name",
       [](C c, S name) {
         v1::RegisterModelRequest request;
         request.set_name(name);
         request.set_run("r1");
         v1::ModelVersion out;
         auto context = c.NewContext();
         return c.registry().RegisterModel(context.get(), request, &out);
       }},
      {"RegisterModel run",
       [](C c, S name) {
         v1::RegisterModelRequest request;
         request.set_name("m");
         request.set_run(name);
         v1::ModelVersion out;
         auto context = c.NewContext();
         return c.registry().RegisterModel(context.get(), request, &out);
       }},
      {"GetModel name",
       [](C c, S name) {
         v1::GetModelRequest request;
         request.set_name(name);
         v1::Model out;
         auto context = c.NewContext();
         return c.registry().GetModel(context.get(), request, &out);
       }},
      {"Promote name",
       [](C c, S name) {
         v1::PromoteRequest request;
         request.set_name(name);
         request.set_version(1);
         v1::AliasChange out;
         auto context = c.NewContext();
         return c.registry().Promote(context.get(), request, &out);
       }},
      {"Promote alias",
       [](C c, S name) {
         v1::PromoteRequest request;
         request.set_name("m");
         request.set_alias(name);
         request.set_version(1);
         v1::AliasChange out;
         auto context = c.NewContext();
         return c.registry().Promote(context.get(), request, &out);
       }},
      {"Rollback name",
       [](C c, S name) {
         v1::RollbackRequest request;
         request.set_name(name);
         v1::AliasChange out;
         auto context = c.NewContext();
         return c.registry().Rollback(context.get(), request, &out);
       }},
      {"Rollback alias",
       [](C c, S name) {
         v1::RollbackRequest request;
         request.set_name("m");
         request.set_alias(name);
         v1::AliasChange out;
         auto context = c.NewContext();
         return c.registry().Rollback(context.get(), request, &out);
       }},
      {"GetHistory name",
       [](C c, S name) {
         v1::GetHistoryRequest request;
         request.set_name(name);
         v1::GetHistoryResponse out;
         auto context = c.NewContext();
         return c.registry().GetHistory(context.get(), request, &out);
       }},
      {"GetHistory alias",
       [](C c, S name) {
         v1::GetHistoryRequest request;
         request.set_name("m");
         request.set_alias(name);
         v1::GetHistoryResponse out;
         auto context = c.NewContext();
         return c.registry().GetHistory(context.get(), request, &out);
       }},
      {"Predict model",
       [](C c, S name) {
         v1::PredictRequest request;
         request.set_model(name);
         (*request.add_rows()->mutable_fields())["x"] = "1";
         v1::PredictResponse out;
         auto context = c.NewContext();
         return c.inference().Predict(context.get(), request, &out);
       }},
      {"Predict model@alias",
       [](C c, S name) {
         v1::PredictRequest request;
         request.set_model("m@" + name);
         (*request.add_rows()->mutable_fields())["x"] = "1";
         v1::PredictResponse out;
         auto context = c.NewContext();
         return c.inference().Predict(context.get(), request, &out);
       }},
      {"CreateToken name",
       [](C c, S name) {
         v1::CreateTokenRequest request;
         request.set_name(name);
         request.set_role("viewer");
         v1::CreatedToken out;
         auto context = c.NewContext();
         return c.tokens().CreateToken(context.get(), request, &out);
       }},
      {"RevokeToken name",
       [](C c, S name) {
         v1::RevokeTokenRequest request;
         request.set_name(name);
         v1::Token out;
         auto context = c.NewContext();
         return c.tokens().RevokeToken(context.get(), request, &out);
       }},
  };
}

TEST_F(NamesTest, EveryNamedFieldRefusesEveryTraversalSpellingAndTheCanaryIsUntouched) {
  const int watch_fd = inotify_init1(IN_NONBLOCK);
  ASSERT_GE(watch_fd, 0);
  ASSERT_GE(inotify_add_watch(watch_fd, canary_.c_str(),
                              IN_ACCESS | IN_OPEN | IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF |
                                  IN_MOVE_SELF | IN_CLOSE_WRITE),
            0);
  int checked = 0;
  for (const auto& [field, call] : NamedFields()) {
    for (const auto& [label, name] : HostileNames()) {
      const grpc::Status s = call(*client_, name);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << field << " with " << label << ": " << s.error_code() << " " << s.error_message();
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(NamedFields().size() * HostileNames().size()));

  char events[4096];
  const ssize_t n = read(watch_fd, events, sizeof events);
  EXPECT_LE(n, 0) << "the canary outside the data dir was touched";
  close(watch_fd);
  std::ifstream in(canary_);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), "canary\n");
  // Nothing was created beside the data dir either.
  std::vector<std::string> beside;
  for (const auto& entry : fs::directory_iterator(dir_)) beside.push_back(entry.path().filename());
  std::sort(beside.begin(), beside.end());
  EXPECT_EQ(beside, (std::vector<std::string>{"canary", "data"}));
}

}  // namespace
}  // namespace mlprod
