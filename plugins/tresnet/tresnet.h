// SPDX-License-Identifier: Apache-2.0
// backbone/tresnet_m, tresnet_l, tresnet_xl (Ridnik et al.), the paper's TResNet-L.
#pragma once

#include <torch/nn/modules/container/sequential.h>

#include "cpsd/sdk/backbone.h"
#include "layers.h"

namespace cpsd::tresnet {

/// The stages under "body", as timm names them (>= 0.9: conv/bn pairs):
/// space-to-depth 4 -> conv1 (3x3, LeakyReLU 0.01) -> layer1, layer2 (basic blocks, SE) ->
/// layer3 (bottlenecks, SE) -> layer4 (bottlenecks). Exposes layer1..layer4 (strides 4..32).
class BodyImpl : public torch::nn::Module {
 public:
  BodyImpl(std::vector<int64_t> layers, int64_t width);
  std::vector<torch::Tensor> forward(const torch::Tensor& x);
  std::vector<FeatureInfo> features;

 private:
  ConvNormAct conv1{nullptr};
  std::vector<torch::nn::Sequential> stages_;
};
TORCH_MODULE(Body);

class TResNet final : public Backbone {
 public:
  explicit TResNet(const BackboneArgs& args);
  std::vector<torch::Tensor> forward_features(const torch::Tensor& x) override;
  std::vector<FeatureInfo> feature_info() const override { return body_->features; }
  InputSpec input_spec() const override;
  /// Accepts timm >= 0.9 names as they are, and the original InplaceABN-era names (MIIL,
  /// ASL, CPSD, Q2L, timm <= 0.8: convN.0 / convN.1, convN.0.0 / convN.0.1 with
  /// anti-aliasing, downsample.K.0 / .1), which it renames and whose BatchNorm scale it
  /// converts to |weight| + 1e-5 (InplaceABN's effective scale). Anti-alias filter
  /// buffers are dropped. Only the original naming is converted, so weights trained here
  /// (where a scale may be negative) are never changed.
  void adapt_pretrained(std::vector<std::pair<std::string, torch::Tensor>>& weights) const override;

 private:
  Body body_{nullptr};
};

}  // namespace cpsd::tresnet
