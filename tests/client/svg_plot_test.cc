// The SVG plots of `runs plot`: well-formed, titled, with axes, one <circle> per finite point.
#include "client/svg_plot.h"

#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace mlprod::client {
namespace {

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A small well-formedness check: every element opened is closed in order, attributes quoted,
// no raw '&' outside an entity. (The integration test parses the files with a real XML parser.)
::testing::AssertionResult WellFormed(const std::string& svg) {
  std::vector<std::string> stack;
  size_t i = svg.find("<svg");
  if (i == std::string::npos) return ::testing::AssertionFailure() << "no <svg>";
  std::regex amp("&(?!(amp|lt|gt|quot|apos);)");
  if (std::regex_search(svg, amp)) return ::testing::AssertionFailure() << "raw &";
  while ((i = svg.find('<', i)) != std::string::npos) {
    const size_t end = svg.find('>', i);
    if (end == std::string::npos) return ::testing::AssertionFailure() << "unclosed tag at " << i;
    std::string tag = svg.substr(i + 1, end - i - 1);
    if (tag.empty()) return ::testing::AssertionFailure() << "empty tag";
    if (Count(tag, "\"") % 2 != 0) return ::testing::AssertionFailure() << "unbalanced quotes: " << tag;
    if (tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name) {
        return ::testing::AssertionFailure() << "</" << name << "> closes "
                                             << (stack.empty() ? "nothing" : stack.back());
      }
      stack.pop_back();
    } else if (tag.back() != '/' && tag[0] != '?' && tag[0] != '!') {
      stack.push_back(tag.substr(0, tag.find_first_of(" \n")));
    }
    i = end + 1;
  }
  if (!stack.empty()) return ::testing::AssertionFailure() << "<" << stack.back() << "> never closed";
  return ::testing::AssertionSuccess();
}

TEST(NiceTicks, RoundStepsCoveringTheRange) {
  EXPECT_EQ(NiceTicks(0, 10), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(NiceTicks(3, 97), (std::vector<double>{0, 20, 40, 60, 80, 100}));
  std::vector<double> t = NiceTicks(-0.37, 0.52);
  EXPECT_LE(t.front(), -0.37);
  EXPECT_GE(t.back(), 0.52);
  EXPECT_NEAR(t[1] - t[0], 0.2, 1e-12);
  for (double v : t) EXPECT_FALSE(std::signbit(v) && v == 0) << "negative zero";
}

TEST(NiceTicks, DegenerateAndNonFiniteRanges) {
  std::vector<double> t = NiceTicks(5, 5);
  ASSERT_GE(t.size(), 2u);
  EXPECT_LT(t.front(), 5);
  EXPECT_GT(t.back(), 5);
  EXPECT_GE(NiceTicks(0, 0).size(), 2u);
  EXPECT_GE(NiceTicks(NAN, 1).size(), 2u);
}

TEST(FormatTick, DigitsFollowTheStep) {
  EXPECT_EQ(FormatTick(1500, 500), "1500");
  EXPECT_EQ(FormatTick(0.25, 0.05), "0.25");
  EXPECT_EQ(FormatTick(0.2, 0.2), "0.2");
  EXPECT_EQ(FormatTick(2e6, 1e6), "2e+06");
}

TEST(XmlEscape, EscapesMarkup) {
  EXPECT_EQ(XmlEscape("a < b & \"c\" > 'd'"), "a &lt; b &amp; &quot;c&quot; &gt; &apos;d&apos;");
}

ScatterPlot Scatter(size_t n, ScatterPlot::Reference reference) {
  ScatterPlot p;
  p.title = "Residuals vs fitted, r1: y ~ x & <z>";
  p.x_label = "Fitted values";
  p.y_label = "Residuals";
  p.reference = reference;
  for (size_t i = 0; i < n; ++i) {
    p.x.push_back(1000.0 + 3.0 * static_cast<double>(i));
    p.y.push_back(std::sin(static_cast<double>(i)) * 50);
  }
  return p;
}

TEST(RenderScatter, OneCirclePerPointWithTitleAxesAndZeroLine) {
  SvgOutput out = RenderScatter(Scatter(2000, ScatterPlot::Reference::kZeroLine));
  EXPECT_TRUE(WellFormed(out.svg));
  EXPECT_EQ(out.points, 2000u);
  EXPECT_EQ(Count(out.svg, "<circle"), 2000u);
  EXPECT_NE(out.svg.find("<title>Residuals vs fitted, r1: y ~ x &amp; &lt;z&gt;</title>"),
            std::string::npos);
  EXPECT_NE(out.svg.find("class=\"x-axis\""), std::string::npos);
  EXPECT_NE(out.svg.find("class=\"y-axis\""), std::string::npos);
  EXPECT_NE(out.svg.find(">Fitted values</text>"), std::string::npos);
  EXPECT_NE(out.svg.find(">Residuals</text>"), std::string::npos);
  EXPECT_NE(out.svg.find("class=\"reference\""), std::string::npos);
  EXPECT_EQ(out.svg.find("nan"), std::string::npos);
  EXPECT_EQ(out.svg.find("inf"), std::string::npos);
}

TEST(RenderScatter, SkipsNonFinitePoints) {
  ScatterPlot p = Scatter(10, ScatterPlot::Reference::kIdentity);
  p.y[3] = NAN;
  p.x[7] = INFINITY;
  SvgOutput out = RenderScatter(p);
  EXPECT_TRUE(WellFormed(out.svg));
  EXPECT_EQ(out.points, 8u);
  EXPECT_EQ(out.skipped, 2u);
  EXPECT_EQ(Count(out.svg, "<circle"), 8u);
}

TEST(RenderScatter, EmptyAndSinglePointStillRender) {
  SvgOutput empty = RenderScatter(Scatter(0, ScatterPlot::Reference::kNone));
  EXPECT_TRUE(WellFormed(empty.svg));
  EXPECT_EQ(Count(empty.svg, "<circle"), 0u);
  SvgOutput one = RenderScatter(Scatter(1, ScatterPlot::Reference::kIdentity));
  EXPECT_TRUE(WellFormed(one.svg));
  EXPECT_EQ(Count(one.svg, "<circle"), 1u);
  EXPECT_EQ(one.svg.find("nan"), std::string::npos);
}

TEST(RenderIntervals, EstimatesWithoutIntervalsArePointsWithoutBars) {
  IntervalPlot p;
  p.title = "Coefficients";
  p.x_label = "Estimate";
  p.rows = {{"x1", 0.21, NAN, NAN}, {"x2", -0.11, NAN, NAN}, {"x3", 0.4, 0.3, 0.5}};
  SvgOutput out = RenderIntervals(p);
  EXPECT_TRUE(WellFormed(out.svg));
  EXPECT_EQ(out.points, 3u);
  EXPECT_EQ(out.skipped, 0u);
  const size_t start = out.svg.find("class=\"intervals\"");
  const size_t end = out.svg.find("class=\"points\"");
  ASSERT_NE(start, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(Count(out.svg.substr(start, end - start), "<line"), 3u);  // x3's bar and two ticks
}

TEST(RenderIntervals, OnePointAndBarPerTermSkippingAliased) {
  IntervalPlot p;
  p.title = "Coefficients";
  p.x_label = "Estimate";
  p.rows = {{"years_code", 2.5, 2.0, 3.0},
            {"countryGermany", -1200, -1500, -900},
            {"aliased", NAN, NAN, NAN},
            {"I(years_code^2)", 0.1, -0.2, 0.4}};
  SvgOutput out = RenderIntervals(p);
  EXPECT_TRUE(WellFormed(out.svg));
  EXPECT_EQ(out.points, 3u);
  EXPECT_EQ(out.skipped, 1u);
  EXPECT_EQ(Count(out.svg, "<circle"), 3u);
  EXPECT_NE(out.svg.find(">countryGermany</text>"), std::string::npos);
  EXPECT_NE(out.svg.find(">I(years_code^2)</text>"), std::string::npos);
  EXPECT_NE(out.svg.find("class=\"intervals\""), std::string::npos);
}

}  // namespace
}  // namespace mlprod::client
