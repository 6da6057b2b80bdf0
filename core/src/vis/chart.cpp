// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/vis/chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include <opencv2/imgproc.hpp>

#include "cpsd/core/image_codec.h"
#include "cpsd/sdk/error.h"

namespace cpsd::vis {
namespace {

constexpr int kWidth = 500, kHeight = 300, kLeft = 74, kRight = 104, kTop = 28, kBottom = 44;
const std::vector<cv::Scalar> kColours = {
    {180, 119, 31}, {14, 127, 255},  {44, 160, 44},   {40, 39, 214},  {189, 103, 148},
    {75, 86, 140},  {194, 119, 227}, {127, 127, 127}, {34, 189, 188}, {207, 190, 23}};

std::string label(double v) {
  char out[32];
  if (v != 0 && (std::abs(v) < 1e-2 || std::abs(v) >= 1e5)) {
    std::snprintf(out, sizeof(out), "%.0e", v);
  } else {
    std::snprintf(out, sizeof(out), "%.4g", v);
  }
  return out;
}

// The error bar's half-length at point i (0 when there is none or it is not finite).
double error_at(const Series& s, std::size_t i) {
  return i < s.err.size() && std::isfinite(s.err[i]) ? std::abs(s.err[i]) : 0.0;
}

enum class Align { left, centre, right };

void text(cv::Mat& m, const std::string& s, cv::Point at, double scale = 0.4,
          Align align = Align::left) {
  int base = 0;
  const cv::Size size = cv::getTextSize(s, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &base);
  if (align == Align::centre) at.x -= size.width / 2;
  if (align == Align::right) at.x -= size.width;
  cv::putText(m, s, at, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(30, 30, 30), 1, cv::LINE_AA);
}

// Tick positions at 1, 2 or 5 times a power of ten covering [lo, hi] (about `want` of them);
// integer-only when `integers` (epochs).
std::vector<double> nice_ticks(double lo, double hi, int want, bool integers) {
  const double raw = (hi - lo) / std::max(want, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double f : {1.0, 2.0, 5.0, 10.0}) {
    step = f * magnitude;
    if (step >= raw) break;
  }
  if (integers) step = std::max(1.0, std::round(step));
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + 1e-9 * step; t += step)
    ticks.push_back(t);
  return ticks;
}

constexpr int kPlotWidth = kWidth - kLeft - kRight, kPlotHeight = kHeight - kTop - kBottom;

// The data range of a chart and its mapping to pixels.
struct Frame {
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // y in axis units (log10 on a log axis)
  bool log_y = false, integer_x = true;
  double ty(double y) const { return log_y ? std::log10(std::max(y, 1e-12)) : y; }
  int px(double x) const {
    return kLeft + static_cast<int>(std::lround((x - x0) / (x1 - x0) * kPlotWidth));
  }
  int py_axis(double t) const {
    return kTop + kPlotHeight - static_cast<int>(std::lround((t - y0) / (y1 - y0) * kPlotHeight));
  }
  int py(double y) const { return py_axis(ty(y)); }
};

bool drawable(const Chart& c, const Series& s, std::size_t i) {
  return std::isfinite(s.y[i]) && !(c.log_y && s.y[i] <= 0);
}

// The range of every drawable point and its error bar, padded by 5% vertically.
Frame frame_of(const Chart& c) {
  Frame f;
  f.log_y = c.log_y;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const Series& s : c.series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!drawable(c, s, i)) continue;
      const double e = error_at(s, i);
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, f.ty(s.y[i] - e));
      y1 = std::max(y1, f.ty(s.y[i] + e));
      f.integer_x = f.integer_x && s.x[i] == std::round(s.x[i]);
    }
  }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (!c.x_names.empty()) {  // categories sit at 0, 1, ... with half a step of margin
    x0 = -0.5;
    x1 = static_cast<double>(c.x_names.size()) - 0.5;
  }
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y0 -= 0.5, y1 += 0.5;
  const double pad = 0.05 * (y1 - y0);
  bool bars = false;
  for (const Series& s : c.series) bars = bars || !s.err.empty();
  const double x_pad = bars && c.x_names.empty() ? 0.04 * (x1 - x0) : 0.0;  // bars off the frame
  f.x0 = x0 - x_pad, f.x1 = x1 + x_pad, f.y0 = y0 - pad, f.y1 = y1 + pad;
  return f;
}

// Frame, grid, ticks and their labels, title and axis labels.
void draw_axes(cv::Mat& m, const Chart& c, const Frame& f) {
  cv::rectangle(m, cv::Rect(kLeft, kTop, kPlotWidth, kPlotHeight), cv::Scalar(90, 90, 90));
  // y ticks: on a log axis at whole powers of ten (every other one when there are many)
  std::vector<double> yticks;
  if (c.log_y) {
    const int first = static_cast<int>(std::ceil(f.y0)), last = static_cast<int>(std::floor(f.y1));
    const int every = std::max(1, (last - first + 1) / 5);
    for (int e = first; e <= last; e += every) yticks.push_back(e);
  } else {
    yticks = nice_ticks(f.y0, f.y1, 5, false);
  }
  for (double t : yticks) {
    const int y = f.py_axis(t);
    cv::line(m, {kLeft, y}, {kLeft + kPlotWidth, y}, cv::Scalar(225, 225, 225));
    text(m, label(c.log_y ? std::pow(10.0, t) : t), {kLeft - 4, y + 4}, 0.35, Align::right);
  }
  std::vector<double> xticks = nice_ticks(f.x0, f.x1, 6, f.integer_x);
  if (!c.x_names.empty()) {
    xticks.clear();
    for (std::size_t i = 0; i < c.x_names.size(); ++i) xticks.push_back(static_cast<double>(i));
  }
  const int bottom = kTop + kPlotHeight;
  for (double t : xticks) {
    const int x = f.px(t);
    cv::line(m, {x, bottom}, {x, bottom + 3}, cv::Scalar(90, 90, 90));
    const std::string name =
        c.x_names.empty() ? label(t) : c.x_names[static_cast<std::size_t>(t)].substr(0, 12);
    text(m, name, {x, bottom + 15}, 0.35, Align::centre);
  }
  text(m, c.title, {kLeft + kPlotWidth / 2, 18}, 0.5, Align::centre);
  text(m, c.x_label, {kLeft + kPlotWidth / 2, kHeight - 8}, 0.4, Align::centre);
  cv::Mat ylabel(16, kPlotHeight, CV_8UC3, cv::Scalar(255, 255, 255));
  text(ylabel, c.y_label, {kPlotHeight / 2, 12}, 0.4, Align::centre);
  cv::rotate(ylabel, ylabel, cv::ROTATE_90_COUNTERCLOCKWISE);
  ylabel.copyTo(m(cv::Rect(2, kTop, 16, kPlotHeight)));
}

// One series: its error bars, line, points and legend entry (the k-th).
void draw_series(cv::Mat& m, const Chart& c, const Frame& f, std::size_t k) {
  const Series& s = c.series[k];
  const cv::Scalar colour = kColours[k % kColours.size()];
  std::vector<cv::Point> points;
  for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
    if (!drawable(c, s, i)) continue;
    points.emplace_back(f.px(s.x[i]), f.py(s.y[i]));
    const double e = error_at(s, i);
    if (e > 0) {  // the bar and its caps
      const int x = points.back().x, lo = f.py(s.y[i] - e), hi = f.py(s.y[i] + e);
      cv::line(m, {x, lo}, {x, hi}, colour, 1, cv::LINE_AA);
      cv::line(m, {x - 3, lo}, {x + 3, lo}, colour, 1, cv::LINE_AA);
      cv::line(m, {x - 3, hi}, {x + 3, hi}, colour, 1, cv::LINE_AA);
    }
  }
  if (s.line && points.size() > 1) cv::polylines(m, points, false, colour, 2, cv::LINE_AA);
  for (const cv::Point& p : points)
    cv::circle(m, p, s.line ? 2 : 4, colour, cv::FILLED, cv::LINE_AA);
  if (k < 18) {  // legend, right of the plot so it never hides a line
    const int ly = kTop + 8 + 14 * static_cast<int>(k);
    const int lx = kLeft + kPlotWidth + 8;
    cv::line(m, {lx, ly - 3}, {lx + 14, ly - 3}, colour, 2, cv::LINE_AA);
    text(m, s.name.substr(0, 13), {lx + 18, ly}, 0.35);
  }
}

void draw(cv::Mat& m, const Chart& c) {
  const Frame f = frame_of(c);
  draw_axes(m, c, f);
  for (std::size_t k = 0; k < c.series.size(); ++k) draw_series(m, c, f, k);
}

}  // namespace

void write_charts(const std::filesystem::path& png, const std::vector<Chart>& charts) {
  if (charts.empty()) throw RuntimeError("no charts to draw for " + png.string());
  cv::Mat canvas(kHeight, kWidth * static_cast<int>(charts.size()), CV_8UC3,
                 cv::Scalar(255, 255, 255));
  for (std::size_t i = 0; i < charts.size(); ++i) {
    cv::Mat part = canvas(cv::Rect(static_cast<int>(i) * kWidth, 0, kWidth, kHeight));
    draw(part, charts[i]);
  }
  image::write_png_atomically(png, canvas, image::Order::bgr);
}

}  // namespace cpsd::vis
