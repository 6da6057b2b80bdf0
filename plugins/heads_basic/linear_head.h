// SPDX-License-Identifier: Apache-2.0
// head/linear: global average pooling of the deepest feature map, then one linear layer.
#pragma once

#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "cpsd/sdk/head.h"

namespace cpsd::heads {

/// Logits = fc(dropout(mean over H, W of the last map)). Submodule "fc", so a torchvision
/// classifier's `fc.*` (or timm's `head.fc.*`) loads into it by name.
class LinearHead final : public Head {
 public:
  explicit LinearHead(const HeadArgs& args);
  torch::Tensor forward(const std::vector<torch::Tensor>& features) override;
  int64_t num_classes() const override { return num_classes_; }
  /// A torchvision or timm classifier ("fc.", "head.fc."), and the "classifier." and
  /// "classify." of other codebases, are this head's "fc.".
  std::vector<std::pair<std::string, std::string>> foreign_classifier_prefixes() const override;
  /// fc.weight: the logits are a linear map of the pooled deepest features.
  torch::Tensor class_activation_weights() const override;

  static constexpr const char* kDefaults = R"(# head/linear
dropout = 0.0      # dropout rate before the classifier (0 = none)
init_std = 0.0     # > 0: weights ~ N(0, init_std) and zero bias (TResNet uses 0.01); 0 = PyTorch default
)";

 private:
  int64_t num_classes_;
  int64_t in_channels_;
  torch::nn::Dropout dropout_{nullptr};
  torch::nn::Linear fc_{nullptr};
};

}  // namespace cpsd::heads
