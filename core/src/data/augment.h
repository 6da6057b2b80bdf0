// SPDX-License-Identifier: Apache-2.0
// Private: image operations on 8-bit RGB cv::Mat, as the reference recipe uses them.
#pragma once

#include <opencv2/core.hpp>

#include "cpsd/core/data/image_pipeline.h"

namespace cpsd::data::augment {

/// Uniform in [0, 1) and in [0, n): portable draws (not std::uniform_*_distribution).
double uniform01(Rng& rng);
int64_t uniform_int(Rng& rng, int64_t n);

void horizontal_flip(cv::Mat& rgb);

/// ASL/CPSD CutoutPIL(cutout_factor): a (factor x side) box centred at a uniform point,
/// clipped to the image, both ends inclusive, filled with one uniform random colour.
void cutout(cv::Mat& rgb, double factor, Rng& rng);

/// The 15 operations of the `randaugment` package the reference uses.
enum class Op {
  shear_x,
  shear_y,
  translate_x,
  translate_y,
  rotate,
  color,
  posterize,
  solarize,
  contrast,
  sharpness,
  brightness,
  autocontrast,
  equalize,
  invert,
  cutout
};
inline constexpr int kNumOps = 15;

/// Applies `op` at magnitude index m (1..9), with the package's ranges
/// (shear 0.3, translate 150/331, rotate 30 degrees, enhance 0.9, posterize 8->4 bits,
/// solarize 256->0, cutout 20 px); `rng` draws signs and positions.
void apply(Op op, int magnitude, cv::Mat& rgb, Rng& rng);

/// RandAugment as the reference calls it: twice, a uniform op at a uniform magnitude 1..9,
/// each applied with probability 0.5.
void rand_augment(cv::Mat& rgb, Rng& rng);

}  // namespace cpsd::data::augment
