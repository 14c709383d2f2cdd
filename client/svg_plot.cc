#include "client/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mlprod::client {
namespace {

constexpr double kWidth = 760, kHeight = 520;
constexpr double kTop = 48, kBottom = 64, kRight = 24;

std::string Num(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2f", v);
  return buffer;
}

// Maps data coordinates to the plot area.
struct Axis {
  double lo, hi;        // data range (the outer ticks)
  double from, to;      // pixel range
  double Map(double v) const { return from + (v - lo) / (hi - lo) * (to - from); }
};

void Header(std::string* out, const std::string& title) {
  *out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  *out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Num(kWidth) + "\" height=\"" +
          Num(kHeight) + "\" viewBox=\"0 0 " + Num(kWidth) + " " + Num(kHeight) +
          "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n";
  *out += "<title>" + XmlEscape(title) + "</title>\n";
  *out += "<rect x=\"0\" y=\"0\" width=\"" + Num(kWidth) + "\" height=\"" + Num(kHeight) +
          "\" fill=\"white\"/>\n";
  *out += "<text x=\"" + Num(kWidth / 2) + "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" "
          "font-weight=\"bold\">" + XmlEscape(title) + "</text>\n";
}

void Line(std::string* out, double x1, double y1, double x2, double y2, const char* style) {
  *out += "<line x1=\"" + Num(x1) + "\" y1=\"" + Num(y1) + "\" x2=\"" + Num(x2) + "\" y2=\"" +
          Num(y2) + "\" " + style + "/>\n";
}

void Text(std::string* out, double x, double y, const char* anchor, const std::string& text,
          const std::string& extra = "") {
  *out += "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" text-anchor=\"" + anchor + "\"" +
          (extra.empty() ? "" : " " + extra) + ">" + XmlEscape(text) + "</text>\n";
}

// The x axis at the bottom with ticks, labels and grid lines.
void XAxis(std::string* out, const Axis& x, const Axis& y, const std::vector<double>& ticks,
           const std::string& label) {
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  *out += "<g class=\"x-axis\">\n";
  Line(out, x.from, y.from, x.to, y.from, "stroke=\"black\"");
  for (double t : ticks) {
    const double px = x.Map(t);
    Line(out, px, y.to, px, y.from, "stroke=\"#e5e5e5\"");
    Line(out, px, y.from, px, y.from + 5, "stroke=\"black\"");
    Text(out, px, y.from + 18, "middle", FormatTick(t, step));
  }
  Text(out, (x.from + x.to) / 2, kHeight - 18, "middle", label, "font-size=\"13\"");
  *out += "</g>\n";
}

void YAxis(std::string* out, const Axis& x, const Axis& y, const std::vector<double>& ticks,
           const std::string& label) {
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  *out += "<g class=\"y-axis\">\n";
  Line(out, x.from, y.from, x.from, y.to, "stroke=\"black\"");
  for (double t : ticks) {
    const double py = y.Map(t);
    Line(out, x.from, py, x.to, py, "stroke=\"#e5e5e5\"");
    Line(out, x.from - 5, py, x.from, py, "stroke=\"black\"");
    Text(out, x.from - 8, py + 4, "end", FormatTick(t, step));
  }
  const double cy = (y.from + y.to) / 2;
  Text(out, 18, cy, "middle", label,
       "font-size=\"13\" transform=\"rotate(-90 18 " + Num(cy) + ")\"");
  *out += "</g>\n";
}

bool Finite(double v) { return std::isfinite(v); }

}  // namespace

std::vector<double> NiceTicks(double lo, double hi, int target) {
  if (!Finite(lo) || !Finite(hi)) return {0, 1};
  if (lo > hi) std::swap(lo, hi);
  if (lo == hi) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / std::max(1, target - 1);
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  const double first = std::floor(lo / step) * step;
  const double last = std::ceil(hi / step) * step;
  std::vector<double> ticks;
  for (int i = 0; first + i * step <= last + step * 1e-9 && i < 1000; ++i) {
    double t = first + i * step;
    if (std::fabs(t) < step * 1e-9) t = 0;  // no "-0" or 1e-17
    ticks.push_back(t);
  }
  if (ticks.size() < 2) ticks.push_back(first + step);
  return ticks;
}

std::string FormatTick(double value, double step) {
  char buffer[48];
  const double a = std::max(std::fabs(value), std::fabs(step));
  if (a >= 1e6 || (step < 1e-4 && step > 0)) {
    std::snprintf(buffer, sizeof(buffer), "%.3g", value);
  } else {
    const int decimals = step > 0 ? std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9))) : 0;
    std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  }
  return buffer;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 forbids most control characters
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

SvgOutput RenderScatter(const ScatterPlot& plot) {
  SvgOutput result;
  std::vector<std::pair<double, double>> points;
  const size_t n = std::min(plot.x.size(), plot.y.size());
  for (size_t i = 0; i < n; ++i) {
    if (Finite(plot.x[i]) && Finite(plot.y[i])) {
      points.emplace_back(plot.x[i], plot.y[i]);
    } else {
      ++result.skipped;
    }
  }
  double xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  if (!points.empty()) {
    xlo = xhi = points[0].first;
    ylo = yhi = points[0].second;
    for (const auto& [x, y] : points) {
      xlo = std::min(xlo, x), xhi = std::max(xhi, x);
      ylo = std::min(ylo, y), yhi = std::max(yhi, y);
    }
  }
  if (plot.reference == ScatterPlot::Reference::kZeroLine) {
    ylo = std::min(ylo, 0.0), yhi = std::max(yhi, 0.0);
  }
  if (plot.reference == ScatterPlot::Reference::kIdentity) {
    // one scale on both axes so y = x is the diagonal
    xlo = ylo = std::min(xlo, ylo);
    xhi = yhi = std::max(xhi, yhi);
  }
  const std::vector<double> xt = NiceTicks(xlo, xhi), yt = NiceTicks(ylo, yhi);
  const double left = 88;
  Axis x{xt.front(), xt.back(), left, kWidth - kRight};
  Axis y{yt.front(), yt.back(), kHeight - kBottom, kTop};

  Header(&result.svg, plot.title);
  XAxis(&result.svg, x, y, xt, plot.x_label);
  YAxis(&result.svg, x, y, yt, plot.y_label);
  const char* ref_style = "stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"";
  if (plot.reference == ScatterPlot::Reference::kZeroLine) {
    result.svg += "<g class=\"reference\">\n";
    Line(&result.svg, x.from, y.Map(0), x.to, y.Map(0), ref_style);
    result.svg += "</g>\n";
  } else if (plot.reference == ScatterPlot::Reference::kIdentity) {
    const double lo = std::max(x.lo, y.lo), hi = std::min(x.hi, y.hi);
    result.svg += "<g class=\"reference\">\n";
    Line(&result.svg, x.Map(lo), y.Map(lo), x.Map(hi), y.Map(hi), ref_style);
    result.svg += "</g>\n";
  }
  result.svg += "<g class=\"points\" fill=\"#1f77b4\" fill-opacity=\"0.55\">\n";
  for (const auto& [px, py] : points) {
    result.svg += "<circle cx=\"" + Num(x.Map(px)) + "\" cy=\"" + Num(y.Map(py)) + "\" r=\"2.5\"/>\n";
  }
  result.svg += "</g>\n</svg>\n";
  result.points = points.size();
  return result;
}

SvgOutput RenderIntervals(const IntervalPlot& plot) {
  SvgOutput result;
  std::vector<IntervalRow> rows;
  for (const IntervalRow& r : plot.rows) {
    if (Finite(r.estimate)) {
      rows.push_back(r);
    } else {
      ++result.skipped;
    }
  }
  double lo = 0, hi = 0;  // 0 always in range: the reference line
  size_t longest = 4;
  auto has_bar = [](const IntervalRow& r) { return Finite(r.lower) && Finite(r.upper); };
  for (const IntervalRow& r : rows) {
    lo = std::min(lo, has_bar(r) ? std::min(r.lower, r.estimate) : r.estimate);
    hi = std::max(hi, has_bar(r) ? std::max(r.upper, r.estimate) : r.estimate);
    longest = std::max(longest, r.label.size());
  }
  const std::vector<double> xt = NiceTicks(lo, hi);
  // room for the term labels at the left, about 7 px a character, capped
  const double left = std::min(260.0, 24.0 + 7.0 * static_cast<double>(longest));
  Axis x{xt.front(), xt.back(), left, kWidth - kRight};
  const double band = rows.empty() ? 1 : (kHeight - kBottom - kTop) / static_cast<double>(rows.size());
  Axis y{0, 1, kHeight - kBottom, kTop};  // only its pixel range is used

  Header(&result.svg, plot.title);
  XAxis(&result.svg, x, y, xt, plot.x_label);
  result.svg += "<g class=\"y-axis\">\n";
  Line(&result.svg, x.from, y.from, x.from, y.to, "stroke=\"black\"");
  for (size_t i = 0; i < rows.size(); ++i) {
    const double py = kTop + band * (static_cast<double>(i) + 0.5);
    Line(&result.svg, x.from - 5, py, x.from, py, "stroke=\"black\"");
    Text(&result.svg, x.from - 8, py + 4, "end", rows[i].label);
  }
  result.svg += "</g>\n<g class=\"reference\">\n";
  Line(&result.svg, x.Map(0), y.from, x.Map(0), y.to,
       "stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"");
  result.svg += "</g>\n<g class=\"intervals\" stroke=\"#1f77b4\" stroke-width=\"2\">\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!has_bar(rows[i])) continue;
    const double py = kTop + band * (static_cast<double>(i) + 0.5);
    Line(&result.svg, x.Map(rows[i].lower), py, x.Map(rows[i].upper), py, "");
    Line(&result.svg, x.Map(rows[i].lower), py - 4, x.Map(rows[i].lower), py + 4, "");
    Line(&result.svg, x.Map(rows[i].upper), py - 4, x.Map(rows[i].upper), py + 4, "");
  }
  result.svg += "</g>\n<g class=\"points\" fill=\"#1f77b4\">\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const double py = kTop + band * (static_cast<double>(i) + 0.5);
    result.svg += "<circle cx=\"" + Num(x.Map(rows[i].estimate)) + "\" cy=\"" + Num(py) +
                  "\" r=\"4\"><title>" + XmlEscape(rows[i].label) + "</title></circle>\n";
  }
  result.svg += "</g>\n</svg>\n";
  result.points = rows.size();
  return result;
}

}  // namespace mlprod::client
