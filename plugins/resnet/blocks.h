// SPDX-License-Identifier: Apache-2.0
// ResNet residual blocks with torchvision's submodule names (conv1, bn1, ..., downsample).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

namespace cpsd::resnet {

/// Two 3x3 convolutions (ResNet-18/34). Output channels = planes.
class BasicBlockImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlockImpl(int64_t inplanes, int64_t planes, int64_t stride,
                 torch::nn::Sequential downsample);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::BatchNorm2d last_bn() { return bn2; }

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(BasicBlock);

/// 1x1 -> 3x3 (grouped, strided: torchvision's "V1.5") -> 1x1 (ResNet-50+, ResNeXt).
/// Output channels = 4 x planes; inner width = planes x width_per_group / 64 x groups.
class BottleneckImpl : public torch::nn::Module {
 public:
  static constexpr int64_t kExpansion = 4;
  BottleneckImpl(int64_t inplanes, int64_t planes, int64_t stride, torch::nn::Sequential downsample,
                 int64_t groups, int64_t width_per_group);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::BatchNorm2d last_bn() { return bn3; }

 private:
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

}  // namespace cpsd::resnet
