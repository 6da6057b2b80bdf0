// SPDX-License-Identifier: Apache-2.0
// Line charts as PNG (learning curves), drawn with OpenCV.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cpsd/core/export.h"

namespace cpsd::vis {

struct Series {
  std::string name;
  std::vector<double> x, y;
};

struct Chart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool log_y = false;  ///< logarithmic y axis (learning rates)
};

/// Draws the charts side by side (each 500 x 300 px) into one PNG, with axes, tick labels,
/// axis labels, a title and a legend per chart. Written atomically.
CPSD_CORE_API void write_charts(const std::filesystem::path& png, const std::vector<Chart>& charts);

}  // namespace cpsd::vis
