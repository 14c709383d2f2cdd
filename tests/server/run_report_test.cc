// Stored run reports and signatures are server-written JSON; a damaged one must decode as far as
// it goes, never throw into a handler or a worker thread.
#include <gtest/gtest.h>

#include "server/run_report.h"

namespace mlprod::server {
namespace {

TEST(RunReport, DamagedReportsDecodeAsFarAsTheyGo) {
  for (const char* damaged : {R"({"coefficients": 5})", R"({"n_obs": "many"})",
                              R"({"coefficients": [{"term": 7}]})", R"({"log": {"a": 1}})",
                              R"({"signature": [{"levels": 3}]})", R"([1, 2])", "{"}) {
    v1::Run run;
    EXPECT_NO_THROW(DecodeReportInto(damaged, &run)) << damaged;
    v1::RunPlotData plot;
    EXPECT_NO_THROW(DecodePlotDataInto(damaged, &plot)) << damaged;
    EXPECT_NO_THROW(DecodeSignature(damaged)) << damaged;
  }
  v1::Run run;
  DecodeReportInto(R"({"sigma": 2.5, "n_obs": "many"})", &run);
  EXPECT_EQ(run.sigma(), 2.5);  // what came before the damage is kept
  EXPECT_TRUE(DecodeSignature(R"([{"name": "x", "levels": 3}])").empty());
}

}  // namespace
}  // namespace mlprod::server
