// SPDX-License-Identifier: Apache-2.0
// TResNet building blocks with timm's (>= 0.9) submodule names: conv/bn pairs, se.fc1/fc2.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

namespace cpsd::tresnet {

/// Convolution (no bias) + BatchNorm + LeakyReLU(slope) or no activation (slope < 0), and
/// with `blur` a fixed [1 2 1]x[1 2 1]/16 anti-alias filter at stride 2 after it (the
/// convolution itself then runs at stride 1). Replaces InplaceABN exactly in eval mode once
/// weights are converted (see TResNet::adapt_pretrained).
class ConvNormActImpl : public torch::nn::Module {
 public:
  ConvNormActImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, double slope, bool blur);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::BatchNorm2d norm() { return bn; }

 private:
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  double slope_;
  bool blur_;
};
TORCH_MODULE(ConvNormAct);

/// Squeeze-and-excitation with a sigmoid gate: x * sigmoid(fc2(relu(fc1(mean(x))))).
class SqueezeExciteImpl : public torch::nn::Module {
 public:
  SqueezeExciteImpl(int64_t channels, int64_t reduced);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(SqueezeExcite);

/// AvgPool 2x2 (ceil mode, no padding counted) when `pool`, then 1x1 ConvNormAct: the
/// shortcut of a stage's first block ("downsample.0" pool, "downsample.1" conv).
torch::nn::Sequential make_downsample(int64_t in, int64_t out, bool pool);

class BasicBlockImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlockImpl(int64_t in, int64_t planes, int64_t stride, bool se);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::BatchNorm2d last_norm() { return conv2->norm(); }

 private:
  ConvNormAct conv1{nullptr}, conv2{nullptr};
  SqueezeExcite se{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

/// SE sits after the 3x3 (before the last 1x1), unlike SE-ResNet.
class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t in, int64_t planes, int64_t stride, bool se);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::BatchNorm2d last_norm() { return conv3->norm(); }

 private:
  ConvNormAct conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  SqueezeExcite se{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

}  // namespace cpsd::tresnet
