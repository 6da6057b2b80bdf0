// SPDX-License-Identifier: Apache-2.0
// From an image file to a normalised float tensor: decode, resize, augment, convert.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "cpsd/core/export.h"
#include "cpsd/sdk/error.h"

namespace cpsd::data {

/// Per-sample random generator; its sequence is fixed by the C++ standard.
using Rng = std::mt19937_64;

/// The seed of sample `index` in `epoch` of a run seeded `seed`: augmentation depends on
/// these three numbers only, not on threads or batch composition.
CPSD_CORE_API uint64_t sample_seed(uint64_t seed, int64_t epoch, int64_t index);

/// An image that cannot be used (missing, unreadable, truncated, not an image).
class CPSD_CORE_API BadImage : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
  ~BadImage() override;
};

enum class ResizeMode {
  squash,  ///< stretch to size x size (the reference recipe)
  pad      ///< keep the aspect: longer side to size, centred on a black square
};
enum class Normalization {
  none,     ///< pixels / 255 in [0, 1] (the reference recipe, all backbones)
  imagenet  ///< then (x - mean) / std with ImageNet's mean and std
};

struct PipelineOptions {
  int64_t image_size = 224;
  ResizeMode resize = ResizeMode::squash;
  Normalization normalization = Normalization::none;
  /// Let the JPEG decoder shrink by 2, 4 or 8 (DCT scaling) when the image stays at least
  /// image_size on both sides: several times faster on large photos.
  bool fast_decode = true;
  // Training augmentation, applied in this order after resizing:
  bool flip = false;    ///< horizontal flip with probability 0.5
  double cutout = 0.0;  ///< reference CutoutPIL: a box of factor x size, random colour (0 = off)
  bool randaugment = false;  ///< reference RandAugment: 2 of 15 ops, magnitude 1..9, p = 0.5 each
};

/// Stateless and thread-safe: one pipeline is shared by every loader thread.
class CPSD_CORE_API ImagePipeline {
 public:
  explicit ImagePipeline(PipelineOptions options);

  const PipelineOptions& options() const { return options_; }

  /// Loads `path` into `out`, 3 x size x size floats in CHW order (RGB). `rng` drives the
  /// augmentations. Throws BadImage naming the file.
  void load(const std::string& path, Rng& rng, float* out) const;

 private:
  PipelineOptions options_;
};

}  // namespace cpsd::data
