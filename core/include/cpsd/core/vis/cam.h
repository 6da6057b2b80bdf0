// SPDX-License-Identifier: Apache-2.0
// Class activation maps (the paper's Fig. 4) and pictures of them.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "cpsd/core/export.h"
#include "cpsd/core/model.h"

namespace cpsd::vis {

struct ActivationMap {
  at::Tensor map;    ///< float [H, W] in [0, 1], at the input's size (0 everywhere when flat)
  double score = 0;  ///< sigmoid of the class logit
};

/// The activation map of output `class_index` for one image `input` [1, 3, H, W] (on the
/// model's device): the classic CAM when the head has class activation weights
/// (Head::class_activation_weights: ReLU of the deepest feature map weighted by the class's
/// row), Grad-CAM on that map otherwise (weights = the logit's gradient averaged over
/// positions). Normalised to [0, 1], upsampled bilinearly to H x W. The model is put in eval
/// mode.
CPSD_CORE_API ActivationMap activation_map(MultiLabelModel& model, const at::Tensor& input,
                                           int64_t class_index);

/// One panel per (image, model): the image at `height` pixels high with its own aspect, the
/// map in the jet colour map blended over it, and a caption under it. Panels narrower than
/// the widest (other aspects) keep their size and are left-aligned in their cell.
struct Panel {
  std::string image_path;
  ActivationMap map;
  std::string caption;  ///< one line per '\n', e.g. "CGP teacher\nred_dress 0.93"
};

/// A grid of panels (rows of `columns`) written atomically as PNG.
CPSD_CORE_API void write_panel_grid(const std::filesystem::path& png,
                                    const std::vector<Panel>& panels, int columns,
                                    int height = 224);

/// The map alone as an 8-bit grey PNG at the input size (for checks and other tools).
CPSD_CORE_API void write_map_png(const std::filesystem::path& png, const ActivationMap& map);

}  // namespace cpsd::vis
