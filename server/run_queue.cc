#include "server/run_queue.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "ml/model.h"
#include "server/run_report.h"

namespace mlprod::server {

RunQueue::RunQueue(registry::Registry* registry, DatasetCache* cache, ServerMetrics* metrics,
                   int workers, const ml::FormulaLimits& formula_limits)
    : registry_(registry), cache_(cache), metrics_(metrics), formula_limits_(formula_limits) {
  for (int i = 0; i < std::max(1, workers); ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

RunQueue::~RunQueue() { Stop(); }

void RunQueue::Enqueue(const std::string& run_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(run_id);
    live_[run_id];
  }
  work_cv_.notify_one();
}

Status RunQueue::Cancel(const std::string& run_id) {
  std::unique_lock<std::mutex> lock(mu_);
  auto queued = std::find(queue_.begin(), queue_.end(), run_id);
  if (queued != queue_.end()) {
    queue_.erase(queued);
    lock.unlock();
    Status s = registry_->EndRun(run_id, registry::RunStatus::kCancelled, "cancelled by request");
    MarkEnded(run_id);
    return s;
  }
  if (running_.count(run_id) == 0) {
    return Status::FailedPrecondition("run " + run_id + " is not queued or running");
  }
  live_[run_id].cancel_requested = true;
  return Status::Ok();
}

RunQueue::Progress RunQueue::WaitForProgress(const std::string& run_id, size_t seen_lines,
                                             std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  auto has_news = [&] {
    auto it = live_.find(run_id);
    return it != live_.end() && (it->second.ended || it->second.lines.size() > seen_lines);
  };
  progress_cv_.wait_for(lock, timeout, has_news);
  Progress out;
  auto it = live_.find(run_id);
  if (it == live_.end()) return out;  // not queued here (yet): the caller reads the stored state
  out.progress = it->second.progress;
  out.ended = it->second.ended;
  if (it->second.lines.size() > seen_lines) {
    out.lines.assign(it->second.lines.begin() + static_cast<std::ptrdiff_t>(seen_lines),
                     it->second.lines.end());
  }
  return out;
}

void RunQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  // Runs still queued end now rather than at the next start, so their watchers see the end.
  std::deque<std::string> queued;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued.swap(queue_);
  }
  for (const std::string& run_id : queued) {
    Status s = registry_->EndRun(run_id, registry::RunStatus::kFailed, "interrupted");
    if (!s.ok()) spdlog::error("run {}: {}", run_id, s.ToString());
    MarkEnded(run_id);
  }
}

int RunQueue::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(queue_.size());
}

int RunQueue::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(running_.size());
}

void RunQueue::WorkerLoop() {
  for (;;) {
    std::string run_id;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      run_id = queue_.front();
      queue_.pop_front();
      running_.insert(run_id);
    }
    const auto started = std::chrono::steady_clock::now();
    Execute(run_id);
    if (auto run = registry_->GetRun(run_id); run.ok()) {
      metrics_->RecordRunEnded(
          run->kind, registry::RunStatusName(run->status),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_.erase(run_id);
    }
    MarkEnded(run_id);
  }
}

bool RunQueue::Report(const std::string& run_id, double progress, const std::string& line) {
  bool keep_going;
  {
    std::lock_guard<std::mutex> lock(mu_);
    LiveRun& live = live_[run_id];
    live.progress = progress;
    if (!line.empty()) live.lines.push_back({progress, line});
    keep_going = !live.cancel_requested && !stopping_;
  }
  progress_cv_.notify_all();
  return keep_going;
}

void RunQueue::MarkEnded(const std::string& run_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    live_[run_id].ended = true;
  }
  progress_cv_.notify_all();
}

Status RunQueue::EndRunDurably(const std::string& run_id, registry::RunStatus status,
                               const std::string& error) {
  // A full disk can refuse the very write that records why the run failed; space often comes
  // back (the failed model's temporary file is gone), so try again for a while rather than
  // leave the run RUNNING until the next start.
  constexpr int kAttempts = 30;
  Status s;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    s = registry_->EndRun(run_id, status, error);
    if (s.ok() || s.code() == StatusCode::kFailedPrecondition) return s;
    spdlog::warn("run {}: storing its end failed (attempt {} of {}): {}", run_id, attempt,
                 kAttempts, s.ToString());
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (work_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) break;
    }
  }
  return s;
}

void RunQueue::Execute(const std::string& run_id) {
  auto fail = [&](const Status& s) {
    Status stored = EndRunDurably(run_id, registry::RunStatus::kFailed, s.ToString());
    if (!stored.ok()) spdlog::error("run {}: could not store failure: {}", run_id, stored.ToString());
    spdlog::info("run {} FAILED: {}", run_id, s.ToString());
  };

  Status s = registry_->MarkRunRunning(run_id);
  if (!s.ok()) {
    spdlog::warn("run {} not started: {}", run_id, s.ToString());
    return;
  }
  auto run = registry_->GetRun(run_id);
  if (!run.ok()) return fail(run.status());
  auto dataset = registry_->GetDatasetVersion(run->dataset_name, run->dataset_version);
  if (!dataset.ok()) return fail(dataset.status());
  Report(run_id, 0.05, "loading dataset " + run->dataset_name + "@" +
                           std::to_string(run->dataset_version));
  auto frame = cache_->Get(*dataset);
  if (!frame.ok()) return fail(frame.status());

  ml::TrainOptions options;
  options.formula = run->formula;
  options.kind = run->kind;
  options.params = run->params;
  auto missing = ml::ParseMissingStrategy(run->missing);
  if (!missing.ok()) return fail(missing.status());
  options.missing = *missing;
  options.test_fraction = run->test_fraction;
  options.seed = run->seed;
  options.formula_limits = formula_limits_;
  s = ml::TakePlanParams(&options);  // cv_folds, select, criterion live in the params map
  if (!s.ok()) return fail(s);

  auto trained = ml::Train(**frame, options, [&](double progress, const std::string& line) {
    return Report(run_id, 0.1 + 0.8 * progress, line);
  });
  if (!trained.ok()) {
    bool shutting_down;
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutting_down = stopping_;
    }
    if (trained.status().code() == StatusCode::kCancelled) {
      const auto status = shutting_down ? registry::RunStatus::kFailed
                                        : registry::RunStatus::kCancelled;
      const char* reason = shutting_down ? "interrupted" : "cancelled by request";
      s = EndRunDurably(run_id, status, reason);
      if (!s.ok()) spdlog::error("run {}: {}", run_id, s.ToString());
      spdlog::info("run {} {}", run_id, reason);
      return;
    }
    return fail(trained.status());
  }
  const ml::TrainOutput& out = *trained;
  s = registry_->CompleteRun(run_id, out.report.metrics, EncodeReport(out.report, *out.model),
                             out.model->Serialize());
  if (!s.ok()) return fail(s);
  Report(run_id, 1.0, "run " + run_id + " SUCCEEDED");
  spdlog::info("run {} SUCCEEDED", run_id);
}

}  // namespace mlprod::server
