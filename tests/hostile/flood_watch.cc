#include "tests/hostile/flood_watch.h"

#include <grpcpp/generic/generic_stub.h>

#include <condition_variable>
#include <cstdio>

namespace mlprod::hostile {
namespace {

constexpr auto kProbeEvery = std::chrono::milliseconds(100);
constexpr auto kSampleEvery = std::chrono::milliseconds(20);
// Longer than the 1 s the tests allow, so that a slow answer is measured rather than cut off.
constexpr auto kProbeDeadline = std::chrono::milliseconds(5000);

// The ServingStatus in a HealthCheckResponse: field 1, a varint (absent when 0, UNKNOWN).
int ServingStatusOf(const std::string& reply) {
  if (reply.size() < 2 || reply[0] != 0x08) return 0;
  return reply[1] & 0x7f;
}

}  // namespace

std::shared_ptr<grpc::Channel> NewConnection(const std::string& address, const std::string& tag,
                                             grpc::ChannelArguments args) {
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetString("mlprod.hostile.connection", tag);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                          const std::string& request, std::chrono::milliseconds deadline,
                          std::string* reply) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  // An empty message is one empty slice: a default ByteBuffer is no message at all.
  grpc::Slice slice(request);
  grpc::ByteBuffer request_bytes(&slice, 1), reply_bytes;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request_bytes, &reply_bytes,
                 [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = std::move(s);
                   done = true;
                   cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  if (reply != nullptr && status.ok()) {
    grpc::Slice all;
    if (reply_bytes.DumpToSingleSlice(&all).ok()) {
      reply->assign(reinterpret_cast<const char*>(all.begin()), all.size());
    }
  }
  return status;
}

HealthAnswer CheckHealth(const std::string& address, std::chrono::milliseconds deadline) {
  static std::atomic<int> probes{0};
  const auto start = std::chrono::steady_clock::now();
  HealthAnswer answer;
  std::string reply;
  answer.status = RawUnaryCall(NewConnection(address, "health-" + std::to_string(probes++)),
                               "/grpc.health.v1.Health/Check", "", deadline, &reply);
  answer.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (answer.status.ok()) answer.serving_status = ServingStatusOf(reply);
  return answer;
}

FloodWatch::FloodWatch(const ServerProcess& server) : address_(server.address()), server_(server) {
  report_.start_rss_kib = server.RssKib();
  report_.peak_rss_kib = report_.start_rss_kib;
  prober_ = std::thread([this] { Probe(); });
  sampler_ = std::thread([this] { SampleRss(); });
}

FloodWatch::~FloodWatch() {
  if (prober_.joinable()) Stop();
}

FloodWatch::Report FloodWatch::Stop() {
  stop_ = true;
  prober_.join();
  sampler_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return report_;
}

void FloodWatch::Probe() {
  // At least one check, however short the flood.
  do {
    const auto next = std::chrono::steady_clock::now() + kProbeEvery;
    HealthAnswer answer = CheckHealth(address_, kProbeDeadline);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++report_.checks;
      report_.worst_seconds = std::max(report_.worst_seconds, answer.seconds);
      if (!answer.status.ok() || answer.serving_status != 1) {
        if (report_.failures++ == 0) {
          report_.first_failure = answer.status.ok()
                                      ? "serving status " + std::to_string(answer.serving_status)
                                      : "code " + std::to_string(answer.status.error_code()) +
                                            ": " + answer.status.error_message();
        }
      }
    }
    std::this_thread::sleep_until(next);
  } while (!stop_);
}

void FloodWatch::SampleRss() {
  while (!stop_) {
    const long rss = server_.RssKib();
    {
      std::lock_guard<std::mutex> lock(mu_);
      report_.peak_rss_kib = std::max(report_.peak_rss_kib, rss);
    }
    std::this_thread::sleep_for(kSampleEvery);
  }
}

void PrintReport(const std::string& flood, const FloodWatch::Report& r) {
  std::printf(
      "[hostile] %s: health %d checks, %d failed, worst %.3f s; server RSS %.1f MiB before, peak "
      "%.1f MiB\n",
      flood.c_str(), r.checks, r.failures, r.worst_seconds, r.start_rss_kib / 1024.0,
      r.peak_rss_kib / 1024.0);
  std::fflush(stdout);
}

}  // namespace mlprod::hostile
