// ServerMetrics (server/metrics.h): the Prometheus text exposition it renders.
#include "server/metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace mlprod::server {
namespace {

void ExpectLine(const std::string& text, const std::string& line) {
  EXPECT_NE(text.find("\n" + line + "\n"), std::string::npos) << "no line \"" << line << "\" in:\n"
                                                              << text;
}

TEST(ServerMetrics, CountersByLabelsWithHelpAndType) {
  ServerMetrics m;
  m.RecordRpc("/mlprod.v1.InferenceService/Predict", "OK", 0.0002);
  m.RecordRpc("/mlprod.v1.InferenceService/Predict", "OK", 0.0004);
  m.RecordRpc("/mlprod.v1.InferenceService/Predict", "NOT_FOUND", 0.00005);
  m.RecordPredictions("salary", 2, 8);
  m.RecordPredictions("salary", 2, 1);
  const std::string text = m.Render();
  ExpectLine(text, "# TYPE mlprod_grpc_requests_total counter");
  ExpectLine(text,
             "mlprod_grpc_requests_total{method=\"/mlprod.v1.InferenceService/Predict\","
             "code=\"OK\"} 2");
  ExpectLine(text,
             "mlprod_grpc_requests_total{method=\"/mlprod.v1.InferenceService/Predict\","
             "code=\"NOT_FOUND\"} 1");
  ExpectLine(text, "mlprod_predictions_total{model=\"salary\",version=\"2\"} 9");
}

TEST(ServerMetrics, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  ServerMetrics m;
  m.RecordRpc("/m", "OK", 0.00005);  // first bucket (le 0.0001)
  m.RecordRpc("/m", "OK", 0.0003);   // le 0.0005
  m.RecordRpc("/m", "OK", 100);      // above every bound: only +Inf
  const std::string text = m.Render();
  ExpectLine(text, "# TYPE mlprod_grpc_request_duration_seconds histogram");
  ExpectLine(text, "mlprod_grpc_request_duration_seconds_bucket{method=\"/m\",le=\"0.0001\"} 1");
  ExpectLine(text, "mlprod_grpc_request_duration_seconds_bucket{method=\"/m\",le=\"0.00025\"} 1");
  ExpectLine(text, "mlprod_grpc_request_duration_seconds_bucket{method=\"/m\",le=\"0.0005\"} 2");
  ExpectLine(text, "mlprod_grpc_request_duration_seconds_bucket{method=\"/m\",le=\"60\"} 2");
  ExpectLine(text, "mlprod_grpc_request_duration_seconds_bucket{method=\"/m\",le=\"+Inf\"} 3");
  ExpectLine(text, "mlprod_grpc_request_duration_seconds_count{method=\"/m\"} 3");
  ExpectLine(text, "mlprod_grpc_request_duration_seconds_sum{method=\"/m\"} 100.00035");
}

TEST(ServerMetrics, RunsGaugesAndEscapedLabelValues) {
  ServerMetrics m;
  m.RecordRunEnded("ols", "SUCCEEDED", 2);
  m.RecordPredictions("a\"b\\c\nd", 1, 1);
  double depth = 3;
  m.AddGauge("mlprod_training_queue_depth", "Runs waiting.", [&] { return depth; });
  std::string text = m.Render();
  ExpectLine(text, "mlprod_training_runs_total{kind=\"ols\",status=\"SUCCEEDED\"} 1");
  ExpectLine(text, "mlprod_training_run_duration_seconds_bucket{kind=\"ols\",le=\"1\"} 0");
  ExpectLine(text, "mlprod_training_run_duration_seconds_bucket{kind=\"ols\",le=\"5\"} 1");
  ExpectLine(text, "mlprod_predictions_total{model=\"a\\\"b\\\\c\\nd\",version=\"1\"} 1");
  ExpectLine(text, "# TYPE mlprod_training_queue_depth gauge");
  ExpectLine(text, "mlprod_training_queue_depth 3");
  depth = 0;  // read at each render
  text = m.Render();
  ExpectLine(text, "mlprod_training_queue_depth 0");
}

}  // namespace
}  // namespace mlprod::server
