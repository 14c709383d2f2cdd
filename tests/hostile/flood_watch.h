// What a flood does to the server, seen from outside: whether grpc.health.v1 keeps answering
// (and how slowly at worst) and how much memory the server process holds.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "tests/hostile/server_process.h"

namespace mlprod::hostile {

// A fresh channel that gRPC shares with no other: its own subchannel pool, so its own TCP
// connection, and `tag` in its arguments to tell it apart.
std::shared_ptr<grpc::Channel> NewConnection(const std::string& address, const std::string& tag,
                                             grpc::ChannelArguments args = {});

// One unary call of `method` ("/pkg.Service/Method") with `request` as the message's bytes,
// through the generic stub; the reply's bytes go to *reply when given.
grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                          const std::string& request, std::chrono::milliseconds deadline,
                          std::string* reply = nullptr);

struct HealthAnswer {
  grpc::Status status;
  int serving_status = 0;  // grpc.health.v1 ServingStatus: 1 SERVING, 2 NOT_SERVING
  double seconds = 0;      // connect and call, as a prober sees it
};

// One grpc.health.v1.Health/Check on its own new connection.
HealthAnswer CheckHealth(const std::string& address, std::chrono::milliseconds deadline);

// While alive, checks health every ~100 ms on a new connection each time (as a load balancer
// would) and samples the server's VmRSS every ~20 ms. Thread-safe.
class FloodWatch {
 public:
  struct Report {
    int checks = 0;
    int failures = 0;           // checks that did not answer SERVING
    std::string first_failure;  // what the first of them got
    double worst_seconds = 0;   // the slowest check
    long start_rss_kib = 0;     // VmRSS when the watch began
    long peak_rss_kib = 0;      // the highest VmRSS sampled
  };

  explicit FloodWatch(const ServerProcess& server);
  ~FloodWatch();

  // Stops both threads and reports. Call once.
  Report Stop();

 private:
  void Probe();
  void SampleRss();

  const std::string address_;
  const ServerProcess& server_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  Report report_;  // GUARDED_BY(mu_)
  std::thread prober_, sampler_;
};

// One line on stdout naming the flood and its figures, for the test log and the report.
void PrintReport(const std::string& flood, const FloodWatch::Report& report);

}  // namespace mlprod::hostile
