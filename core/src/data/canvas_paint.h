// SPDX-License-Identifier: Apache-2.0
// Private: the painting shared by the fashion-scenes and fashion-items generators.
#pragma once

#include <cstdint>

#include <opencv2/core.hpp>

#include "cpsd/core/data/image_pipeline.h"

namespace cpsd::data {

/// A side x side RGB canvas (CV_64FC3, 0..255) of dark grey noise: a random level in
/// [20, 60) plus per-pixel noise of +-8.
cv::Mat noise_background(int side, Rng& rng);

/// Draws a grey glyph (rows x cols bytes, 255 = ink) resized to size x size at (x0, y0),
/// its ink blended towards `tint` (RGB).
void paste_tinted(cv::Mat& canvas, const uint8_t* glyph, int rows, int cols, int size, int x0,
                  int y0, const cv::Vec3d& tint);

/// The canvas as an 8-bit BGR image for image::write_jpeg.
cv::Mat to_bgr(const cv::Mat& canvas);

}  // namespace cpsd::data
