// SPDX-License-Identifier: Apache-2.0
// Line charts as PNG (learning curves, results with error bars), drawn with OpenCV.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cpsd/core/export.h"

namespace cpsd::vis {

struct Series {
  std::string name;
  std::vector<double> x, y;
  std::vector<double> err;  ///< half-length of an error bar at each point (empty: none)
  bool line = true;         ///< join the points; false draws points (and bars) only
};

struct Chart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool log_y = false;  ///< logarithmic y axis (learning rates)
  /// Categories on the x axis: x = 0, 1, ... are labelled with these names.
  std::vector<std::string> x_names;
};

/// Draws the charts side by side (each 500 x 300 px) into one PNG, with axes, tick labels,
/// axis labels, a title and a legend per chart. Written atomically.
CPSD_CORE_API void write_charts(const std::filesystem::path& png, const std::vector<Chart>& charts);

}  // namespace cpsd::vis
