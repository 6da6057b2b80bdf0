// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/affinity_picture.h"

#include <algorithm>
#include <cmath>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "cpsd/core/image_codec.h"
#include "cpsd/sdk/error.h"

namespace cpsd {

void write_affinity_picture(const std::filesystem::path& path, const std::vector<double>& affinity,
                            const std::vector<std::vector<int64_t>>& groups) {
  std::vector<int64_t> order;
  for (const auto& g : groups) order.insert(order.end(), g.begin(), g.end());
  const int m = static_cast<int>(order.size());
  if (m == 0 || affinity.size() != static_cast<std::size_t>(m) * m) {
    throw RuntimeError("affinity picture: " + std::to_string(affinity.size()) +
                       " affinity values for " + std::to_string(m) + " classes");
  }
  double top = 0;
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < m; ++j) {
      if (i != j) top = std::max(top, affinity[static_cast<std::size_t>(i) * m + j]);
    }
  }
  cv::Mat levels(m, m, CV_8UC1, cv::Scalar(0));
  for (int r = 0; r < m; ++r) {
    for (int c = 0; c < m; ++c) {
      if (r == c || top <= 0) continue;
      const double v = affinity[static_cast<std::size_t>(order[r]) * m + order[c]] / top;
      levels.at<uint8_t>(r, c) = static_cast<uint8_t>(std::lround(255 * std::clamp(v, 0.0, 1.0)));
    }
  }
  const int cell = std::clamp(800 / m, 1, 16);
  cv::Mat big, colour;
  cv::resize(levels, big, cv::Size(m * cell, m * cell), 0, 0, cv::INTER_NEAREST);
  cv::applyColorMap(big, colour, cv::COLORMAP_VIRIDIS);
  int offset = 0;
  for (std::size_t g = 0; g + 1 < groups.size(); ++g) {
    offset += static_cast<int>(groups[g].size()) * cell;
    cv::line(colour, {offset, 0}, {offset, colour.rows - 1}, cv::Scalar(255, 255, 255));
    cv::line(colour, {0, offset}, {colour.cols - 1, offset}, cv::Scalar(255, 255, 255));
  }
  image::write_png_atomically(path, colour, image::Order::bgr);
}

std::vector<double> symmetric_cooccurrence_probability(const LabelStatistics& stats) {
  const std::size_t m = stats.class_names.size();
  std::vector<double> p(m * m, 0.0);
  auto s = [&](std::size_t i, std::size_t j) {
    return stats.counts[i] > 0 ? stats.cooccurrence[i * m + j] / stats.counts[i] : 0.0;
  };
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < m; ++j) {
      if (i != j) p[i * m + j] = 0.5 * (s(i, j) + s(j, i));
    }
  }
  return p;
}

}  // namespace cpsd
