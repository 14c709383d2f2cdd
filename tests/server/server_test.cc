// The real services in-process on a loopback port with a temp data dir, through MlprodClient.
#include <stdlib.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <system_error>

#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>

#include "client/mlprod_client.h"
#include "server/mlprod_server.h"
#include "tests/server/loopback_server.h"

namespace mlprod {
namespace {

namespace fs = std::filesystem;

class ServerTest : public testing::LoopbackServerTest {
 protected:
  void SetUp() override {
    LoopbackServerTest::SetUp();
    Restart();
  }

  // Starts the server (again) with metrics on, and a client as "tester".
  void Restart() {
    client_.reset();
    server::ServerOptions options;
    options.metrics_listen = "127.0.0.1:0";
    ASSERT_NO_FATAL_FAILURE(StartServer(options));
    client::ClientOptions copts;
    copts.actor = "tester";
    client_ = NewClient(copts);
    ASSERT_NE(client_, nullptr);
  }

  // y = 3 + 2 x + 5 [g == b] + N(0, 1) noise (+ 0.5 x^2 when `quadratic`), 400 rows.
  std::string WriteCsv(bool quadratic) {
    std::mt19937_64 rng(42);
    std::normal_distribution<double> noise(0, 1);
    std::ostringstream csv;
    csv << "y,x,g\n";
    for (int i = 0; i < 400; ++i) {
      const double x = (i % 40) / 4.0;
      const bool b = i % 3 == 0;
      const double y = 3 + 2 * x + (b ? 5 : 0) + (quadratic ? 0.5 * x * x : 0) + noise(rng);
      csv << y << "," << x << "," << (b ? "b" : "a") << "\n";
    }
    const std::string path = dir_ + (quadratic ? "/quad.csv" : "/lin.csv");
    std::ofstream(path) << csv.str();
    return path;
  }

  v1::DatasetVersion Upload(const std::string& path, const std::string& name) {
    v1::UploadHeader header;
    header.set_name(name);
    v1::DatasetVersion out;
    grpc::Status s = client_->UploadFile(header, path, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }

  v1::Run Train(const std::string& dataset, const std::string& formula) {
    v1::SubmitRunRequest request;
    request.mutable_dataset()->set_name(dataset);
    request.set_formula(formula);
    request.set_test_fraction(0.25);
    request.set_seed(7);
    v1::Run run;
    auto context = client_->NewContext();
    grpc::Status s = client_->training().SubmitRun(context.get(), request, &run);
    EXPECT_TRUE(s.ok()) << s.error_message();
    v1::Run last;
    s = client_->WatchRun(run.id(), [](const v1::RunEvent&) {}, &last);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(last.status(), v1::RUN_STATUS_SUCCEEDED) << last.error();
    return last;
  }

  int Register(const std::string& run) {
    v1::RegisterModelRequest request;
    request.set_name("m");
    request.set_run(run);
    v1::ModelVersion v;
    auto context = client_->NewContext();
    grpc::Status s = client_->registry().RegisterModel(context.get(), request, &v);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return v.version();
  }

  grpc::Status Promote(int version, bool force) {
    v1::PromoteRequest request;
    request.set_name("m");
    request.set_version(version);
    request.set_force(force);
    v1::AliasChange change;
    auto context = client_->NewContext();
    return client_->registry().Promote(context.get(), request, &change);
  }

  // Model m: version 1 from y ~ x + g (in production), version 2 with an extra I(x^2) term.
  void TwoVersionsFirstInProduction(v1::Run* r1, v1::Run* r2) {
    Upload(WriteCsv(false), "lin");
    *r1 = Train("lin", "y ~ x + g");
    *r2 = Train("lin", "y ~ x + g + I(x^2)");
    ASSERT_EQ(Register(r1->id()), 1);
    ASSERT_EQ(Register(r2->id()), 2);
    ASSERT_TRUE(Promote(1, false).ok());
  }

  grpc::Status Predict(double x, const std::string& g, v1::PredictResponse* response) {
    v1::PredictRequest request;
    request.set_model("m");
    auto& fields = *request.add_rows()->mutable_fields();
    fields["x"] = std::to_string(x);
    fields["g"] = g;
    auto context = client_->NewContext();
    return client_->inference().Predict(context.get(), request, response);
  }

  // x·β from the run's coefficient table.
  static double Expected(const v1::Run& run, double x, bool b) {
    double value = 0;
    for (const v1::Coefficient& c : run.coefficients()) {
      if (c.term() == "(Intercept)") value += c.estimate();
      if (c.term() == "x") value += c.estimate() * x;
      if (c.term() == "gb" && b) value += c.estimate();
    }
    return value;
  }

  std::unique_ptr<client::MlprodClient> client_;
};

TEST_F(ServerTest, PredictionsDuringPromotionsNeverFailNorMixVersions) {
  v1::Run r1, r2;
  ASSERT_NO_FATAL_FAILURE(TwoVersionsFirstInProduction(&r1, &r2));

  // Version 2 has an extra term, so the two versions answer differently for x = 7.
  const double x = 7;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, mixed{0}, answered{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      while (!stop.load()) {
        v1::PredictResponse response;
        grpc::Status s = Predict(x, "b", &response);
        if (!s.ok()) {
          ++failures;
          continue;
        }
        const v1::Run& run = response.version() == 1 ? r1 : r2;
        double expected = Expected(run, x, true);
        if (response.version() == 2) {
          for (const v1::Coefficient& c : r2.coefficients()) {
            if (c.term() == "I(x^2)") expected += c.estimate() * x * x;
          }
        }
        if (std::abs(response.predictions(0).value() - expected) > 1e-9 * std::abs(expected)) {
          ++mixed;
        }
        ++answered;
      }
    });
  }
  for (int i = 0; i < 40; ++i) {
    const int to = i % 2 == 0 ? 2 : 1;
    ASSERT_TRUE(Promote(to, /*force=*/true).ok());
    // Serving follows the alias as soon as the promote is acknowledged.
    v1::PredictResponse response;
    ASSERT_TRUE(Predict(x, "b", &response).ok());
    EXPECT_EQ(response.version(), to);
  }
  stop = true;
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(mixed.load(), 0);
  EXPECT_GT(answered.load(), 0);
}

TEST_F(ServerTest, RacingPromotionsLeaveServingWhereTheRegistryPointsTheAlias) {
  v1::Run r1, r2;
  ASSERT_NO_FATAL_FAILURE(TwoVersionsFirstInProduction(&r1, &r2));
  v1::PredictResponse warm;
  ASSERT_TRUE(Predict(1, "b", &warm).ok());  // the alias is now in serving's table

  // Promotes race from four threads (some lose the compare-and-swap: ABORTED, or find the alias
  // already there: FAILED_PRECONDITION); whatever the interleaving, serving must end on the
  // version the registry's alias names.
  std::vector<std::thread> promoters;
  std::atomic<int> succeeded{0};
  for (int t = 0; t < 4; ++t) {
    promoters.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) succeeded += Promote((t + i) % 2 + 1, true).ok() ? 1 : 0;
    });
  }
  for (std::thread& t : promoters) t.join();
  EXPECT_GT(succeeded.load(), 0);

  v1::GetModelRequest request;
  request.set_name("m");
  v1::Model model;
  auto context = client_->NewContext();
  ASSERT_TRUE(client_->registry().GetModel(context.get(), request, &model).ok());
  int production = 0;
  for (const v1::ModelVersion& v : model.versions()) {
    for (const std::string& alias : v.aliases()) {
      if (alias == "production") production = v.version();
    }
  }
  ASSERT_NE(production, 0);
  v1::PredictResponse response;
  ASSERT_TRUE(Predict(1, "b", &response).ok());
  EXPECT_EQ(response.version(), production);
}

TEST_F(ServerTest, MetricsEndpointCountsCallsPredictionsAndRuns) {
  v1::Run r1, r2;
  ASSERT_NO_FATAL_FAILURE(TwoVersionsFirstInProduction(&r1, &r2));
  v1::PredictResponse response;
  ASSERT_TRUE(Predict(1, "b", &response).ok());
  ASSERT_TRUE(Predict(2, "a", &response).ok());
  v1::PredictRequest unknown;
  unknown.set_model("nosuchmodel");
  (*unknown.add_rows()->mutable_fields())["x"] = "1";
  auto context = client_->NewContext();
  ASSERT_EQ(client_->inference().Predict(context.get(), unknown, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);

  ASSERT_GT(server_->metrics_port(), 0);
  httplib::Client http("127.0.0.1", server_->metrics_port());
  // A worker counts its run just after storing the run's end, which the client may see first.
  const std::string runs_line = "mlprod_training_runs_total{kind=\"ols\",status=\"SUCCEEDED\"} 2";
  httplib::Result scraped = http.Get("/metrics");
  for (int i = 0; i < 100 && scraped && scraped->body.find(runs_line) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    scraped = http.Get("/metrics");
  }
  ASSERT_TRUE(scraped) << httplib::to_string(scraped.error());
  EXPECT_EQ(scraped->status, 200);
  EXPECT_NE(scraped->get_header_value("Content-Type").find("version=0.0.4"), std::string::npos);
  const std::string& text = scraped->body;
  auto expect = [&](const std::string& line) {
    EXPECT_NE(text.find("\n" + line + "\n"), std::string::npos) << line << " in:\n" << text;
  };
  expect("mlprod_grpc_requests_total{method=\"/mlprod.v1.InferenceService/Predict\","
         "code=\"OK\"} 2");
  expect("mlprod_grpc_requests_total{method=\"/mlprod.v1.InferenceService/Predict\","
         "code=\"NOT_FOUND\"} 1");
  expect("mlprod_grpc_requests_total{method=\"/mlprod.v1.ModelRegistry/Promote\","
         "code=\"OK\"} 1");
  expect("mlprod_predictions_total{model=\"m\",version=\"1\"} 2");
  expect(runs_line);
  expect("mlprod_grpc_request_duration_seconds_count{method=\"/mlprod.v1.InferenceService/"
         "Predict\"} 3");
  expect("mlprod_training_queue_depth 0");
  expect("mlprod_serving_loaded_models 1");
  EXPECT_EQ(http.Get("/other")->status, 404);
}

TEST_F(ServerTest, WorsePromotionIsRefusedUnlessForcedAndRecorded) {
  Upload(WriteCsv(true), "quad");
  const v1::Run good = Train("quad", "y ~ x + g + I(x^2)");
  const v1::Run bad = Train("quad", "y ~ x");
  ASSERT_LT(good.metrics().at("test_rmse"), bad.metrics().at("test_rmse"));
  ASSERT_EQ(Register(good.id()), 1);
  ASSERT_EQ(Register(bad.id()), 2);
  ASSERT_TRUE(Promote(1, false).ok());

  grpc::Status refused = Promote(2, false);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::PredictResponse response;
  ASSERT_TRUE(Predict(1, "a", &response).ok());
  EXPECT_EQ(response.version(), 1);

  ASSERT_TRUE(Promote(2, true).ok());
  v1::GetHistoryRequest request;
  request.set_name("m");
  v1::GetHistoryResponse history;
  auto context = client_->NewContext();
  ASSERT_TRUE(client_->registry().GetHistory(context.get(), request, &history).ok());
  ASSERT_EQ(history.entries_size(), 2);
  EXPECT_FALSE(history.entries(0).forced());
  EXPECT_TRUE(history.entries(1).forced());
  EXPECT_EQ(history.entries(1).actor(), "tester");
}

TEST_F(ServerTest, RestartKeepsRunsModelsAndAliases) {
  Upload(WriteCsv(false), "lin");
  const v1::Run run = Train("lin", "y ~ x + g");
  ASSERT_EQ(Register(run.id()), 1);
  ASSERT_TRUE(Promote(1, false).ok());
  v1::PredictResponse before;
  ASSERT_TRUE(Predict(2.5, "a", &before).ok());

  client_.reset();
  server_.reset();
  Restart();

  v1::PredictResponse after;
  ASSERT_TRUE(Predict(2.5, "a", &after).ok());
  EXPECT_EQ(after.version(), 1);
  // Same bits after a reload from disk.
  EXPECT_EQ(after.predictions(0).value(), before.predictions(0).value());
  v1::GetRunRequest request;
  request.set_id(run.id());
  v1::Run again;
  auto context = client_->NewContext();
  ASSERT_TRUE(client_->training().GetRun(context.get(), request, &again).ok());
  EXPECT_EQ(again.status(), v1::RUN_STATUS_SUCCEEDED);
  EXPECT_EQ(again.metrics().at("test_rmse"), run.metrics().at("test_rmse"));
  EXPECT_EQ(again.coefficients_size(), run.coefficients_size());
}

TEST_F(ServerTest, SubmitWithUnknownColumnIsInvalidAndStoresNoRun) {
  Upload(WriteCsv(false), "lin");
  v1::SubmitRunRequest request;
  request.mutable_dataset()->set_name("lin");
  request.set_formula("y ~ x + nope");
  v1::Run run;
  auto context = client_->NewContext();
  grpc::Status s = client_->training().SubmitRun(context.get(), request, &run);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("nope"), std::string::npos);
  v1::ListRunsResponse runs;
  auto list_context = client_->NewContext();
  ASSERT_TRUE(client_->training().ListRuns(list_context.get(), {}, &runs).ok());
  EXPECT_EQ(runs.runs_size(), 0);
}

// Issue 10: a formula or filter nested 10^5 levels deep used to overflow the server's stack.
// Every RPC that parses one answers INVALID_ARGUMENT naming the position, and the server serves on.
TEST_F(ServerTest, FormulasAndFiltersNestedAHundredThousandDeepAreInvalid) {
  Upload(WriteCsv(false), "lin");
  const size_t n = 100000;
  v1::SubmitRunRequest submit;
  submit.mutable_dataset()->set_name("lin");
  submit.set_formula("y ~ " + std::string(n, '(') + "x" + std::string(n, ')'));
  v1::Run run;
  auto context = client_->NewContext();
  grpc::Status s = client_->training().SubmitRun(context.get(), submit, &run);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("formula position 8193"), std::string::npos) << s.error_message();

  v1::ListRunsRequest list;
  list.set_filter(std::string(n, '(') + "metrics.rmse > 1" + std::string(n, ')'));
  v1::ListRunsResponse runs;
  context = client_->NewContext();
  s = client_->training().ListRuns(context.get(), list, &runs);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("position 4097"), std::string::npos) << s.error_message();
  list.set_filter(std::string(n, '('));
  context = client_->NewContext();
  EXPECT_EQ(client_->training().ListRuns(context.get(), list, &runs).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  list.clear_filter();
  list.set_order_by(std::string(n, '('));
  context = client_->NewContext();
  EXPECT_EQ(client_->training().ListRuns(context.get(), list, &runs).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  Train("lin", "y ~ x");  // still serving
}

// A data dir from before column files keeps the uploaded CSV text itself ("datasets/N.csv"): it is
// parsed on first use, so older versions still train.
TEST_F(ServerTest, VersionStoredAsCsvTextBeforeColumnFilesStillTrains) {
  const std::string csv = WriteCsv(false);
  ASSERT_EQ(Upload(csv, "lin").version(), 1);
  const v1::Run fresh = Train("lin", "y ~ x + g");
  client_.reset();
  server_.reset();

  const fs::path blobs = fs::path(dir_) / "data" / "blobs" / "datasets";
  fs::copy_file(csv, blobs / "1.csv");
  fs::remove(blobs / "1.cols");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((fs::path(dir_) / "data" / "mlprod.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE datasets SET blob_key = 'datasets/1.csv'", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  Restart();
  const v1::Run again = Train("lin", "y ~ x + g");
  EXPECT_EQ(again.metrics().at("test_rmse"), fresh.metrics().at("test_rmse"));
  v1::GetDatasetRequest request;
  request.mutable_dataset()->set_name("lin");
  v1::DescribeDatasetResponse described;
  auto context = client_->NewContext();
  ASSERT_TRUE(client_->datasets().DescribeDataset(context.get(), request, &described).ok());
  EXPECT_EQ(described.columns(0).count(), 400);
}

// A client that cancels mid-upload leaves no version and no file behind.
TEST_F(ServerTest, UploadCancelledPartWayStoresNothing) {
  grpc::ClientContext context;
  v1::DatasetVersion response;
  auto writer = client_->datasets().UploadDataset(&context, &response);
  v1::UploadDatasetRequest message;
  message.mutable_header()->set_name("half");
  ASSERT_TRUE(writer->Write(message));
  message.set_chunk("x,y\n1,2\n3,4\n");
  ASSERT_TRUE(writer->Write(message));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the server has read the chunk
  context.TryCancel();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // The server may still be finishing its side (slowly on a loaded machine): wait up to 10 s for
  // its scratch files to go.
  const fs::path blobs = fs::path(dir_) / "data" / "blobs";
  auto files = [&] {
    size_t n = 0;
    std::error_code ec;  // a file may vanish while the folder is walked
    for (const auto& entry : fs::recursive_directory_iterator(blobs, ec)) {
      n += entry.is_regular_file(ec);
    }
    return n;
  };
  for (int i = 0; i < 1000 && files() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(files(), 0u);
  v1::ListDatasetsResponse list;
  auto list_context = client_->NewContext();
  ASSERT_TRUE(client_->datasets().ListDatasets(list_context.get(), {}, &list).ok());
  EXPECT_EQ(list.datasets_size(), 0);
}

}  // namespace
}  // namespace mlprod

namespace mlprod {
namespace {

TEST_F(ServerTest, APortAlreadyServedIsRefused) {
  server::ServerOptions options;
  options.listen = target();
  options.data_dir = dir_ + "/other-data";
  auto second = server::MlprodServer::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(target()), std::string::npos)
      << second.status().ToString();
  // The first server still answers.
  v1::ListDatasetsResponse datasets;
  auto context = client_->NewContext();
  EXPECT_TRUE(client_->datasets().ListDatasets(context.get(), {}, &datasets).ok());
}

TEST_F(ServerTest, AClientRequestIdIsEchoedAndAHostileOneIsNot) {
  for (const auto& [sent, echoed] : std::vector<std::pair<std::string, bool>>{
           {"trace-42.a_b", true}, {"bad id/../x", false}, {std::string(65, 'a'), false}}) {
    auto context = client_->NewContext();
    context->AddMetadata("x-request-id", sent);
    v1::ListDatasetsResponse list;
    ASSERT_TRUE(client_->datasets().ListDatasets(context.get(), {}, &list).ok());
    const auto& reply = context->GetServerInitialMetadata();
    auto it = reply.find("x-request-id");
    EXPECT_EQ(it != reply.end(), echoed) << sent;
    if (echoed && it != reply.end()) {
      EXPECT_EQ(std::string(it->second.data(), it->second.size()), sent);
    }
  }
}

}  // namespace
}  // namespace mlprod
