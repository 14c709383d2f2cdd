// RunFilter / ParseOrderBy / SortRuns: MLflow's search syntax plus OR and parentheses, below gRPC.
#include "server/run_filter.h"

#include <cmath>

#include <gtest/gtest.h>

#include "mlprod/v1/training.pb.h"
#include "server/training_service.h"

namespace mlprod::server {
namespace {

using registry::Run;
using registry::RunStatus;

Run MakeRun(const std::string& id, const std::string& kind, RunStatus status,
            std::map<std::string, double> metrics, std::map<std::string, std::string> params = {}) {
  Run r;
  r.id = id;
  r.experiment = "Default";
  r.dataset_name = "salaries";
  r.dataset_version = 1;
  r.formula = "salary ~ years_code";
  r.kind = kind;
  r.missing = "mean";
  r.test_fraction = 0.2;
  r.seed = 7;
  r.status = status;
  r.metrics = std::move(metrics);
  r.params = std::move(params);
  r.created_by = "ana";
  r.created_at_ms = 1000 * std::stoll(id.substr(1));
  return r;
}

// r1 ols 4000 SUCCEEDED, r2 ridge 6000 SUCCEEDED, r3 ols FAILED (no metrics), r4 lasso 3000.
std::vector<Run> Runs() {
  return {MakeRun("r1", "ols", RunStatus::kSucceeded, {{"test_rmse", 4000}, {"r_squared", 0.5}}),
          MakeRun("r2", "ridge", RunStatus::kSucceeded, {{"test_rmse", 6000}}, {{"lambda", "0.1"}}),
          MakeRun("r3", "ols", RunStatus::kFailed, {}),
          MakeRun("r4", "lasso", RunStatus::kSucceeded, {{"test_rmse", 3000}},
                  {{"lambda", "10"}, {"note", "Größe_ok"}})};
}

// The ids of Runs() that `expr` selects, in order.
std::string Select(const std::string& expr) {
  auto filter = RunFilter::Parse(expr);
  if (!filter.ok()) return "error: " + filter.status().ToString();
  std::string out;
  for (const Run& r : Runs()) {
    if (filter->Matches(r)) out += (out.empty() ? "" : " ") + r.id;
  }
  return out;
}

// The 1-based position named in the INVALID_ARGUMENT of `expr`, or -1.
int ErrorPosition(const std::string& expr) {
  auto filter = RunFilter::Parse(expr);
  if (filter.ok() || filter.status().code() != StatusCode::kInvalidArgument) return -1;
  const std::string& m = filter.status().message();
  const auto at = m.find("at position ");
  if (at == std::string::npos) return -1;
  return std::stoi(m.substr(at + 12));
}

TEST(RunFilter, EmptyMatchesEverything) {
  EXPECT_EQ(Select(""), "r1 r2 r3 r4");
  EXPECT_EQ(Select("   "), "r1 r2 r3 r4");
}

TEST(RunFilter, TheSpecExample) {
  EXPECT_EQ(Select("metrics.test_rmse < 5000 and params.model = 'ols'"), "r1");
}

TEST(RunFilter, EveryComparisonOperatorOnAMetric) {
  EXPECT_EQ(Select("metrics.test_rmse = 4000"), "r1");
  EXPECT_EQ(Select("metrics.test_rmse == 4000"), "r1");
  EXPECT_EQ(Select("metrics.test_rmse != 4000"), "r2 r4");  // r3 has no metric: no match
  EXPECT_EQ(Select("metrics.test_rmse <> 4000"), "r2 r4");
  EXPECT_EQ(Select("metrics.test_rmse < 4000"), "r4");
  EXPECT_EQ(Select("metrics.test_rmse <= 4000"), "r1 r4");
  EXPECT_EQ(Select("metrics.test_rmse > 4000"), "r2");
  EXPECT_EQ(Select("metrics.test_rmse >= 4000"), "r1 r2");
  EXPECT_EQ(Select("metrics.test_rmse >= 4e3"), "r1 r2");
  EXPECT_EQ(Select("metrics.test_rmse > -1.5"), "r1 r2 r4");
}

TEST(RunFilter, AttributesAndSettingsAsParams) {
  EXPECT_EQ(Select("attributes.status = 'SUCCEEDED'"), "r1 r2 r4");
  EXPECT_EQ(Select("attributes.status = 'failed'"), "r3");  // status is case-insensitive
  EXPECT_EQ(Select("attributes.run_id = 'r2'"), "r2");
  EXPECT_EQ(Select("attribute.id IN ('r2', 'r3')"), "r2 r3");
  EXPECT_EQ(Select("attributes.created_at >= 3000"), "r3 r4");
  EXPECT_EQ(Select("attributes.start_time < '2000'"), "r1");
  EXPECT_EQ(Select("params.formula = 'salary ~ years_code'"), "r1 r2 r3 r4");
  EXPECT_EQ(Select("params.missing = \"mean\" and params.seed = 7"), "r1 r2 r3 r4");
  EXPECT_EQ(Select("params.seed = '7' and params.test_fraction = 0.2"), "r1 r2 r3 r4");
  EXPECT_EQ(Select("params.dataset = 'salaries@1'"), "r1 r2 r3 r4");
  EXPECT_EQ(Select("params.lambda = '0.1'"), "r2");
  EXPECT_EQ(Select("params.lambda > 1"), "r4");  // numeric when both sides are numbers
}

TEST(RunFilter, LikeIlikeAndIn) {
  EXPECT_EQ(Select("params.model LIKE 'l%'"), "r4");
  EXPECT_EQ(Select("params.model LIKE '_ls'"), "r1 r3");
  EXPECT_EQ(Select("params.model LIKE 'OLS'"), "");
  EXPECT_EQ(Select("params.model ILIKE 'OLS'"), "r1 r3");
  EXPECT_EQ(Select("params.model ILIKE '%I%'"), "r2");
  EXPECT_EQ(Select("params.model NOT LIKE 'ol%'"), "r2 r4");
  EXPECT_EQ(Select("params.note LIKE 'Gr_ße%'"), "r4");  // _ is one character, not one byte
  EXPECT_EQ(Select("params.model IN ('ridge', 'lasso')"), "r2 r4");
  EXPECT_EQ(Select("params.model not in ('ridge', 'lasso')"), "r1 r3");
  EXPECT_EQ(Select("metrics.test_rmse IN (3000, 6000)"), "r2 r4");
  EXPECT_EQ(Select("attributes.formula like '%years%'"), "r1 r2 r3 r4");
}

TEST(RunFilter, AndBindsTighterThanOr) {
  // a or b and c == a or (b and c)
  EXPECT_EQ(Select("params.model = 'ridge' or params.model = 'ols' and attributes.status = 'FAILED'"),
                   "r2 r3");
  // (a or b) and c
  EXPECT_EQ(
      Select("(params.model = 'ridge' or params.model = 'ols') and attributes.status = 'FAILED'"),
      "r3");
  EXPECT_EQ(Select("metrics.test_rmse < 3500 or metrics.test_rmse > 5000 and params.model = 'ols'"),
            "r4");
}

TEST(RunFilter, ParenthesesNestAndNotNegates) {
  EXPECT_EQ(Select("((params.model = 'ols'))"), "r1 r3");
  EXPECT_EQ(Select("(params.model = 'ols' or (metrics.test_rmse < 5000 and params.lambda = '10'))"
                   " and attributes.status = 'SUCCEEDED'"),
            "r1 r4");
  EXPECT_EQ(Select("not params.model = 'ols'"), "r2 r4");
  EXPECT_EQ(Select("NOT (params.model = 'ols' OR params.model = 'ridge')"), "r4");
}

TEST(RunFilter, KeywordsAreCaseInsensitive) {
  EXPECT_EQ(Select("METRICS.test_rmse < 5000 AND Params.model = 'ols'"), "r1");
  EXPECT_EQ(Select("params.model = 'ols' Or params.model = 'lasso'"), "r1 r3 r4");
  EXPECT_EQ(Select("params.model iLiKe 'RIDGE'"), "r2");
}

TEST(RunFilter, QuotedNames) {
  EXPECT_EQ(Select("metrics.`test_rmse` < 3500"), "r4");
  EXPECT_EQ(Select("params.\"lambda\" = '10'"), "r4");
}

TEST(RunFilter, ErrorsNameThePosition) {
  // 1-based character positions
  EXPECT_EQ(ErrorPosition("metrics.test_rmse <"), 20);              // missing value at the end
  EXPECT_EQ(ErrorPosition("metrics.test_rmse 5000"), 19);           // missing operator
  EXPECT_EQ(ErrorPosition("test_rmse < 5000"), 1);                  // no prefix
  EXPECT_EQ(ErrorPosition("foo.x = 1"), 1);                         // unknown prefix
  EXPECT_EQ(ErrorPosition("attributes.nope = 'x'"), 1);             // unknown attribute
  EXPECT_EQ(ErrorPosition("metrics.rmse < 'abc'"), 16);             // string for a metric
  EXPECT_EQ(ErrorPosition("params.model = 'ols"), 16);              // unterminated string
  EXPECT_EQ(ErrorPosition("(params.model = 'ols'"), 22);            // unclosed parenthesis
  EXPECT_EQ(ErrorPosition("params.model = 'ols')"), 21);            // stray parenthesis
  EXPECT_EQ(ErrorPosition("params.model = 'ols' and"), 25);         // dangling AND
  EXPECT_EQ(ErrorPosition("params.model = 'ols' xor params.a = 1"), 22);
  EXPECT_EQ(ErrorPosition("params.model IN 'ols'"), 17);            // IN without a list
  EXPECT_EQ(ErrorPosition("params.model IN ('a' 'b')"), 22);
  EXPECT_EQ(ErrorPosition("metrics.rmse LIKE '1%'"), 14);           // LIKE on a metric
  EXPECT_EQ(ErrorPosition("params.model = 'ä' and ; "), 24);        // characters, not bytes
  EXPECT_EQ(ErrorPosition("params.model ! 'x'"), 14);
  auto bad = RunFilter::Parse("metrics.test_rmse <");
  EXPECT_NE(bad.status().message().find("filter"), std::string::npos);
}

std::string Order(const std::string& expr, std::vector<Run> runs = Runs()) {
  auto keys = ParseOrderBy(expr);
  if (!keys.ok()) return "error: " + keys.status().ToString();
  SortRuns(*keys, &runs);
  std::string out;
  for (const Run& r : runs) out += (out.empty() ? "" : " ") + r.id;
  return out;
}

TEST(RunOrder, ByMetricMissingLastEitherWay) {
  EXPECT_EQ(Order("metrics.test_rmse ASC"), "r4 r1 r2 r3");
  EXPECT_EQ(Order("metrics.test_rmse"), "r4 r1 r2 r3");
  EXPECT_EQ(Order("metrics.test_rmse desc"), "r2 r1 r4 r3");
}

TEST(RunOrder, SeveralKeysAndAttributes) {
  EXPECT_EQ(Order("attributes.created_at DESC"), "r4 r3 r2 r1");
  EXPECT_EQ(Order("params.model ASC, attributes.created_at DESC"), "r4 r3 r1 r2");
  EXPECT_EQ(Order("attributes.status, metrics.test_rmse DESC"), "r3 r2 r1 r4");
}

TEST(RunOrder, RunIdsSortByNumber) {
  std::vector<registry::Run> runs = {MakeRun("r10", "ols", RunStatus::kQueued, {}),
                           MakeRun("r9", "ols", RunStatus::kQueued, {}),
                           MakeRun("r100", "ols", RunStatus::kQueued, {})};
  EXPECT_EQ(Order("attributes.run_id", runs), "r9 r10 r100");
  EXPECT_EQ(Order("attributes.run_id DESC", runs), "r100 r10 r9");
}

TEST(RunOrder, ErrorsNameThePosition) {
  EXPECT_NE(Order("metrics.rmse UP").find("position 14"), std::string::npos);
  EXPECT_NE(Order("metrics.rmse,").find("position 14"), std::string::npos);
  EXPECT_NE(Order("rmse").find("INVALID_ARGUMENT"), std::string::npos);
}

TEST(SelectRuns, FiltersOrdersAndPages) {
  v1::ListRunsRequest request;
  request.set_filter("attributes.status = 'SUCCEEDED'");
  request.set_order_by("metrics.test_rmse");
  request.set_page_size(2);
  v1::ListRunsResponse page1;
  ASSERT_TRUE(SelectRuns(request, Runs(), &page1).ok());
  ASSERT_EQ(page1.runs_size(), 2);
  EXPECT_EQ(page1.runs(0).id(), "r4");
  EXPECT_EQ(page1.runs(1).id(), "r1");
  ASSERT_FALSE(page1.next_page_token().empty());
  request.set_page_token(page1.next_page_token());
  v1::ListRunsResponse page2;
  ASSERT_TRUE(SelectRuns(request, Runs(), &page2).ok());
  ASSERT_EQ(page2.runs_size(), 1);
  EXPECT_EQ(page2.runs(0).id(), "r2");
  EXPECT_TRUE(page2.next_page_token().empty());

  request.set_page_token("garbage");
  v1::ListRunsResponse bad;
  EXPECT_EQ(SelectRuns(request, Runs(), &bad).code(), StatusCode::kInvalidArgument);
  request.set_page_token("");
  request.set_page_size(-1);
  EXPECT_EQ(SelectRuns(request, Runs(), &bad).code(), StatusCode::kInvalidArgument);
  request.set_page_size(0);
  request.set_filter("metrics.x <");
  EXPECT_EQ(SelectRuns(request, Runs(), &bad).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mlprod::server
