// SPDX-License-Identifier: Apache-2.0
// runtime.channels_last on the CPU: the model's convolution weights and the images become
// NHWC (oneDNN's fast layout) and the model computes the same function as in NCHW, whose
// kernels are other ones: logits and every gradient agree to float rounding.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "cpsd/core/engine/compute.h"
#include "cpsd/core/model.h"
#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd::engine {
namespace {

const Registry& registry() { return test::in_tree_plugins().registry(); }

RunConfig config(const std::string& backbone_toml, bool channels_last) {
  const std::string toml = std::string("[runtime]\nchannels_last = ") +
                           (channels_last ? "true" : "false") +
                           "\n[model]\nbackbone = \"resnet\"\nhead = \"linear\"\n" + backbone_toml;
  return RunConfig::parse(toml, "model.toml", {}, registry());
}

std::vector<std::string> class_names(int64_t n) {
  std::vector<std::string> out;
  for (int64_t c = 0; c < n; ++c) out.push_back("c" + std::to_string(c));
  return out;
}

double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-30);
}

// Builds the model in both formats from the same weights, runs a training-mode forward and
// backward on the same images and compares.
void expect_same_function(const std::string& backbone_toml) {
  const std::vector<std::string> names = class_names(7);
  const RunConfig nchw_config = config(backbone_toml, false);
  const RunConfig nhwc_config = config(backbone_toml, true);
  torch::manual_seed(3);
  const auto nchw = build_model(nchw_config, registry(), names);
  const auto nhwc = build_model(nhwc_config, registry(), names);
  {
    torch::NoGradGuard no_grad;
    const auto from = nchw->named_parameters();
    for (auto& p : nhwc->named_parameters()) p.value().copy_(from[p.key()]);
  }
  int64_t converted = 0;
  for (const auto& p : nhwc->named_parameters()) {
    if (p.value().dim() != 4) continue;
    EXPECT_TRUE(p.value().is_contiguous(at::MemoryFormat::ChannelsLast)) << p.key();
    converted += p.value().size(2) > 1 || p.value().size(3) > 1;  // 1x1: both layouts agree
    EXPECT_TRUE(nchw->named_parameters()[p.key()].is_contiguous()) << p.key();
  }
  ASSERT_GT(converted, 0) << "no 3x3 convolution weight was made NHWC";
  const torch::Tensor images = torch::rand({6, 3, 32, 32});
  const torch::Tensor weights = torch::randn({6, 7});
  const torch::Tensor a = nchw->forward(Compute::of(nchw_config).images(images));
  const torch::Tensor nhwc_images = Compute::of(nhwc_config).images(images);
  EXPECT_TRUE(nhwc_images.is_contiguous(at::MemoryFormat::ChannelsLast));
  const torch::Tensor b = nhwc->forward(nhwc_images);
  EXPECT_LT(relative_difference(b, a), 1e-5);
  (a * weights).sum().backward();
  (b * weights).sum().backward();
  const auto grads = nchw->named_parameters();
  for (const auto& p : nhwc->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_LT(relative_difference(p.value().grad(), grads[p.key()].grad()), 1e-4) << p.key();
  }
}

TEST(ChannelsLast, ResnetComputesTheSameOnTheCpu) {
  expect_same_function("[backbone.resnet]\nwidth = 16\nstem = \"small\"\nstem_stride = 2\n");
}

TEST(ChannelsLast, GroupedBottleneckResnetComputesTheSameOnTheCpu) {
  expect_same_function(
      "[backbone.resnet]\nblock = \"bottleneck\"\nwidth = 16\ngroups = 4\nwidth_per_group = 16\n"
      "stem = \"imagenet\"\n");
}

// The oneDNN fault this LibTorch has (strided 1x1 convolutions of under 16 input channels)
// is refused before any tensor is computed, naming the layer; NCHW builds the same model.
TEST(ChannelsLast, RefusesOnTheCpuWhatItsKernelsGetWrong) {
  const std::string narrow = "[backbone.resnet]\nwidth = 8\nstem = \"small\"\n";
  EXPECT_NO_THROW(build_model(config(narrow, false), registry(), class_names(3)));
  try {
    build_model(config(narrow, true), registry(), class_names(3));
    FAIL() << "a width-8 ResNet was made channels-last on the CPU";
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("channels_last"), std::string::npos) << message;
    EXPECT_NE(message.find("layer2.0.downsample.0"), std::string::npos) << message;
    EXPECT_NE(message.find("8 input channels"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace cpsd::engine
