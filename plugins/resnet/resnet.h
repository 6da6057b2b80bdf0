// SPDX-License-Identifier: Apache-2.0
// backbone/resnet* and backbone/resnext*: torchvision's ResNet, any depth and width.
#pragma once

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/pooling.h>

#include "cpsd/sdk/backbone.h"

namespace cpsd::resnet {

/// Submodules conv1, bn1, layer1..layer4 with torchvision's names, so torchvision and timm
/// ImageNet checkpoints load by name. Exposes layer1..layer4 (strides 4..32 with the
/// ImageNet stem; 1..8 with the small one, 2..16 with its stride 2).
class ResNet final : public Backbone {
 public:
  explicit ResNet(const BackboneArgs& args);
  std::vector<torch::Tensor> forward_features(const torch::Tensor& x) override;
  std::vector<FeatureInfo> feature_info() const override { return features_; }
  InputSpec input_spec() const override;
  /// With frozen_bn, BatchNorm layers stay in eval mode whatever `on` is.
  void train(bool on = true) override;

 private:
  torch::nn::Sequential make_stage(int64_t& inplanes, int64_t planes, int64_t blocks,
                                   int64_t stride);

  bool bottleneck_ = false;
  bool small_stem_ = false;
  bool frozen_bn_ = false;
  int64_t groups_ = 1, width_per_group_ = 64;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  torch::nn::MaxPool2d maxpool_{nullptr};
  std::vector<torch::nn::Sequential> stages_;
  std::vector<FeatureInfo> features_;
};

/// The options of every variant; each variant's record sets its own defaults.
/// `name` is the variant ("resnet50"), the rest are TOML values.
std::string resnet_defaults(const char* name, const char* block, const char* layers, int width,
                            int groups, int width_per_group, const char* stem);

}  // namespace cpsd::resnet
