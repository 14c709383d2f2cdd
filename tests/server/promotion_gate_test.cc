#include <gtest/gtest.h>

#include "server/registry_service.h"

namespace mlprod::server {
namespace {

registry::ModelVersion Version(int number, std::map<std::string, double> metrics,
                               std::string signature =
                                   R"([{"name":"x","type":"numeric","levels":[]}])",
                               std::string kind = "ols") {
  registry::ModelVersion v;
  v.model = "m";
  v.kind = std::move(kind);
  v.version = number;
  v.metrics = std::move(metrics);
  v.signature = std::move(signature);
  return v;
}

TEST(PromotionGate, BetterOrEqualCandidatePasses) {
  EXPECT_TRUE(CheckPromotionGate(Version(1, {{"test_rmse", 5.0}}),
                                 Version(2, {{"test_rmse", 4.0}}))
                  .ok());
  EXPECT_TRUE(CheckPromotionGate(Version(1, {{"test_rmse", 5.0}}),
                                 Version(2, {{"test_rmse", 5.0}}))
                  .ok());
}

TEST(PromotionGate, WorseCandidateIsRefusedNamingTheMetric) {
  Status s = CheckPromotionGate(Version(1, {{"test_rmse", 5.0}}), Version(2, {{"test_rmse", 6.0}}));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("test_rmse"), std::string::npos);
}

TEST(PromotionGate, MissingGateMetricIsRefusedNamingIt) {
  Status s = CheckPromotionGate(Version(1, {{"test_rmse", 5.0}}), Version(2, {{"rmse", 1.0}}));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("version 2 (ols) has no metric test_rmse"), std::string::npos);
}

TEST(PromotionGate, DifferentSignatureIsRefused) {
  Status s = CheckPromotionGate(
      Version(1, {{"test_rmse", 5.0}}),
      Version(2, {{"test_rmse", 4.0}}, R"([{"name":"z","type":"numeric","levels":[]}])"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("signature"), std::string::npos);
}

TEST(PromotionGate, EachKindIsJudgedOnItsOwnHeldOutMetric) {
  const std::string sig = R"([{"name":"x","type":"numeric","levels":[]}])";
  // logistic: test_log_loss, lower is better (test_rmse does not exist for it).
  EXPECT_TRUE(CheckPromotionGate(Version(1, {{"test_log_loss", 0.5}}, sig, "logistic"),
                                 Version(2, {{"test_log_loss", 0.4}}, sig, "logistic"))
                  .ok());
  Status s = CheckPromotionGate(Version(1, {{"test_log_loss", 0.4}}, sig, "logistic"),
                                Version(2, {{"test_log_loss", 0.5}}, sig, "logistic"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("on test_log_loss: 0.5 > 0.4 (lower is better)"), std::string::npos)
      << s.message();
  // kmeans: test_silhouette, higher is better.
  EXPECT_TRUE(CheckPromotionGate(Version(1, {{"test_silhouette", 0.4}}, sig, "kmeans"),
                                 Version(2, {{"test_silhouette", 0.6}}, sig, "kmeans"))
                  .ok());
  s = CheckPromotionGate(Version(1, {{"test_silhouette", 0.6}}, sig, "kmeans"),
                         Version(2, {{"test_silhouette", 0.4}}, sig, "kmeans"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("(higher is better)"), std::string::npos) << s.message();
  // An ols version cannot be judged against a logistic candidate's metric.
  s = CheckPromotionGate(Version(1, {{"test_rmse", 1.0}}, sig, "ols"),
                         Version(2, {{"test_log_loss", 0.4}}, sig, "logistic"));
  EXPECT_NE(s.message().find("version 1 (ols) has no metric test_log_loss"), std::string::npos)
      << s.message();
  EXPECT_EQ(GateMetricFor("ridge").name, std::string("test_rmse"));
}

}  // namespace
}  // namespace mlprod::server
