// StreamFlood: many long-lived calls at once, from one thread. Each call is an UploadDataset
// stream that sends its header and then nothing: the server holds a handler (and its ingest)
// for it until the client goes away, which is what a slow or malicious uploader costs it.
// Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mlprod/v1/datasets.grpc.pb.h"

namespace mlprod::hostile {

class StreamFlood {
 public:
  StreamFlood();
  // Cancels what is still open and waits for every call to end.
  ~StreamFlood();

  // Opens `streams` calls on one new connection to `address` (its own TCP connection).
  void Open(const std::string& address, int streams);

  struct Tally {
    int waiting = 0;  // not started yet: gRPC queues calls beyond the server's stream limit
    int held = 0;     // header sent, call open on the server
    std::map<grpc::StatusCode, int> ended;  // ended by the server, by code
  };
  Tally Count();

  // Waits until the tally has not changed for `quiet` (every call started or ended, or queued
  // for good), up to `budget`.
  void WaitSettled(std::chrono::milliseconds quiet, std::chrono::milliseconds budget);

  // Cancels every call still open and waits until all have ended.
  void CancelAll();

 private:
  struct Call;
  enum class Op { kStart, kWrite, kFinish };
  struct Tag {
    Call* call;
    Op op;
  };
  void Drain();
  void OnEvent(Tag* tag, bool ok);

  grpc::CompletionQueue cq_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::mutex mu_;
  std::deque<std::unique_ptr<Call>> calls_;  // GUARDED_BY(mu_); stable addresses for the tags
  int ended_ = 0;                            // GUARDED_BY(mu_)
  int changes_ = 0;                          // GUARDED_BY(mu_): events seen, for WaitSettled
  std::thread drainer_;
};

}  // namespace mlprod::hostile
