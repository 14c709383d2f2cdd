// Self-contained SVG plots of a fit, as `mlprod runs plot` writes them: no browser, no script,
// no external font or stylesheet. Pure functions of their input; thread-compatible.
//
// Every plot has a title, both axes with tick marks and tick labels, and axis labels. Points are
// <circle> elements (one per finite point; NaN or infinite points are skipped and counted in
// `skipped`), so a reader can count them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mlprod::client {

struct ScatterPlot {
  enum class Reference {
    kNone,
    kZeroLine,  // y = 0 (residuals vs fitted)
    kIdentity,  // y = x (actual vs fitted)
  };
  std::string title, x_label, y_label;
  std::vector<double> x, y;  // same length; pairs with a non-finite member are skipped
  Reference reference = Reference::kNone;
};

// One row of a coefficient plot: the estimate with its confidence interval.
struct IntervalRow {
  std::string label;
  // A row with a non-finite estimate is skipped; one with a non-finite bound is drawn as a point
  // without a bar (a penalised fit's coefficients have no intervals).
  double estimate = 0, lower = 0, upper = 0;
};

struct IntervalPlot {
  std::string title, x_label;
  std::vector<IntervalRow> rows;  // drawn top to bottom in this order
};

struct SvgOutput {
  std::string svg;
  size_t points = 0;   // <circle> elements drawn
  size_t skipped = 0;  // inputs left out as non-finite
};

SvgOutput RenderScatter(const ScatterPlot& plot);
// Estimates as points with horizontal interval bars and a dashed line at 0.
SvgOutput RenderIntervals(const IntervalPlot& plot);

// About `target` round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi];
// the first is <= lo and the last >= hi. lo == hi gives a range around the value.
std::vector<double> NiceTicks(double lo, double hi, int target = 6);
// A tick label with as few digits as the step needs ("0.25", "1500", "1e+06").
std::string FormatTick(double value, double step);
// &, <, >, " and ' as XML entities.
std::string XmlEscape(std::string_view text);

}  // namespace mlprod::client
