#include "server/metrics.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

namespace mlprod::server {
namespace {

// Upper bounds in seconds: a prediction takes tens of microseconds, an upload or a fit minutes.
constexpr std::array<double, 18> kRpcBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                               0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                               1,      2.5,     5,      10,    30,     60};
constexpr std::array<double, 10> kRunBounds = {0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600};

std::string Escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// `{a="x",b="y"}` plus `extra` (already formatted, e.g. `le="0.5"`) last; "" for no labels.
std::string LabelText(const std::vector<std::pair<std::string, std::string>>& labels,
                      const std::string& extra = "") {
  std::string out;
  for (const auto& [name, value] : labels) {
    out += (out.empty() ? "" : ",") + name + "=\"" + Escape(value) + "\"";
  }
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? "" : "{" + out + "}";
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  return fmt::format("{}", v);
}

void Header(std::string* out, const std::string& name, const std::string& type,
            const std::string& help) {
  *out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

template <typename Map>
void RenderCounters(std::string* out, const std::string& name, const std::string& help,
                    const Map& values) {
  Header(out, name, "counter", help);
  for (const auto& [labels, n] : values) *out += name + LabelText(labels) + " " + Number(n) + "\n";
}

template <typename Map, size_t N>
void RenderHistograms(std::string* out, const std::string& name, const std::string& help,
                      const std::array<double, N>& bounds, const Map& values) {
  Header(out, name, "histogram", help);
  for (const auto& [labels, h] : values) {
    uint64_t cumulative = 0;
    for (size_t b = 0; b < N; ++b) {
      cumulative += h.buckets[b];
      *out += name + "_bucket" + LabelText(labels, "le=\"" + Number(bounds[b]) + "\"") + " " +
              Number(static_cast<double>(cumulative)) + "\n";
    }
    *out += name + "_bucket" + LabelText(labels, "le=\"+Inf\"") + " " +
            Number(static_cast<double>(h.count)) + "\n";
    *out += name + "_sum" + LabelText(labels) + " " + Number(h.sum) + "\n";
    *out += name + "_count" + LabelText(labels) + " " + Number(static_cast<double>(h.count)) + "\n";
  }
}

// The entry of `map` for `key`, created on first use; no allocation once it exists.
template <typename Map>
typename Map::mapped_type& Slot(Map* map, std::string_view key) {
  auto it = map->find(key);
  if (it == map->end()) it = map->emplace(std::string(key), typename Map::mapped_type{}).first;
  return it->second;
}

template <typename Histogram, size_t N>
void Observe(Histogram* h, const std::array<double, N>& bounds, double value) {
  if (h->buckets.empty()) h->buckets.assign(N, 0);
  const size_t b = static_cast<size_t>(
      std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());  // first bound >= v
  if (b < N) ++h->buckets[b];
  ++h->count;
  h->sum += value;
}

}  // namespace

void ServerMetrics::RecordRpc(std::string_view method, std::string_view code, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  MethodStats& stats = Slot(&rpcs_, method);
  ++Slot(&stats.calls_by_code, code);
  Observe(&stats.seconds, kRpcBounds, seconds);
}

void ServerMetrics::RecordPredictions(std::string_view model, int version, size_t rows) {
  std::lock_guard<std::mutex> lock(mu_);
  Slot(&predictions_, model)[version] += rows;
}

void ServerMetrics::RecordRunEnded(std::string_view kind, std::string_view status,
                                   double seconds) {
  Labels by_kind = {{"kind", std::string(kind)}};
  Labels by_status = {{"kind", std::string(kind)}, {"status", std::string(status)}};
  std::lock_guard<std::mutex> lock(mu_);
  ++runs_[by_status];
  Observe(&run_seconds_[by_kind], kRunBounds, seconds);
}

void ServerMetrics::AddGauge(std::string name, std::string help, std::function<double()> read) {
  std::lock_guard<std::mutex> lock(mu_);
  gauges_.push_back({std::move(name), std::move(help), std::move(read)});
}

std::string ServerMetrics::Render() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  std::map<Labels, uint64_t> calls, predictions;
  std::map<Labels, Histogram> rpc_seconds;
  for (const auto& [method, stats] : rpcs_) {
    for (const auto& [code, n] : stats.calls_by_code) calls[{{"method", method}, {"code", code}}] = n;
    rpc_seconds[{{"method", method}}] = stats.seconds;
  }
  for (const auto& [model, versions] : predictions_) {
    for (const auto& [version, n] : versions) {
      predictions[{{"model", model}, {"version", std::to_string(version)}}] = n;
    }
  }
  RenderCounters(&out, "mlprod_grpc_requests_total",
                 "gRPC calls finished, by method and status code.", calls);
  RenderHistograms(&out, "mlprod_grpc_request_duration_seconds",
                   "gRPC call latency from its start to its status, by method.", kRpcBounds,
                   rpc_seconds);
  RenderCounters(&out, "mlprod_predictions_total",
                 "Rows predicted, by model and the version that answered.", predictions);
  RenderCounters(&out, "mlprod_training_runs_total",
                 "Training runs ended, by model kind and final status.", runs_);
  RenderHistograms(&out, "mlprod_training_run_duration_seconds",
                   "Time training runs spent running, by model kind.", kRunBounds, run_seconds_);
  for (const Gauge& g : gauges_) {
    Header(&out, g.name, "gauge", g.help);
    out += g.name + " " + Number(g.read()) + "\n";
  }
  return out;
}

}  // namespace mlprod::server
