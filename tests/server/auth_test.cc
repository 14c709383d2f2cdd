// Tokens and roles through the real server on a loopback port: the role battery walks every
// method the server serves (as its reflection lists them) with every kind of credential, and
// writes record the token's name as their actor.
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>

#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "client/mlprod_client.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "registry/registry.h"
#include "server/auth/role.h"
#include "server/auth/token_authenticator.h"
#include "server/mlprod_server.h"
#include "tests/server/loopback_server.h"

namespace mlprod {
namespace {

namespace refl = grpc::reflection::v1alpha;

// One call of any kind (unary or streaming) with an empty request, through the generic stub:
// the request is one empty message and a half-close. With `end_at_first_reply` the first reply
// message ends the call (a health Watch never ends by itself).
class EmptyCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit EmptyCall(bool end_at_first_reply) : end_at_first_reply_(end_at_first_reply) {}

  grpc::Status Run(grpc::GenericStub* stub, const std::string& method,
                   grpc::ClientContext* context) {
    stub->PrepareBidiStreamingCall(context, method, {}, this);
    context_ = context;
    grpc::Slice empty;
    request_ = grpc::ByteBuffer(&empty, 1);
    StartWrite(&request_);
    StartWritesDone();
    StartRead(&reply_);
    StartCall();
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [this] { return done_; });
    return status_;
  }

  void OnReadDone(bool ok) override {
    if (ok && end_at_first_reply_) context_->TryCancel();
  }
  void OnDone(const grpc::Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    done_ = true;
    done_cv_.notify_one();
  }

 private:
  const bool end_at_first_reply_;
  grpc::ClientContext* context_ = nullptr;
  grpc::ByteBuffer request_, reply_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
  grpc::Status status_;
};

class AuthTest : public testing::LoopbackServerTest {
 protected:
  void SetUp() override {
    LoopbackServerTest::SetUp();
    // The first tokens are made on the data dir, before the server starts, as an operator does
    // with `mlprod-server token create`.
    {
      auto registry = registry::Registry::Open(data_dir());
      ASSERT_TRUE(registry.ok()) << registry.status().ToString();
      for (const char* role : {"viewer", "editor", "admin"}) {
        auto t = server::TokenAuthenticator::CreateToken(registry->get(), std::string(role) + "-t",
                                                         role, "test");
        ASSERT_TRUE(t.ok()) << t.status().ToString();
        tokens_[role] = t->secret;
      }
      auto revoked =
          server::TokenAuthenticator::CreateToken(registry->get(), "gone", "admin", "test");
      ASSERT_TRUE(revoked.ok());
      ASSERT_TRUE((*registry)->RevokeToken("gone", "test").ok());
      tokens_["revoked"] = revoked->secret;
    }
    ASSERT_NO_FATAL_FAILURE(StartServer());
    channel_ = grpc::CreateChannel(target(), grpc::InsecureChannelCredentials());
  }

  std::unique_ptr<client::MlprodClient> Client(const std::string& token) {
    client::ClientOptions options;
    options.token = token;
    options.actor = "mallory";  // what a client claims; ignored with auth on
    return NewClient(options);
  }

  // The services the server says it serves.
  std::vector<std::string> ListedServices() {
    auto stub = refl::ServerReflection::NewStub(channel_);
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + tokens_["viewer"]);
    auto stream = stub->ServerReflectionInfo(&context);
    refl::ServerReflectionRequest request;
    request.set_list_services("");
    EXPECT_TRUE(stream->Write(request));
    stream->WritesDone();
    refl::ServerReflectionResponse response;
    EXPECT_TRUE(stream->Read(&response));
    EXPECT_TRUE(stream->Finish().ok());
    std::vector<std::string> names;
    for (const auto& s : response.list_services_response().service()) names.push_back(s.name());
    return names;
  }

  std::map<std::string, std::string> tokens_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Every method a client can reach, from the served services' descriptors. Health's descriptor
// is gRPC's own (not in the generated pool): its two methods are named.
std::vector<std::string> ServedMethods(const std::vector<std::string>& services) {
  std::vector<std::string> methods;
  for (const std::string& name : services) {
    if (name == "grpc.health.v1.Health") {
      methods.push_back("/grpc.health.v1.Health/Check");
      methods.push_back("/grpc.health.v1.Health/Watch");
      continue;
    }
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    EXPECT_NE(service, nullptr) << name;
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      methods.push_back("/" + name + "/" + service->method(i)->name());
    }
  }
  return methods;
}

TEST_F(AuthTest, RoleTableCoversExactlyTheServedMethods) {
  const std::vector<std::string> services = ListedServices();
  ASSERT_GE(services.size(), 8u);
  const std::vector<std::string> served = ServedMethods(services);
  std::set<std::string> in_table;
  for (const server::MethodAccess& m : server::MethodTable()) in_table.insert(std::string(m.method));
  for (const std::string& method : served) {
    EXPECT_TRUE(in_table.count(method)) << method << " is served but missing from the role table";
  }
  for (const std::string& method : in_table) {
    EXPECT_NE(std::find(served.begin(), served.end(), method), served.end())
        << method << " is in the role table but not served";
  }
}

TEST_F(AuthTest, EveryMethodAnswersAsTheRoleTableSays) {
  grpc::GenericStub stub(channel_);
  struct Credential {
    std::string label, authorization;
    std::optional<server::Role> role;  // nullopt: not a valid token
  };
  const std::vector<Credential> credentials = {
      {"no token", "", std::nullopt},
      {"malformed token", "Bearer mlp_not-a-token", std::nullopt},
      {"revoked token", "Bearer " + tokens_["revoked"], std::nullopt},
      {"viewer", "Bearer " + tokens_["viewer"], server::Role::kViewer},
      {"editor", "Bearer " + tokens_["editor"], server::Role::kEditor},
      {"admin", "Bearer " + tokens_["admin"], server::Role::kAdmin},
  };
  const std::vector<std::string> methods = ServedMethods(ListedServices());
  ASSERT_GE(methods.size(), 28u);
  int allowed = 0;
  for (const std::string& method : methods) {
    const std::optional<server::Access> access = server::RequiredAccess(method);
    ASSERT_TRUE(access.has_value()) << method;
    for (const Credential& c : credentials) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      if (!c.authorization.empty()) context.AddMetadata("authorization", c.authorization);
      EmptyCall call(/*end_at_first_reply=*/true);
      const grpc::Status s = call.Run(&stub, method, &context);
      const std::string where = method + " with " + c.label + ": " +
                                std::to_string(s.error_code()) + " " + s.error_message();
      if (access->open || (c.role && *c.role >= access->role)) {
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << where;
        EXPECT_NE(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << where;
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << where;
        ++allowed;
      } else if (!c.role) {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << where;
      } else {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << where;
        EXPECT_NE(s.error_message().find(std::string(server::RoleName(access->role))),
                  std::string::npos)
            << where << ": the message names the role the method needs";
      }
    }
  }
  EXPECT_GT(allowed, 0);
}

TEST_F(AuthTest, WritesRecordTheTokenNameNotTheClaimedActor) {
  const std::string csv = dir_ + "/d.csv";
  {
    std::ofstream out(csv);
    out << "y,x\n";
    for (int i = 0; i < 40; ++i) out << 2 * i + (i % 3) << "," << i << "\n";
  }
  auto editor = Client(tokens_["editor"]);
  v1::UploadHeader header;
  header.set_name("d");
  v1::DatasetVersion dataset;
  ASSERT_TRUE(editor->UploadFile(header, csv, &dataset).ok());
  EXPECT_EQ(dataset.created_by(), "editor-t");

  v1::SubmitRunRequest submit;
  submit.mutable_dataset()->set_name("d");
  submit.set_formula("y ~ x");
  submit.set_test_fraction(0.25);
  v1::Run run;
  auto context = editor->NewContext();
  ASSERT_TRUE(editor->training().SubmitRun(context.get(), submit, &run).ok());
  EXPECT_EQ(run.created_by(), "editor-t");
  v1::Run last;
  ASSERT_TRUE(editor->WatchRun(run.id(), [](const v1::RunEvent&) {}, &last).ok());
  ASSERT_EQ(last.status(), v1::RUN_STATUS_SUCCEEDED) << last.error();

  v1::RegisterModelRequest reg;
  reg.set_name("m");
  reg.set_run(run.id());
  v1::ModelVersion version;
  context = editor->NewContext();
  ASSERT_TRUE(editor->registry().RegisterModel(context.get(), reg, &version).ok());
  EXPECT_EQ(version.created_by(), "editor-t");

  // An editor may not promote; an admin may, and the history names the admin's token.
  v1::PromoteRequest promote;
  promote.set_name("m");
  promote.set_version(1);
  v1::AliasChange change;
  context = editor->NewContext();
  EXPECT_EQ(editor->registry().Promote(context.get(), promote, &change).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto admin = Client(tokens_["admin"]);
  context = admin->NewContext();
  ASSERT_TRUE(admin->registry().Promote(context.get(), promote, &change).ok());
  EXPECT_EQ(change.actor(), "admin-t");
  v1::GetHistoryRequest history_request;
  history_request.set_name("m");
  v1::GetHistoryResponse history;
  context = admin->NewContext();
  ASSERT_TRUE(admin->registry().GetHistory(context.get(), history_request, &history).ok());
  ASSERT_EQ(history.entries_size(), 1);
  EXPECT_EQ(history.entries(0).actor(), "admin-t");

  v1::CreateTokenRequest create;
  create.set_name("ci");
  create.set_role("viewer");
  v1::CreatedToken created;
  context = admin->NewContext();
  ASSERT_TRUE(admin->tokens().CreateToken(context.get(), create, &created).ok());
  EXPECT_EQ(created.token().created_by(), "admin-t");
}

TEST_F(AuthTest, ARevokedTokenFailsAtOnceAndListNeverShowsASecret) {
  auto admin = Client(tokens_["admin"]);
  v1::CreateTokenRequest create;
  create.set_name("short-lived");
  create.set_role("editor");
  v1::CreatedToken created;
  auto context = admin->NewContext();
  ASSERT_TRUE(admin->tokens().CreateToken(context.get(), create, &created).ok());
  ASSERT_EQ(created.secret().rfind("mlp_", 0), 0u);
  EXPECT_GE(created.secret().size(), 4u + 16 + 1 + 43);  // 256 random bits after the selector

  auto user = Client(created.secret());
  v1::ListDatasetsResponse datasets;
  context = user->NewContext();
  ASSERT_TRUE(user->datasets().ListDatasets(context.get(), {}, &datasets).ok());

  v1::ListTokensResponse list;
  context = admin->NewContext();
  ASSERT_TRUE(admin->tokens().ListTokens(context.get(), {}, &list).ok());
  EXPECT_EQ(list.tokens_size(), 5);
  const std::string listed = list.DebugString();
  for (const auto& [role, secret] : tokens_) {
    EXPECT_EQ(listed.find(secret.substr(22)), std::string::npos) << role;
  }
  EXPECT_EQ(listed.find(created.secret().substr(22)), std::string::npos);

  v1::RevokeTokenRequest revoke;
  revoke.set_name("short-lived");
  v1::Token revoked;
  context = admin->NewContext();
  ASSERT_TRUE(admin->tokens().RevokeToken(context.get(), revoke, &revoked).ok());
  EXPECT_TRUE(revoked.revoked());
  EXPECT_EQ(revoked.revoked_by(), "admin-t");
  context = user->NewContext();
  EXPECT_EQ(user->datasets().ListDatasets(context.get(), {}, &datasets).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // A name is never given twice, so history's actors stay unambiguous.
  context = admin->NewContext();
  EXPECT_EQ(admin->tokens().CreateToken(context.get(), create, &created).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(AuthTest, ASecretOffByOneCharacterIsRefused) {
  std::string forged = tokens_["admin"];
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  auto c = Client(forged);
  v1::ListDatasetsResponse datasets;
  auto context = c->NewContext();
  EXPECT_EQ(c->datasets().ListDatasets(context.get(), {}, &datasets).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, ACallPastItsDeadlineDoesNoWork) {
  auto admin = Client(tokens_["admin"]);
  v1::CreateExperimentRequest request;
  request.set_name("late");
  v1::Experiment experiment;
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + tokens_["admin"]);
  context.set_deadline(std::chrono::system_clock::now() - std::chrono::seconds(1));
  EXPECT_EQ(admin->training().CreateExperiment(&context, request, &experiment).error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  v1::ListExperimentsResponse list;
  auto list_context = admin->NewContext();
  ASSERT_TRUE(admin->training().ListExperiments(list_context.get(), {}, &list).ok());
  for (const auto& e : list.experiments()) EXPECT_NE(e.name(), "late");
}

TEST_F(AuthTest, ReflectionNeedsAViewerAndHealthIsOpen) {
  auto stub = refl::ServerReflection::NewStub(channel_);
  grpc::ClientContext context;
  auto stream = stub->ServerReflectionInfo(&context);
  refl::ServerReflectionRequest request;
  request.set_file_containing_symbol("mlprod.v1.ModelRegistry");
  stream->Write(request);
  stream->WritesDone();
  refl::ServerReflectionResponse response;
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);

  grpc::ClientContext viewer;
  viewer.AddMetadata("authorization", "Bearer " + tokens_["viewer"]);
  stream = stub->ServerReflectionInfo(&viewer);
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  ASSERT_TRUE(stream->Read(&response));
  ASSERT_TRUE(stream->Finish().ok());
  ASSERT_GE(response.file_descriptor_response().file_descriptor_proto_size(), 1);
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(file.ParseFromString(response.file_descriptor_response().file_descriptor_proto(0)));
  EXPECT_EQ(file.name(), "mlprod/v1/registry.proto");

  // An unknown symbol is answered in the stream, as the protocol says.
  grpc::ClientContext again;
  again.AddMetadata("authorization", "Bearer " + tokens_["viewer"]);
  stream = stub->ServerReflectionInfo(&again);
  request.set_file_containing_symbol("no.such.Thing");
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.error_response().error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(stream->Finish().ok());

  // Health answers probes without a token.
  grpc::GenericStub generic(channel_);
  grpc::ClientContext probe;
  probe.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  EmptyCall check(/*end_at_first_reply=*/false);
  EXPECT_TRUE(check.Run(&generic, "/grpc.health.v1.Health/Check", &probe).ok());
}

}  // namespace
}  // namespace mlprod
