// SPDX-License-Identifier: Apache-2.0
// Head: maps backbone features to per-class logits (a LibTorch module).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "cpsd/sdk/backbone.h"
#include "cpsd/sdk/export.h"
#include "cpsd/sdk/options.h"

namespace cpsd {

/// Arguments of a head factory. A teacher's head is built for its label subset, the
/// student's for the full label set; the head cannot tell the difference.
struct HeadArgs {
  Options options;                       ///< the head's table merged over its defaults
  std::vector<FeatureInfo> features;     ///< the backbone's feature_info(), never empty
  int64_t num_classes = 0;               ///< >= 1: number of logits to produce
  std::vector<std::string> class_names;  ///< num_classes names, in output order
};

/// Feature maps -> logits. Ownership as for Backbone.
class CPSD_SDK_API Head : public torch::nn::Module {
 public:
  ~Head() override;

  /// features: the tensors returned by Backbone::forward_features (shallowest first).
  /// Returns float logits [N, num_classes()] on the features' device (raw scores: no
  /// sigmoid). Throws c10::Error on shapes that disagree with HeadArgs::features.
  virtual torch::Tensor forward(const std::vector<torch::Tensor>& features) = 0;

  /// Number of logits per image, equal to HeadArgs::num_classes.
  virtual int64_t num_classes() const = 0;

  /// How a classifier saved by other code maps onto this head when `[model] pretrained`
  /// loads a whole checkpoint: pairs of (name prefix in the file, prefix in this head), e.g. a
  /// torchvision classifier's "fc." onto this head's "fc.". Names under "head." are always
  /// the head's own. Default: none (every other name is offered to the backbone).
  virtual std::vector<std::pair<std::string, std::string>> foreign_classifier_prefixes() const;

  /// For class activation maps: float [num_classes, C] weights mapping the C channels of the
  /// deepest feature map, averaged over its positions, linearly onto the logits (a CAM
  /// exists), on the head's device and owned by it; or an undefined tensor when the head is no
  /// such map (`cpsd cam` then uses Grad-CAM). Default: undefined.
  virtual torch::Tensor class_activation_weights() const;
};

}  // namespace cpsd
