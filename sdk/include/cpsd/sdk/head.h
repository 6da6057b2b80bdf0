// SPDX-License-Identifier: Apache-2.0
// Head: maps backbone features to per-class logits (a LibTorch module).
#pragma once

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
};

}  // namespace cpsd
