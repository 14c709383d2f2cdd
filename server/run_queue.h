// RunQueue: the bounded pool of workers that executes training runs, and the live progress of
// each run that WatchRun streams.
//
// A run is stored QUEUED by the service, then Enqueue()d; a worker marks it RUNNING, fits it and
// stores the outcome (SUCCEEDED with model and report, FAILED with the reason, or CANCELLED).
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ml/formula_limits.h"
#include "registry/registry.h"
#include "server/dataset_cache.h"
#include "server/metrics.h"

namespace mlprod::server {

class RunQueue {
 public:
  // Starts `workers` threads. `registry`, `cache` and `metrics` (where each ended run is
  // counted) outlive the queue. Runs parse their formula within `formula_limits`, the ones
  // SubmitRun checked them against.
  RunQueue(registry::Registry* registry, DatasetCache* cache, ServerMetrics* metrics,
           int workers, const ml::FormulaLimits& formula_limits = {});
  ~RunQueue();  // Stop()

  RunQueue(const RunQueue&) = delete;
  RunQueue& operator=(const RunQueue&) = delete;

  // Queues a run already stored as QUEUED.
  void Enqueue(const std::string& run_id);

  // Stops a queued run at once, or asks a running fit to stop at its next progress point; the
  // run ends CANCELLED. FAILED_PRECONDITION when the run is not queued or running here.
  Status Cancel(const std::string& run_id);

  struct LogLine {
    double progress = 0;  // the run's progress when the line was written
    std::string text;
  };
  struct Progress {
    double progress = 0;
    std::vector<LogLine> lines;  // log lines from index `seen_lines` on
    bool ended = false;          // the worker has finished with the run
  };
  // Waits up to `timeout` for a run to log past `seen_lines` or end, and returns what is new.
  Progress WaitForProgress(const std::string& run_id, size_t seen_lines,
                           std::chrono::milliseconds timeout);

  // Stops taking work; running fits stop, and they and the queued runs end FAILED
  // "interrupted" (a run a crash left QUEUED or RUNNING is marked at the next start-up). Joins
  // the workers. Idempotent.
  void Stop();

  int queued() const;
  int running() const;
  int workers() const { return static_cast<int>(threads_.size()); }

 private:
  struct LiveRun {
    double progress = 0;
    std::vector<LogLine> lines;
    bool ended = false;
    bool cancel_requested = false;
  };

  void WorkerLoop();
  void Execute(const std::string& run_id);
  // Returns false when the run should stop (cancel or shutdown).
  bool Report(const std::string& run_id, double progress, const std::string& line);
  void MarkEnded(const std::string& run_id);
  // EndRun, tried again each second for up to 30 s (or until Stop) while storage refuses it.
  Status EndRunDurably(const std::string& run_id, registry::RunStatus status,
                       const std::string& error);

  registry::Registry* const registry_;
  DatasetCache* const cache_;
  ServerMetrics* const metrics_;
  const ml::FormulaLimits formula_limits_;
  std::vector<std::thread> threads_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;      // signals workers: queue_ or stopping_ changed
  std::condition_variable progress_cv_;  // signals watchers: some LiveRun changed
  std::deque<std::string> queue_;        // GUARDED_BY(mu_)
  std::set<std::string> running_;        // GUARDED_BY(mu_)
  std::map<std::string, LiveRun> live_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                // GUARDED_BY(mu_)
};

}  // namespace mlprod::server
