// mlprod_serve_bench: serving overhead against the transport ceiling, and promotion under load
// (SPEC §10). bench/run_bench.py starts a real mlprod-server with two registered versions of a
// model, and this binary twice:
//
//   mlprod_serve_bench --echo-server [--tls-cert PEM --tls-key PEM]
//       An InferenceService whose Predict answers at once with one prediction per request row
//       (the same response mlprod sends, without the work): the gRPC transport ceiling on this
//       machine, built the same way as mlprod-server's InferenceService (callback API, the
//       transport limits mlprod-server applies by default), over TLS when given a certificate. Prints "listening on ADDR" and serves until
//       its stdin closes.
//
//   mlprod_serve_bench --mlprod ADDR --echo ADDR --model NAME --row k=v,... [--row ...]
//                      [--token T] [--tls-ca PEM] [--single-row-only 1]
//       Closed-loop load at 1, 8 and 64 requests in flight (one row per request), then batches
//       of --batch-rows rows at 1 in flight, each --reps x --seconds against the echo service and
//       against mlprod, in --rounds (default 4 x reps) paired windows on one channel each (the
//       ratio is the median over rounds); then --promotions promotes of NAME's
//       production alias between versions 1 and 2 (forced, so the gate never refuses) while 8
//       requests stay in flight. Prints one JSON document. --token sends `authorization: Bearer T`
//       on every call (to the echo too, so both carry the same bytes); --tls-ca dials both over
//       TLS; --single-row-only 1 measures the 1, 8 and 64 in-flight points and stops.
//
// A request counts as failed when its status is not OK; as mixed when its predictions are not
// all exactly those of the version the reply names (each version's answer is read once before
// the load, from NAME@1 and NAME@2).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlprod/v1/inference.grpc.pb.h"
#include "mlprod/v1/registry.grpc.pb.h"
#include "server/mlprod_server.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
namespace v1 = mlprod::v1;

class EchoInference final : public v1::InferenceService::CallbackService {
  grpc::ServerUnaryReactor* Predict(grpc::CallbackServerContext* context,
                                    const v1::PredictRequest* request,
                                    v1::PredictResponse* response) override {
    response->set_model(request->model());
    response->set_version(1);
    for (int i = 0; i < request->rows_size(); ++i) response->add_predictions()->set_value(0);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  if (!in || bytes.str().empty()) {
    std::cerr << "cannot read " << path << "\n";
    std::exit(2);
  }
  return bytes.str();
}

int RunEchoServer(const std::map<std::string, std::string>& flags) {
  EchoInference service;
  int port = 0;
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (flags.count("--tls-cert")) {
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back(
        {ReadFile(flags.at("--tls-key")), ReadFile(flags.at("--tls-cert"))});
    credentials = grpc::SslServerCredentials(ssl);
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", credentials, &port);
  // The transport mlprod-server sets up with its default limits (connection idle and age,
  // keepalive, stream and metadata caps, ...): the ceiling is the same gRPC server, doing no work.
  mlprod::server::ApplyLimits(mlprod::server::ServerLimits{}, &builder);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return 1;
  std::cout << "listening on 127.0.0.1:" << port << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return 0;
}

// "k=v,k=v" -> a Record.
v1::Record ParseRow(const std::string& text) {
  v1::Record record;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string pair = text.substr(start, end - start);
    const size_t eq = pair.find('=');
    if (eq != std::string::npos) (*record.mutable_fields())[pair.substr(0, eq)] = pair.substr(eq + 1);
    start = end + 1;
  }
  return record;
}

// Per version, the exact predictions a request must get back.
using Expected = std::map<int, std::vector<double>>;

bool SameBits(const v1::PredictResponse& response, const std::vector<double>& want) {
  if (response.predictions_size() != static_cast<int>(want.size())) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    const double got = response.predictions(static_cast<int>(i)).value();
    if (std::memcmp(&got, &want[i], sizeof got) != 0) return false;
  }
  return true;
}

struct LoadResult {
  double seconds = 0;
  uint64_t ok = 0, failed = 0, mixed = 0;
  std::vector<double> latency_us;
  std::vector<double> done_at_s;  // completion times since the start
  std::map<int, uint64_t> versions;
};

// `inflight` callers, each issuing its next call when the previous one completes, until
// `seconds` have passed. Calls run on gRPC's callback threads; each caller keeps its own record.
// How every call of this benchmark dials and authenticates.
struct Dialing {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  std::string authorization;  // "Bearer <token>", or empty

  std::unique_ptr<grpc::ClientContext> NewContext() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!authorization.empty()) context->AddMetadata("authorization", authorization);
    return context;
  }
};

LoadResult ClosedLoop(v1::InferenceService::Stub* stub, const v1::PredictRequest& request,
                      int inflight, double seconds, const Expected* expected,
                      const Dialing& dialing) {
  struct Caller {
    std::unique_ptr<grpc::ClientContext> context;
    v1::PredictResponse response;
    Clock::time_point sent;
    LoadResult result;
  };
  std::vector<Caller> callers(static_cast<size_t>(inflight));
  const Clock::time_point start = Clock::now();
  const Clock::time_point stop = start + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(seconds));
  std::mutex mu;
  std::condition_variable all_done;
  int running = inflight;

  std::function<void(Caller*)> send = [&](Caller* c) {
    c->context = dialing.NewContext();
    c->response.Clear();
    c->sent = Clock::now();
    stub->async()->Predict(c->context.get(), &request, &c->response, [&, c](grpc::Status status) {
      const Clock::time_point now = Clock::now();
      LoadResult& r = c->result;
      r.latency_us.push_back(std::chrono::duration<double, std::micro>(now - c->sent).count());
      r.done_at_s.push_back(std::chrono::duration<double>(now - start).count());
      if (!status.ok()) {
        ++r.failed;
      } else {
        ++r.ok;
        ++r.versions[c->response.version()];
        if (expected != nullptr) {
          auto want = expected->find(c->response.version());
          if (want == expected->end() || !SameBits(c->response, want->second)) ++r.mixed;
        }
      }
      if (now < stop) {
        send(c);
        return;
      }
      std::lock_guard<std::mutex> lock(mu);
      if (--running == 0) all_done.notify_all();
    });
  };
  for (Caller& c : callers) send(&c);
  {
    std::unique_lock<std::mutex> lock(mu);
    all_done.wait(lock, [&] { return running == 0; });
  }
  LoadResult total;
  total.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (Caller& c : callers) {
    LoadResult& r = c.result;
    total.ok += r.ok;
    total.failed += r.failed;
    total.mixed += r.mixed;
    total.latency_us.insert(total.latency_us.end(), r.latency_us.begin(), r.latency_us.end());
    total.done_at_s.insert(total.done_at_s.end(), r.done_at_s.begin(), r.done_at_s.end());
    for (const auto& [version, n] : r.versions) total.versions[version] += n;
  }
  return total;
}

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  const size_t k = std::min(values.size() - 1, static_cast<size_t>(q * values.size()));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

// Requests per second in each `window`-second slice of the run (the last, partial one dropped).
std::vector<double> WindowRates(const LoadResult& r, double window) {
  const size_t n = static_cast<size_t>(r.seconds / window);
  std::vector<double> rates(n, 0);
  for (double t : r.done_at_s) {
    const size_t w = static_cast<size_t>(t / window);
    if (w < n) rates[w] += 1 / window;
  }
  return rates;
}

json Summary(const LoadResult& r, int rows_per_request) {
  const double calls = static_cast<double>(r.ok + r.failed);
  json versions = json::object();
  for (const auto& [version, n] : r.versions) versions[std::to_string(version)] = n;
  return {{"seconds", r.seconds},
          {"requests", r.ok + r.failed},
          {"failed", r.failed},
          {"mixed", r.mixed},
          {"qps", calls / r.seconds},
          {"rows_per_s", calls * rows_per_request / r.seconds},
          {"p50_us", Quantile(r.latency_us, 0.50)},
          {"p99_us", Quantile(r.latency_us, 0.99)},
          {"versions", versions}};
}

std::unique_ptr<v1::InferenceService::Stub> Connect(const std::string& address,
                                                    const Dialing& dialing) {
  // One channel per target, as a service calling mlprod would hold.
  return v1::InferenceService::NewStub(grpc::CreateChannel(address, dialing.credentials));
}

// The predictions NAME@version gives for `request`'s rows, exactly.
std::vector<double> Answer(v1::InferenceService::Stub* stub, v1::PredictRequest request,
                           const std::string& model, int version, const Dialing& dialing) {
  request.set_model(model + "@" + std::to_string(version));
  v1::PredictResponse response;
  const grpc::Status status = stub->Predict(dialing.NewContext().get(), request, &response);
  if (!status.ok()) {
    std::cerr << "predict " << request.model() << ": " << status.error_message() << "\n";
    std::exit(1);
  }
  std::vector<double> values;
  for (const v1::Prediction& p : response.predictions()) values.push_back(p.value());
  return values;
}

int RunLoad(const std::map<std::string, std::string>& flags, const std::vector<std::string>& rows) {
  const std::string model = flags.at("--model");
  const double seconds = std::stod(flags.count("--seconds") ? flags.at("--seconds") : "2");
  const int batch_rows = std::stoi(flags.count("--batch-rows") ? flags.at("--batch-rows") : "1000");
  const int promotions = std::stoi(flags.count("--promotions") ? flags.at("--promotions") : "100");
  const int reps = std::max(1, std::stoi(flags.count("--reps") ? flags.at("--reps") : "3"));
  Dialing dialing;
  if (flags.count("--token")) dialing.authorization = "Bearer " + flags.at("--token");
  if (flags.count("--tls-ca")) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(flags.at("--tls-ca"));
    dialing.credentials = grpc::SslCredentials(ssl);
  }
  auto mlprod = Connect(flags.at("--mlprod"), dialing);
  auto echo = Connect(flags.at("--echo"), dialing);

  v1::PredictRequest single, batch;
  single.set_model(model);
  batch.set_model(model);
  *single.add_rows() = ParseRow(rows.front());
  for (int i = 0; i < batch_rows; ++i) *batch.add_rows() = ParseRow(rows[i % rows.size()]);

  json out;
  out["rows"] = rows;
  out["seconds_per_point"] = seconds;
  // Warm both (channels connected, model loaded), then alternate echo and mlprod at each level.
  ClosedLoop(echo.get(), single, 8, 0.3, nullptr, dialing);
  ClosedLoop(mlprod.get(), single, 8, 0.3, nullptr, dialing);
  // Paired rounds: each point runs `rounds` short windows on each server (reps x seconds in all
  // per server), echo and mlprod back to back, the order swapping every round (ABBA), so that a
  // shift in the shared machine's speed falls on both alike. The ratio is the median over rounds
  // of mlprod's rate over the echo's in the same round; the qps shown are each side's best round.
  const int rounds = std::max(1, std::stoi(flags.count("--rounds") ? flags.at("--rounds")
                                                                    : std::to_string(4 * reps)));
  const double window = seconds * reps / rounds;
  auto point = [&](const v1::PredictRequest& request, int inflight, int rows) {
    json best_echo, best_mlprod;
    std::vector<double> ratios;
    for (int r = 0; r < rounds; ++r) {
      json e, m;
      auto run = [&](v1::InferenceService::Stub* stub) {
        return Summary(ClosedLoop(stub, request, inflight, window, nullptr, dialing), rows);
      };
      if (r % 2 == 0) {
        e = run(echo.get());
        m = run(mlprod.get());
      } else {
        m = run(mlprod.get());
        e = run(echo.get());
      }
      ratios.push_back(m["qps"].get<double>() / e["qps"].get<double>());
      if (best_echo.is_null() || e["qps"] > best_echo["qps"]) best_echo = e;
      if (best_mlprod.is_null() || m["qps"] > best_mlprod["qps"]) best_mlprod = m;
    }
    std::sort(ratios.begin(), ratios.end());
    const size_t half = ratios.size() / 2;
    const double median = ratios.size() % 2 == 1 ? ratios[half]
                                                 : (ratios[half - 1] + ratios[half]) / 2;
    std::cerr << "  " << rows << " row(s) per request, " << inflight << " in flight: echo "
              << best_echo["qps"].get<double>() << " qps, mlprod "
              << best_mlprod["qps"].get<double>() << " qps, median ratio " << median << "\n";
    return json{{"inflight", inflight}, {"rows", rows},          {"echo", best_echo},
                {"mlprod", best_mlprod}, {"ratio_median", median}, {"ratios", ratios}};
  };
  for (int inflight : {1, 8, 64}) out["single_row"].push_back(point(single, inflight, 1));
  if (flags.count("--single-row-only") && flags.at("--single-row-only") == "1") {
    std::cout << out.dump() << std::endl;
    return 0;
  }
  out["batch"] = point(batch, 1, batch_rows);

  // Promotion under load: 8 in flight on NAME (its production alias), baseline first, then the
  // same load while another thread promotes 2, 1, 2, 1, ... `promotions` times.
  v1::PredictRequest probe = batch;
  probe.mutable_rows()->DeleteSubrange(std::min(8, probe.rows_size()),
                                       std::max(0, probe.rows_size() - 8));
  const Expected expected = {{1, Answer(mlprod.get(), probe, model, 1, dialing)},
                             {2, Answer(mlprod.get(), probe, model, 2, dialing)}};
  const LoadResult before = ClosedLoop(mlprod.get(), probe, 8, seconds, &expected, dialing);
  auto registry =
      v1::ModelRegistry::NewStub(grpc::CreateChannel(flags.at("--mlprod"), dialing.credentials));
  std::atomic<bool> promoting{true};
  std::atomic<int> promoted{0}, refused{0};
  std::vector<double> promote_ms;
  std::thread promoter([&] {
    for (int i = 0; i < promotions; ++i) {
      v1::PromoteRequest request;
      request.set_name(model);
      request.set_version(i % 2 == 0 ? 2 : 1);
      request.set_reason("serve bench");
      request.set_force(true);
      v1::AliasChange change;
      const Clock::time_point t0 = Clock::now();
      const grpc::Status status = registry->Promote(dialing.NewContext().get(), request, &change);
      promote_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      (status.ok() ? promoted : refused)++;
    }
    promoting = false;
  });
  // The load runs until the promotions are done (at least `seconds`).
  LoadResult during;
  const Clock::time_point t0 = Clock::now();
  double remaining = seconds;
  for (;;) {
    LoadResult part = ClosedLoop(mlprod.get(), probe, 8, remaining, &expected, dialing);
    const double offset = std::chrono::duration<double>(Clock::now() - t0).count() - part.seconds;
    during.ok += part.ok;
    during.failed += part.failed;
    during.mixed += part.mixed;
    during.latency_us.insert(during.latency_us.end(), part.latency_us.begin(),
                             part.latency_us.end());
    for (double t : part.done_at_s) during.done_at_s.push_back(t + offset);
    for (const auto& [version, n] : part.versions) during.versions[version] += n;
    if (!promoting) break;
    remaining = 0.2;
  }
  promoter.join();
  during.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const std::vector<double> base_windows = WindowRates(before, 0.1);
  const std::vector<double> windows = WindowRates(during, 0.1);
  json promotion = {{"promotions", promotions},
                    {"promoted", promoted.load()},
                    {"refused", refused.load()},
                    {"promote_p50_ms", Quantile(promote_ms, 0.5)},
                    {"promote_p99_ms", Quantile(promote_ms, 0.99)},
                    {"rows_per_request", probe.rows_size()},
                    {"before", Summary(before, probe.rows_size())},
                    {"during", Summary(during, probe.rows_size())}};
  promotion["min_window_qps_before"] =
      base_windows.empty() ? 0 : *std::min_element(base_windows.begin(), base_windows.end());
  promotion["min_window_qps_during"] =
      windows.empty() ? 0 : *std::min_element(windows.begin(), windows.end());
  out["promotion"] = promotion;
  std::cout << out.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  std::vector<std::string> rows;
  bool echo_server = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--echo-server") {
      echo_server = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "usage: see the comment at the top of bench/serve_bench.cc\n";
      return 2;
    }
    if (arg == "--row") {
      rows.push_back(argv[++i]);
    } else {
      flags[arg] = argv[++i];
    }
  }
  if (echo_server) return RunEchoServer(flags);
  for (const char* required : {"--mlprod", "--echo", "--model"}) {
    if (!flags.count(required) || rows.empty()) {
      std::cerr << "needs --mlprod ADDR --echo ADDR --model NAME --row k=v,...\n";
      return 2;
    }
  }
  return RunLoad(flags, rows);
}
