// SPDX-License-Identifier: Apache-2.0
// Backbone: the feature extractor interface (a LibTorch module).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>

#include "cpsd/sdk/export.h"
#include "cpsd/sdk/options.h"

namespace cpsd {

/// One feature map a backbone exposes (timm's feature_info).
struct FeatureInfo {
  int64_t channels = 0;  ///< C of the map
  int64_t stride = 1;    ///< input pixels per map pixel, e.g. 32 for ResNet's layer4
  std::string module;    ///< name of the submodule that produces it, e.g. "layer4"
};

/// Input the backbone's weights expect: the data half of a timm pretrained config.
struct InputSpec {
  int64_t default_size = 224;                 ///< square input side in pixels
  std::array<double, 3> mean{0.0, 0.0, 0.0};  ///< per-channel mean subtracted after /255
  std::array<double, 3> std{1.0, 1.0, 1.0};   ///< per-channel divisor after the mean
};

/// Arguments of a backbone factory.
struct BackboneArgs {
  Options options;  ///< the backbone's table merged over its defaults
};

/// A feature extractor. Implementations register their submodules under the names of the
/// reference PyTorch model (e.g. torchvision's `conv1`, `layer1.0.conv1`), so state-dict
/// keys match and pretrained weights load by name.
///
/// Ownership: created and destroyed inside its plugin; the host holds it through a
/// std::shared_ptr<Backbone> whose deleter keeps the plugin loaded.
class CPSD_SDK_API Backbone : public torch::nn::Module {
 public:
  ~Backbone() override;

  /// x: float32 (or autocast dtype) [N, 3, H, W] on the module's device.
  /// Returns one tensor per entry of feature_info(), shallowest first, each
  /// [N, channels_i, ceil(H / stride_i), ceil(W / stride_i)] on the same device.
  /// Throws c10::Error (a std::exception) on a wrong rank or channel count.
  virtual std::vector<torch::Tensor> forward_features(const torch::Tensor& x) = 0;

  /// The exposed maps, shallowest first; never empty. Stable for the object's lifetime.
  virtual std::vector<FeatureInfo> feature_info() const = 0;

  /// Preprocessing the pretrained weights expect. Default: 224, no normalisation.
  virtual InputSpec input_spec() const;

  /// Renames or converts pretrained weights (names relative to this backbone) before they
  /// are loaded, e.g. another codebase's key names or a normalisation layer's
  /// reparametrisation. Default: unchanged. Throws ConfigError for weights it cannot use.
  virtual void adapt_pretrained(std::vector<std::pair<std::string, torch::Tensor>>& weights) const;

  /// Channels of the deepest exposed map.
  int64_t num_features() const { return feature_info().back().channels; }
};

}  // namespace cpsd
