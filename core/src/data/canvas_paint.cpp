// SPDX-License-Identifier: Apache-2.0
#include "canvas_paint.h"

#include <opencv2/imgproc.hpp>

#include "augment.h"

namespace cpsd::data {

cv::Mat noise_background(int side, Rng& rng) {
  const double base = 20 + 40 * augment::uniform01(rng);
  cv::Mat canvas(side, side, CV_64FC3);
  for (int y = 0; y < side; ++y) {
    for (int x = 0; x < side; ++x) {
      const double v = base + 16 * (augment::uniform01(rng) - 0.5);
      canvas.at<cv::Vec3d>(y, x) = cv::Vec3d(v, v, v);
    }
  }
  return canvas;
}

void paste_tinted(cv::Mat& canvas, const uint8_t* glyph, int rows, int cols, int size, int x0,
                  int y0, const cv::Vec3d& tint) {
  const cv::Mat source(rows, cols, CV_8UC1, const_cast<uint8_t*>(glyph));
  cv::Mat resized;
  cv::resize(source, resized, cv::Size(size, size), 0, 0, cv::INTER_LINEAR);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const double alpha = resized.at<uint8_t>(y, x) / 255.0;
      cv::Vec3d& p = canvas.at<cv::Vec3d>(y0 + y, x0 + x);
      p = p * (1 - alpha) + tint * alpha;
    }
  }
}

cv::Mat to_bgr(const cv::Mat& canvas) {
  cv::Mat rgb, bgr;
  canvas.convertTo(rgb, CV_8UC3);
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

}  // namespace cpsd::data
