// ServerMetrics: what an SRE scrapes (SPEC §9), in Prometheus' text exposition format 0.0.4.
//
// Counters and histograms are recorded by the services as they work; gauges are read when the
// text is rendered. prometheus-cpp is not in Debian 12, and the format is small: this class is
// its registry and renderer, and metrics_http.h serves it. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlprod::server {

class ServerMetrics {
 public:
  // One finished gRPC call: `method` as gRPC names it ("/mlprod.v1.InferenceService/Predict"),
  // `code` its status code's name ("OK", "NOT_FOUND", …), `seconds` from its start to its status.
  void RecordRpc(std::string_view method, std::string_view code, double seconds);
  // Rows predicted by `model`@`version`.
  void RecordPredictions(std::string_view model, int version, size_t rows);
  // A training run that ended: `kind` ("ols", …), `status` ("SUCCEEDED", "FAILED", "CANCELLED"),
  // `seconds` of running.
  void RecordRunEnded(std::string_view kind, std::string_view status, double seconds);
  // A gauge read at each render.
  void AddGauge(std::string name, std::string help, std::function<double()> read);

  // Every metric, with HELP and TYPE lines, in a stable order.
  std::string Render() const;

 private:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  struct Histogram {
    std::vector<uint64_t> buckets;  // per upper bound, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  struct Gauge {
    std::string name, help;
    std::function<double()> read;
  };

  // Every call records into these: keyed by the label values themselves (transparent
  // comparators), so a call finds its counters without building a key; labels are built only
  // when rendering.
  struct MethodStats {
    std::map<std::string, uint64_t, std::less<>> calls_by_code;
    Histogram seconds;
  };

  mutable std::mutex mu_;
  std::map<std::string, MethodStats, std::less<>> rpcs_;                       // GUARDED_BY(mu_)
  std::map<std::string, std::map<int, uint64_t>, std::less<>> predictions_;  // GUARDED_BY(mu_)
  std::map<Labels, uint64_t> runs_;                  // GUARDED_BY(mu_) (kind, status)
  std::map<Labels, Histogram> run_seconds_;          // GUARDED_BY(mu_) (kind)
  std::vector<Gauge> gauges_;                        // GUARDED_BY(mu_)
};

}  // namespace mlprod::server
