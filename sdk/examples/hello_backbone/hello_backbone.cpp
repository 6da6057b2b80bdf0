// SPDX-License-Identifier: Apache-2.0
// A complete cpsd plugin in one file: a small two-stage CNN backbone, "backbone/hello_cnn".
#include <torch/nn/functional/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

#include "cpsd/sdk/plugin.h"

namespace hello {

class HelloCnn final : public cpsd::Backbone {
 public:
  // Every option is read from args.options; its defaults are kDefaults below.
  explicit HelloCnn(const cpsd::BackboneArgs& args) : width_(args.options.get_int("width")) {
    if (width_ < 1 || width_ > 1024) args.options.fail("width", "must be in 1..1024");
    conv1_ = register_module(
        "conv1",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(3, width_, 3).stride(2).padding(1).bias(false)));
    bn1_ = register_module("bn1", torch::nn::BatchNorm2d(width_));
    conv2_ = register_module(
        "conv2",
        torch::nn::Conv2d(
            torch::nn::Conv2dOptions(width_, 2 * width_, 3).stride(2).padding(1).bias(false)));
    bn2_ = register_module("bn2", torch::nn::BatchNorm2d(2 * width_));
    cpsd::plugin::log_debug("hello_cnn built with width " + std::to_string(width_));
  }

  std::vector<torch::Tensor> forward_features(const torch::Tensor& x) override {
    torch::Tensor f1 = torch::relu(bn1_->forward(conv1_->forward(x)));
    torch::Tensor f2 = torch::relu(bn2_->forward(conv2_->forward(f1)));
    return {f1, f2};
  }

  std::vector<cpsd::FeatureInfo> feature_info() const override {
    return {{width_, 2, "conv1"}, {2 * width_, 4, "conv2"}};
  }

  static constexpr const char* kDefaults = R"(# backbone/hello_cnn
width = 8   # channels of the first stage (the second has twice as many)
)";

 private:
  int64_t width_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
};

}  // namespace hello

// The plugin's one exported symbol: name, version, then one record per implementation.
CPSD_PLUGIN("hello", "1.0.0",
            cpsd::plugin::factory<hello::HelloCnn>("hello_cnn", "two-stage toy CNN (SDK example)",
                                                   hello::HelloCnn::kDefaults))
