// Run filter and order-by parsers: any text as a filter and as an order-by. An error is
// INVALID_ARGUMENT naming a position; a filter that parses evaluates over a few runs, "NOT (f)"
// selects exactly the runs f does not, and what parses under tight limits parses under the
// defaults; an order-by that parses sorts the runs into a permutation of them.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/run_filter.h"
#include "tests/fuzz/fuzz_check.h"

namespace mlprod::fuzz {
namespace {

using registry::Run;
using registry::RunStatus;

std::vector<Run> Runs() {
  std::vector<Run> runs(4);
  const RunStatus states[] = {RunStatus::kSucceeded, RunStatus::kFailed, RunStatus::kRunning,
                              RunStatus::kSucceeded};
  for (size_t i = 0; i < runs.size(); ++i) {
    Run& r = runs[i];
    r.id = "r" + std::to_string(i + 1);
    r.experiment = i % 2 ? "Default" : "exp-ä";
    r.dataset_name = "salaries";
    r.dataset_version = static_cast<int>(i) + 1;
    r.formula = "salary ~ years_code";
    r.kind = i % 2 ? "ridge" : "ols";
    r.missing = "mean";
    r.test_fraction = 0.25 * static_cast<double>(i);
    r.seed = i * 7;
    r.status = states[i];
    r.created_by = "ana";
    r.created_at_ms = 1000 * static_cast<int64_t>(i + 1);
    r.finished_at_ms = i == 2 ? 0 : r.created_at_ms + 5;
    if (i != 1) r.metrics = {{"rmse", 10.0 / static_cast<double>(i + 1)}, {"r2", NAN}};
    r.params = {{"lambda", std::to_string(i)}, {"note", i % 2 ? "Größe" : "a_b%c"}};
  }
  return runs;
}

// INVALID_ARGUMENT "...at position P", 1 <= P <= the characters of `text` + 1.
void CheckError(const Status& status, std::string_view text) {
  FUZZ_CHECK(status.code() == StatusCode::kInvalidArgument, status.ToString());
  const std::string& m = status.message();
  const size_t at = m.rfind("at position ");
  FUZZ_CHECK(at != std::string::npos, status.ToString());
  const long position = std::strtol(m.c_str() + at + 12, nullptr, 10);
  FUZZ_CHECK(position >= 1 && static_cast<size_t>(position) <= text.size() + 1, status.ToString());
}

std::vector<bool> Selected(const server::RunFilter& filter, const std::vector<Run>& runs) {
  std::vector<bool> out;
  for (const Run& r : runs) out.push_back(filter.Matches(r));
  return out;
}

void CheckFilter(std::string_view text, const std::vector<Run>& runs) {
  const Result<server::RunFilter> filter = server::RunFilter::Parse(text);
  server::RunFilterLimits tight;
  tight.max_length = 48;
  tight.max_depth = 3;
  const Result<server::RunFilter> small = server::RunFilter::Parse(text, tight);
  if (!small.ok()) CheckError(small.status(), text);
  if (!filter.ok()) {
    CheckError(filter.status(), text);
    FUZZ_CHECK(!small.ok(), "parses under tight limits only");
    return;
  }
  const std::vector<bool> selected = Selected(*filter, runs);
  if (small.ok()) FUZZ_CHECK(Selected(*small, runs) == selected, "tight and default differ");
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return;  // matches all
  server::RunFilterLimits roomy;
  roomy.max_length = text.size() + 6;
  roomy.max_depth = server::RunFilterLimits{}.max_depth + 2;
  const std::string negated = "NOT (" + std::string(text) + ")";
  const Result<server::RunFilter> inverse = server::RunFilter::Parse(negated, roomy);
  FUZZ_CHECK(inverse.ok(), negated + ": " + inverse.status().ToString());
  const std::vector<bool> rest = Selected(*inverse, runs);
  for (size_t i = 0; i < runs.size(); ++i) {
    FUZZ_CHECK(rest[i] != selected[i], "NOT (f) and f agree on run " + runs[i].id);
  }
}

void CheckOrder(std::string_view text, std::vector<Run> runs) {
  const Result<std::vector<server::OrderKey>> keys = server::ParseOrderBy(text);
  if (!keys.ok()) {
    CheckError(keys.status(), text);
    return;
  }
  server::SortRuns(*keys, &runs);
  std::vector<std::string> ids;
  for (const Run& r : runs) ids.push_back(r.id);
  std::sort(ids.begin(), ids.end());
  FUZZ_CHECK((ids == std::vector<std::string>{"r1", "r2", "r3", "r4"}), "sorting lost runs");
}

void FuzzOne(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const std::vector<registry::Run>* runs = new std::vector<registry::Run>(Runs());
  CheckFilter(text, *runs);
  CheckOrder(text, *runs);
}

}  // namespace
}  // namespace mlprod::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mlprod::fuzz::FuzzOne(data, size);
  return 0;
}
