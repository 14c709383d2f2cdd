// Nested and pathological input against the real mlprod-server (issue 10, item 7). Formulas,
// run filters and orderings nested 10^5 levels deep (or 10 MB long), through every RPC that
// parses one, are answered INVALID_ARGUMENT or RESOURCE_EXHAUSTED; other recursive or
// pathological input (expression chains that parse into deep trees, protobuf groups nested past
// protobuf's limit, CSV quoting, upload options, predict rows) gets some answer. Nothing crashes
// the server or hangs it, and health answers within 1 s throughout. A probe that kills the
// server fails, naming the probe, and the server is started again for the next one.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

#include "tests/hostile/flood_watch.h"
#include "tests/hostile/hostile_support.h"

namespace mlprod::hostile {
namespace {

using std::chrono::seconds;

constexpr int kDeep = 100000;       // nesting levels
constexpr size_t kHuge = 10000000;  // 10 MB
constexpr char kDataset[] = "nested";
constexpr char kModel[] = "nested";
constexpr int kLargeMessage = 64 << 20;
// An error names what is wrong and where; it does not send the input back.
constexpr size_t kMaxErrorMessage = 4096;

std::string Repeat(std::string_view unit, size_t times) {
  std::string out;
  out.reserve(unit.size() * times);
  for (size_t i = 0; i < times; ++i) out.append(unit);
  return out;
}

// `open` `times` times, then `inner`, then `close` as many times.
std::string Nest(std::string_view open, std::string_view inner, std::string_view close,
                 size_t times) {
  return Repeat(open, times) + std::string(inner) + Repeat(close, times);
}

// "c17": built by appending, which GCC 12's -Wrestrict misreads as an overlapping copy.
std::string Numbered(const char* prefix, int i) {
  std::string name = prefix;
  name += std::to_string(i);
  return name;
}

// One probe: a call on the channel it is given.
using Call = std::function<grpc::Status(const std::shared_ptr<grpc::Channel>&)>;

// A context with a deadline that no correct answer comes near (the slowest is a 10 MB upload).
std::unique_ptr<grpc::ClientContext> Context(seconds deadline = seconds(10)) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + deadline);
  return context;
}

class NestedInputTest : public ServerSuite {
 protected:
  static void SetUpTestSuite() {
    Start({});
    if (server_ == nullptr) return;
    auto client = NewClient(*server_, seconds(60));
    grpc::Status status = UploadCsv(client->datasets(), kDataset, SmallCsv());
    if (status.ok()) status = TrainModel(*client, kDataset, "y ~ x", kModel);
    if (!status.ok()) ADD_FAILURE() << "set-up: " << status.error_message();
  }
  void SetUp() override {
    ServerSuite::SetUp();
    watch_ = std::make_unique<FloodWatch>(*server_);
  }
  void TearDown() override {
    ExpectWithinBounds(CurrentTest(), watch_->Stop());
    ServerSuite::TearDown();
  }

  // Runs `call` on a new connection; false (after failing the test) when the server died of it
  // or stopped answering, in which case it is started again for the next probe.
  bool Probe(const std::string& what, const Call& call, grpc::Status* status) {
    // Error messages are received whatever their size, so that their size can be checked.
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kLargeMessage);
    args.SetMaxSendMessageSize(kLargeMessage);
    args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, kLargeMessage);
    const auto start = std::chrono::steady_clock::now();
    *status = call(NewConnection(server_->address(), "probe", args));
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("[hostile] %s: %s in %.2f s, %zu-byte message %s\n", what.c_str(),
                CodeName(status->error_code()).c_str(), took, status->error_message().size(),
                status->error_message().substr(0, 100).c_str());
    // A crashing server can take a moment to end: health tells a live one from a dying one.
    const HealthAnswer health = CheckHealth(server_->address(), std::chrono::seconds(3));
    for (int i = 0; i < 50 && !health.status.ok() && server_->Alive(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const bool hung = status->error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
    if (!server_->Alive() || !health.status.ok() || hung) {
      // The failure is the test's; the watch of the old process has nothing more to say.
      watch_->Stop();
      if (server_->Alive()) {
        // A call still running past its deadline burns a core for as long as it likes: kill it.
        ADD_FAILURE() << "mlprod-server "
                      << (hung ? "did not answer within the deadline" : "stopped answering health")
                      << " after " << what << "; it is killed and started again";
        server_->Kill();
        std::string error;
        if (!server_->Restart(&error)) ADD_FAILURE() << "cannot restart: " << error;
      } else {
        ExpectAliveOrRestart(server_, what);
      }
      watch_ = std::make_unique<FloodWatch>(*server_);
      return false;
    }
    // No exception escaping a handler (UNKNOWN), and no input echoed back whole.
    EXPECT_NE(status->error_code(), grpc::StatusCode::UNKNOWN) << what;
    EXPECT_LE(status->error_message().size(), kMaxErrorMessage)
        << what << ": the error message echoes the input";
    return true;
  }

  // Nested or oversized input: refused as bad input or over a limit.
  void ExpectRefused(const std::string& what, const Call& call) {
    grpc::Status status;
    if (!Probe(what, call, &status)) return;
    EXPECT_TRUE(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
                status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)
        << what << ": " << CodeName(status.error_code()) << " "
        << status.error_message().substr(0, 200);
  }

  // Other pathological input: any answer but a crash, a hang or an echo.
  void ExpectSurvived(const std::string& what, const Call& call) {
    grpc::Status status;
    Probe(what, call, &status);
  }

  static Call SubmitRun(const std::string& formula, const std::string& model = "ols",
                        const std::string& select = "") {
    return [=](const std::shared_ptr<grpc::Channel>& channel) {
      auto training = v1::TrainingService::NewStub(channel);
      v1::SubmitRunRequest request;
      request.mutable_dataset()->set_name(kDataset);
      request.set_formula(formula);
      request.set_model(model);
      request.set_select(select);
      if (model == "kmeans") (*request.mutable_params())["k"] = "2";
      v1::Run run;
      grpc::Status status = training->SubmitRun(Context().get(), request, &run);
      if (!status.ok()) return status;
      // Accepted: the fit parses and evaluates the formula again, on a worker thread.
      v1::GetRunRequest get;
      get.set_id(run.id());
      auto context = Context(seconds(20));
      auto events = training->WatchRun(context.get(), get);
      v1::RunEvent event;
      while (events->Read(&event)) run = event.run();
      const grpc::Status watched = events->Finish();
      std::printf("[hostile]   its run %s ended %s %s\n", run.id().c_str(),
                  v1::RunStatus_Name(run.status()).c_str(), run.error().substr(0, 80).c_str());
      return watched.ok() ? status : watched;
    };
  }

  static Call ListRuns(const std::string& filter, const std::string& order_by = "") {
    return [=](const std::shared_ptr<grpc::Channel>& channel) {
      v1::ListRunsRequest request;
      request.set_filter(filter);
      request.set_order_by(order_by);
      v1::ListRunsResponse response;
      return v1::TrainingService::NewStub(channel)->ListRuns(Context().get(), request, &response);
    };
  }

  static Call Upload(const v1::UploadHeader& header, const std::string& csv) {
    return [=](const std::shared_ptr<grpc::Channel>& channel) {
      return UploadCsv(*v1::DatasetService::NewStub(channel), header, csv);
    };
  }

  static Call Predict(const v1::PredictRequest& request) {
    return [=](const std::shared_ptr<grpc::Channel>& channel) {
      v1::PredictResponse response;
      return v1::InferenceService::NewStub(channel)->Predict(Context().get(), request, &response);
    };
  }

  std::unique_ptr<FloodWatch> watch_;
};

TEST_F(NestedInputTest, DeepFormulasAreRefusedByEveryKindOfRun) {
  const std::string parens = Nest("(", "x", ")", kDeep);
  ExpectRefused("formula y ~ ((((x)))) 1e5 deep", SubmitRun("y ~ " + parens));
  ExpectRefused("formula y ~ I((((x)))) 1e5 deep", SubmitRun("y ~ I(" + parens + ")"));
  ExpectRefused("formula y ~ log(log(...)) 1e5 deep",
                SubmitRun("y ~ " + Nest("log(", "x", ")", kDeep)));
  ExpectRefused("formula y ~ I(sqrt(sqrt(...))) 1e5 deep",
                SubmitRun("y ~ I(" + Nest("sqrt(", "x", ")", kDeep) + ")"));
  ExpectRefused("formula y ~ I(----x) 1e5 deep", SubmitRun("y ~ I(" + Repeat("-", kDeep) + "x)"));
  ExpectRefused("formula y ~ I(x^x^...^x) 1e5 deep",
                SubmitRun("y ~ I(x" + Repeat("^x", kDeep) + ")"));
  ExpectRefused("formula y ~ poly(poly(...), 1) 1e5 deep",
                SubmitRun("y ~ " + Nest("poly(", "x", ", 1)", kDeep)));
  ExpectRefused("logistic b ~ ((((x)))) 1e5 deep", SubmitRun("b ~ " + parens, "logistic"));
  ExpectRefused("lasso y ~ ((((x)))) 1e5 deep", SubmitRun("y ~ " + parens, "lasso"));
  ExpectRefused("kmeans ~ ((((x)))) 1e5 deep", SubmitRun("~ " + parens, "kmeans"));
  ExpectRefused("stepwise y ~ ((((x)))) 1e5 deep", SubmitRun("y ~ " + parens, "ols", "forward"));
}

TEST_F(NestedInputTest, TenMegabyteFormulasAreRefused) {
  ExpectRefused("formula of 10 MB nested", SubmitRun("y ~ " + Nest("(", "x", ")", kHuge / 2)));
  ExpectRefused("formula of 10 MB flat", SubmitRun("y ~ x" + Repeat(" + x", kHuge / 4)));
}

TEST_F(NestedInputTest, FormulasParsingIntoDeepTreesDoNotCrash) {
  // No parentheses, yet 1e5 levels once parsed: left-associative chains.
  ExpectSurvived("formula y ~ I(x+x+...+x), 1e5 terms",
                 SubmitRun("y ~ I(x" + Repeat("+x", kDeep) + ")"));
  ExpectSurvived("formula y ~ I(x*x*...*x), 1e5 factors",
                 SubmitRun("y ~ I(x" + Repeat("*x", kDeep) + ")"));
  ExpectSurvived("formula y ~ x:x:...:x, 1e5 factors", SubmitRun("y ~ x" + Repeat(":x", kDeep)));
  ExpectSurvived("formula y ~ x*g*x*g..., 1e5 factors",
                 SubmitRun("y ~ x" + Repeat("*g*x", kDeep / 2)));
}

TEST_F(NestedInputTest, DeepFiltersAndOrderingsAreRefused) {
  const std::string comparison = "metrics.r_squared > 0.5";
  ExpectRefused("filter ((((...)))) 1e5 deep", ListRuns(Nest("(", comparison, ")", kDeep)));
  ExpectRefused("filter NOT NOT ... 1e5 deep", ListRuns(Repeat("NOT ", kDeep) + comparison));
  ExpectRefused("filter of 10 MB nested", ListRuns(Nest("(", comparison, ")", kHuge / 2)));
  ExpectRefused("order_by ((((...)))) 1e5 deep",
                ListRuns("", Nest("(", "metrics.r_squared", ")", kDeep)));
  ExpectRefused("filter of 10 MB flat",
                ListRuns(comparison + Repeat(" AND " + comparison, kHuge / 28)));
}

TEST_F(NestedInputTest, FlatFilterChainsDoNotCrash) {
  const std::string comparison = "metrics.r_squared > 0.5";
  ExpectSurvived("filter a AND a AND ..., 1e5 terms",
                 ListRuns(comparison + Repeat(" AND " + comparison, kDeep)));
  ExpectSurvived("filter a OR a OR ..., 1e5 terms",
                 ListRuns(comparison + Repeat(" OR " + comparison, kDeep)));
  ExpectSurvived("filter IN list of 1e5 literals",
                 ListRuns("params.model IN ('ols'" + Repeat(", 'ols'", kDeep) + ")"));
  ExpectSurvived("order_by of 1e5 keys",
                 ListRuns("", "metrics.r_squared" + Repeat(", metrics.r_squared", kDeep)));
  ExpectSurvived("order_by of 10 MB",
                 ListRuns("", "metrics.r_squared" + Repeat(", metrics.r_squared", kHuge / 19)));
}

// Protobuf groups of an unknown field (number 15) nested `depth` deep: the parser recurses into
// each group, and protobuf stops at 100 levels.
std::string NestedGroups(int depth) {
  return Repeat("\x7b", depth) + Repeat("\x7c", depth);  // start-group / end-group tags
}

TEST_F(NestedInputTest, ProtobufNestedPastItsLimitDoesNotCrash) {
  for (const char* method :
       {"/mlprod.v1.TrainingService/ListRuns", "/mlprod.v1.TrainingService/SubmitRun",
        "/mlprod.v1.InferenceService/Predict", "/mlprod.v1.ModelRegistry/RegisterModel",
        "/grpc.health.v1.Health/Check"}) {
    ExpectSurvived(std::string("protobuf groups 1e5 deep to ") + method,
                   [method](const std::shared_ptr<grpc::Channel>& channel) {
                     return RawUnaryCall(channel, method, NestedGroups(kDeep), seconds(10));
                   });
  }
}

TEST_F(NestedInputTest, PathologicalCsvDoesNotCrash) {
  const std::string five_mb(5000000, 'a');
  v1::UploadHeader header;
  header.set_name("pathological");
  auto upload = [&header](const std::string& csv) { return Upload(header, csv); };
  ExpectSurvived("CSV with an unterminated 5 MB quoted field", upload("y,x\n\"" + five_mb));
  ExpectSurvived("CSV of 5 MB of quotes", upload("y,x\n" + std::string(5000000, '"')));
  ExpectSurvived("CSV with a 5 MB field of escaped quotes",
                 upload("y,x\n1,\"" + Repeat("\"\"", 2500000) + "\"\n"));
  std::string wide;
  for (int c = 0; c < kDeep; ++c) wide += (c ? ",c" : "c") + std::to_string(c);
  ExpectSurvived("CSV of 1e5 columns", upload(wide + "\n" + Repeat("1,", kDeep - 1) + "1\n"));
}

TEST_F(NestedInputTest, PathologicalUploadOptionsDoNotCrash) {
  auto upload = [](v1::UploadHeader header) {
    header.set_name("options");
    return Upload(header, SmallCsv());
  };
  v1::UploadHeader na;
  na.set_na_values_set(true);
  for (int i = 0; i < kDeep; ++i) na.add_na_values(Numbered("na", i));
  ExpectSurvived("upload with 1e5 NA strings", upload(na));
  v1::UploadHeader long_na;
  long_na.set_na_values_set(true);
  long_na.add_na_values(std::string(kHuge, 'n'));
  ExpectSurvived("upload with a 10 MB NA string", upload(long_na));
  v1::UploadHeader schema;
  for (int i = 0; i < kDeep; ++i) {
    (*schema.mutable_schema())[Numbered("c", i)] = v1::COLUMN_TYPE_NUMERIC;
  }
  ExpectSurvived("upload with a schema of 1e5 columns", upload(schema));
  v1::UploadHeader delimiter;
  delimiter.set_delimiter(std::string(kHuge, ';'));
  ExpectRefused("upload with a 10 MB delimiter", upload(delimiter));
}

TEST_F(NestedInputTest, PathologicalPredictRowsDoNotCrash) {
  v1::PredictRequest wide;
  wide.set_model(std::string(kModel) + "@1");
  auto& fields = *wide.add_rows()->mutable_fields();
  for (int i = 0; i < kDeep; ++i) fields[Numbered("f", i)] = "1";
  fields["x"] = "1";
  ExpectRefused("predict row of 1e5 fields", Predict(wide));
  v1::PredictRequest long_value;
  long_value.set_model(std::string(kModel) + "@1");
  (*long_value.add_rows()->mutable_fields())["x"] = Nest("(", "1", ")", kHuge / 2);
  ExpectRefused("predict with a 10 MB value", Predict(long_value));
  v1::PredictRequest long_model;
  long_model.set_model(std::string(kModel) + "@" + std::string(kHuge, '9'));
  (*long_model.add_rows()->mutable_fields())["x"] = "1";
  ExpectSurvived("predict of model version 10 MB long", Predict(long_model));
}

}  // namespace
}  // namespace mlprod::hostile
