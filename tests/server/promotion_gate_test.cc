#include <gtest/gtest.h>

#include "server/registry_service.h"

namespace mlprod::server {
namespace {

registry::ModelVersion Version(int number, std::map<std::string, double> metrics,
                               std::string signature =
                                   R"([{"name":"x","type":"numeric","levels":[]}])") {
  registry::ModelVersion v;
  v.model = "m";
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
  EXPECT_NE(s.message().find("version 2 has no metric test_rmse"), std::string::npos);
}

TEST(PromotionGate, DifferentSignatureIsRefused) {
  Status s = CheckPromotionGate(
      Version(1, {{"test_rmse", 5.0}}),
      Version(2, {{"test_rmse", 4.0}}, R"([{"name":"z","type":"numeric","levels":[]}])"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("signature"), std::string::npos);
}

}  // namespace
}  // namespace mlprod::server
