// RunFilter and RunOrder: MLflow's run-search syntax, evaluated in memory over stored runs.
//
// Filter grammar (keywords AND, OR, NOT, LIKE, ILIKE, IN are case-insensitive; AND binds tighter
// than OR; parentheses group — MLflow has neither OR nor parentheses, we add both):
//
//   expr       := and_expr (OR and_expr)*
//   and_expr   := unary (AND unary)*
//   unary      := NOT unary | '(' expr ')' | comparison
//   comparison := key op literal | key [NOT] IN '(' literal (',' literal)* ')'
//   op         := = | != | <> | < | <= | > | >= | [NOT] LIKE | [NOT] ILIKE
//   key        := prefix '.' name        name: [A-Za-z0-9_.:/-]+ or quoted with ` " or '
//   prefix     := metrics | metric | params | param | parameters | attributes | attribute | attr
//                 | run   (case-insensitive)
//   literal    := 'text' | "text" | number
//
// Keys:
// - metrics.<k>: the run's metric, compared as a number (a string literal is INVALID_ARGUMENT;
//   LIKE/ILIKE on a metric too).
// - params.<k>: the run's params, plus model, formula, missing, test_fraction, seed and dataset
//   ("name@version"), which MLflow users log as params. Compared as numbers when both sides
//   parse as numbers, as text otherwise.
// - attributes.<k>: run_id (alias id), status, experiment, dataset, dataset_name,
//   dataset_version, formula, model, missing, test_fraction, seed, error, created_by (alias
//   user_id), created_at (alias start_time; ms since the epoch), started_at, finished_at (alias
//   end_time). Unknown attributes are INVALID_ARGUMENT.
// A run lacking the key (no such metric or param, a time not set yet) matches no comparison,
// as in MLflow. LIKE's % matches any run of characters, _ exactly one (UTF-8 aware).
//
// Order grammar: key [ASC|DESC] (',' key [ASC|DESC])*, keys as above, ASC by default. Runs
// lacking a key sort after those having it, whichever the direction; ties keep the input order.
//
// Every syntax error is INVALID_ARGUMENT naming the 1-based character position in the
// expression, and so is going past RunFilterLimits. Pure functions: no I/O, no locks;
// thread-compatible.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ml/status.h"
#include "registry/registry.h"

namespace mlprod::server {

namespace run_filter_internal {
struct Node;  // the parsed expression tree (run_filter.cc)
}

// The deepest nesting any RunFilterLimits allows: a larger max_depth acts as this one, so that
// no flag value brings back the stack overflow. The parser spends 3 frames per level, under
// 1 KiB of stack in a Release build and under 4 KiB under ASan: 1000 levels take at most 1 MiB
// (4 MiB under ASan) of the 8 MiB stack of the server's threads.
inline constexpr int kMaxRunFilterDepth = 1000;

// Caps on a filter or order-by expression, client text (ListRuns) that the parser checks before
// it recurses (issue 10; SPEC §8).
struct RunFilterLimits {
  // Longest expression, in bytes. A filter compares a few keys; MLflow's UI writes filters of
  // tens of characters, and 4 KiB still holds an IN list of some 400 run ids.
  size_t max_length = 4096;
  // Deepest nesting: each '(' and each NOT opens a level (AND and OR chains do not: they are
  // flat lists). MLflow's grammar has no parentheses at all; 100 is protobuf's own recursion
  // limit for the message that carries the filter. At most kMaxRunFilterDepth.
  int max_depth = 100;
};

class RunFilter {
 public:
  // Parses `expr`; an empty or all-blank expression matches every run. INVALID_ARGUMENT naming
  // the position on a syntax error; for an expression longer than limits.max_length, the
  // character position of byte max_length + 1, checked first; for nesting deeper than
  // limits.max_depth, the '(' or NOT that opens the level past it, before descending into it.
  static Result<RunFilter> Parse(std::string_view expr, const RunFilterLimits& limits = {});

  bool Matches(const registry::Run& run) const;

 private:
  std::shared_ptr<const run_filter_internal::Node> root_;  // null: match all
};

// One key of an order-by expression.
struct OrderKey {
  enum class Kind { kAttribute, kMetric, kParam };
  Kind kind = Kind::kAttribute;
  std::string name;  // attribute names canonical ("run_id", "created_at", ...)
  bool descending = false;
};

// Parses "metrics.test_rmse ASC, attributes.created_at DESC"; empty gives no keys. The grammar
// does not nest; limits.max_length applies as to a filter.
Result<std::vector<OrderKey>> ParseOrderBy(std::string_view expr,
                                           const RunFilterLimits& limits = {});

// Stable-sorts `runs` by `keys` (missing values last for every direction).
void SortRuns(const std::vector<OrderKey>& keys, std::vector<registry::Run>* runs);

}  // namespace mlprod::server
