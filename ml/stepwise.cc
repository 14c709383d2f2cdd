// Stepwise selection (see stepwise.h).
#include "ml/stepwise.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ml/fit_data.h"
#include "ml/formula.h"
#include "ml/split.h"

namespace mlprod::ml {
namespace {

bool Syntactic(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.') return false;
  return true;
}

// The term's label as formula text: R's label, with non-syntactic bare columns backquoted.
std::string TermText(const ParsedFormula& f, const std::vector<int>& term) {
  std::string text;
  for (int v : term) {
    const Variable& var = f.variables[v];
    if (!text.empty()) text += ":";
    text += var.IsColumn() && !Syntactic(var.label) ? "`" + var.label + "`" : var.label;
  }
  return text;
}

// True when `a` is a strict subset of `b` (both sorted).
bool StrictlyInside(const std::vector<int>& a, const std::vector<int>& b) {
  return a.size() < b.size() && std::includes(b.begin(), b.end(), a.begin(), a.end());
}

}  // namespace

Result<TrainOutput> TrainStepwise(const Frame& frame, const TrainOptions& options,
                                  const ProgressFn& progress) {
  const Status cancelled = Status::Cancelled("training cancelled");
  const bool forward = options.select == "forward";
  const bool bic = options.criterion == "bic";
  const std::string crit_name = bic ? "BIC" : "AIC";

  std::vector<std::string> available;
  for (const Column& c : frame.columns) available.push_back(c.name);
  MLPROD_ASSIGN_OR_RETURN(ParsedFormula parsed,
                          ParseFormula(options.formula, available, options.formula_limits));
  const std::vector<InputColumn> signature = SignatureOf(frame, parsed);
  const size_t n_terms = parsed.terms.size();
  std::vector<std::string> labels;
  for (const auto& term : parsed.terms) labels.push_back(TermText(parsed, term));

  // Selection rows: the training side of the split, usable under the full formula.
  std::vector<size_t> train_rows, test_rows;
  SplitRows(frame.rows, options.test_fraction, options.seed, &train_rows, &test_rows);
  const Frame train = SubFrame(frame, train_rows);
  const Column* response = train.Find(parsed.response);
  const Frame rows = SubFrame(train, UsableRows(train, response, signature, options.missing));
  if (rows.rows == 0) return NoTrainingRows(train.rows, train.rows);
  const double n = static_cast<double>(rows.rows);
  const double penalty = bic ? std::log(n) : 2.0;

  std::string lhs = options.formula.substr(0, options.formula.find('~'));
  while (!lhs.empty() && std::isspace(static_cast<unsigned char>(lhs.back()))) lhs.pop_back();
  while (!lhs.empty() && std::isspace(static_cast<unsigned char>(lhs.front()))) lhs.erase(0, 1);
  auto formula_of = [&](const std::vector<bool>& in) {
    std::string rhs;
    for (size_t t = 0; t < n_terms; ++t)
      if (in[t]) rhs += (rhs.empty() ? "" : " + ") + labels[t];
    if (!parsed.intercept) return lhs + " ~ 0" + (rhs.empty() ? "" : " + " + rhs);
    return lhs + " ~ " + (rhs.empty() ? "1" : rhs);
  };

  std::vector<std::string> lines;
  double fraction = 0;
  auto emit = [&](const std::string& line) {
    if (!line.empty()) lines.push_back(line);
    return !progress || progress(fraction, line);
  };
  TrainOptions candidate = options;
  // A candidate lists its terms one by one, which can be longer than the formula the client
  // sent (y ~ a * b * c, y ~ .); it is ours, and nests no deeper than the parsed original.
  candidate.formula_limits.max_length = SIZE_MAX;
  candidate.select.clear();
  candidate.criterion.clear();
  candidate.folds = 0;
  candidate.test_fraction = 0;
  // R's extractAIC on the selection rows.
  auto criterion_of = [&](const std::vector<bool>& in) -> Result<double> {
    const bool any = std::find(in.begin(), in.end(), true) != in.end();
    if (!any && !parsed.intercept) {  // the empty model: RSS = sum of y^2, edf 0
      const Column* y = rows.Find(parsed.response);
      long double rss = 0;
      for (double v : y->values) rss += static_cast<long double>(v) * v;
      return n * std::log(static_cast<double>(rss) / n);
    }
    candidate.formula = formula_of(in);
    Result<TrainOutput> fit = Train(rows, candidate, [&](double, const std::string&) {
      return !progress || progress(fraction, "");
    });
    if (!fit.ok()) {
      if (fit.status().code() == StatusCode::kCancelled) return fit.status();
      return Status(fit.status().code(),
                    "stepwise candidate '" + candidate.formula + "': " + fit.status().message());
    }
    const double rmse = fit->report.metrics.at("rmse");
    const double edf = n - fit->report.df_residual;
    return n * std::log(rmse * rmse) + penalty * edf;
  };

  std::vector<bool> in(n_terms, !forward);
  if (!emit((forward ? "forward" : "backward") + std::string(" stepwise selection by ") +
            crit_name + " on " + std::to_string(rows.rows) +
            " rows; criterion as R's step()/extractAIC: n log(RSS/n) + " +
            (bic ? "log(n)" : "2") + " * edf (edf = rank of the fit)"))
    return cancelled;
  MLPROD_ASSIGN_OR_RETURN(double current, criterion_of(in));
  if (!emit("Start: " + crit_name + "=" + FormatG(current, 8) + "  " + formula_of(in)))
    return cancelled;
  for (int step = 1;; ++step) {
    fraction = 0.8 * step / (n_terms + 1.0);
    int best = -1;
    double best_value = std::numeric_limits<double>::infinity();
    std::string considered;
    for (size_t t = 0; t < n_terms; ++t) {
      bool allowed = forward ? !in[t] : in[t];
      for (size_t u = 0; u < n_terms && allowed; ++u) {
        if (forward && StrictlyInside(parsed.terms[u], parsed.terms[t]) && !in[u]) allowed = false;
        if (!forward && in[u] && StrictlyInside(parsed.terms[t], parsed.terms[u])) allowed = false;
      }
      if (!allowed) continue;
      std::vector<bool> next = in;
      next[t] = forward;
      MLPROD_ASSIGN_OR_RETURN(double value, criterion_of(next));
      considered += std::string(considered.empty() ? "" : ", ") + (forward ? "+ " : "- ") +
                    labels[t] + " " + FormatG(value, 8);
      if (value < best_value) {
        best = static_cast<int>(t);
        best_value = value;
      }
    }
    // R's step() keeps the current model on a tie ("<none>" sorts first).
    if (best < 0 || !(best_value < current - 1e-7)) {
      if (!emit("Step " + std::to_string(step) + ": no move lowers " + crit_name +
                (considered.empty() ? "" : " (" + considered + ")") + "; stop"))
        return cancelled;
      break;
    }
    in[best] = forward;
    current = best_value;
    if (!emit("Step " + std::to_string(step) + ": " + (forward ? "+ " : "- ") + labels[best] +
              "  " + crit_name + "=" + FormatG(current, 8) + "  " + formula_of(in) +
              "  (candidates: " + considered + ")"))
      return cancelled;
  }
  const std::string selected = formula_of(in);
  fraction = 0.8;
  if (!emit("selected_formula: " + selected + "  (" + crit_name + "=" + FormatG(current, 8) + ")"))
    return cancelled;

  TrainOptions final_options = options;
  final_options.select.clear();
  final_options.criterion.clear();
  final_options.formula = selected;
  final_options.formula_limits.max_length = SIZE_MAX;  // as the candidates
  Result<TrainOutput> out = Train(frame, final_options, [&](double p, const std::string& line) {
    return !progress || progress(0.8 + 0.2 * p, line);
  });
  if (!out.ok()) return out.status();
  TrainOutput result = std::move(out).value();
  result.report.log.insert(result.report.log.begin(), lines.begin(), lines.end());
  result.report.metrics[bic ? "step_bic" : "step_aic"] = current;
  return result;
}

}  // namespace mlprod::ml
