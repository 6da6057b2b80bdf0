// SPDX-License-Identifier: Apache-2.0
#include "layers.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/padding.h>
#include <torch/nn/modules/pooling.h>

namespace cpsd::tresnet {
namespace F = torch::nn::functional;

ConvNormActImpl::ConvNormActImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                                 double slope, bool blur)
    : slope_(slope), blur_(blur) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                                                       .stride(blur ? 1 : stride)
                                                       .padding(kernel / 2)
                                                       .bias(false)));
  bn = register_module("bn", torch::nn::BatchNorm2d(out));
}

torch::Tensor ConvNormActImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = bn(conv(x));
  if (slope_ >= 0) y = F::leaky_relu(y, F::LeakyReLUFuncOptions().negative_slope(slope_));
  if (blur_) {
    // Anti-aliased downsampling: reflect-pad by 1, depthwise [1 2 1]x[1 2 1]/16, stride 2.
    const int64_t c = y.size(1);
    const torch::Tensor k1 = torch::tensor({1.0, 2.0, 1.0}, y.options());
    const torch::Tensor filter = (k1.unsqueeze(1) * k1.unsqueeze(0) / 16.0).expand({c, 1, 3, 3});
    y = F::conv2d(F::pad(y, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReflect)), filter,
                  F::Conv2dFuncOptions().stride(2).groups(c));
  }
  return y;
}

SqueezeExciteImpl::SqueezeExciteImpl(int64_t channels, int64_t reduced) {
  fc1 = register_module(
      "fc1", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, reduced, 1).bias(true)));
  fc2 = register_module(
      "fc2", torch::nn::Conv2d(torch::nn::Conv2dOptions(reduced, channels, 1).bias(true)));
}

torch::Tensor SqueezeExciteImpl::forward(const torch::Tensor& x) {
  return x * torch::sigmoid(fc2(torch::relu(fc1(x.mean({2, 3}, true)))));
}

torch::nn::Sequential make_downsample(int64_t in, int64_t out, bool pool) {
  torch::nn::Sequential s;
  if (pool) {
    s->push_back(torch::nn::AvgPool2d(
        torch::nn::AvgPool2dOptions(2).stride(2).ceil_mode(true).count_include_pad(false)));
  }
  s->push_back(ConvNormAct(in, out, 1, 1, -1.0, false));
  return s;
}

BasicBlockImpl::BasicBlockImpl(int64_t in, int64_t planes, int64_t stride, bool use_se) {
  conv1 = register_module("conv1", ConvNormAct(in, planes, 3, stride, 1e-3, stride == 2));
  conv2 = register_module("conv2", ConvNormAct(planes, planes, 3, 1, -1.0, false));
  if (use_se)
    se = register_module("se",
                         SqueezeExcite(planes, std::max<int64_t>(planes * kExpansion / 4, 64)));
  if (stride != 1 || in != planes * kExpansion) {
    downsample =
        register_module("downsample", make_downsample(in, planes * kExpansion, stride == 2));
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor out = conv2(conv1(x));
  if (se) out = se(out);
  return torch::relu(out + (downsample ? downsample->forward(x) : x));
}

BottleneckImpl::BottleneckImpl(int64_t in, int64_t planes, int64_t stride, bool use_se) {
  conv1 = register_module("conv1", ConvNormAct(in, planes, 1, 1, 1e-3, false));
  conv2 = register_module("conv2", ConvNormAct(planes, planes, 3, stride, 1e-3, stride == 2));
  if (use_se)
    se = register_module("se",
                         SqueezeExcite(planes, std::max<int64_t>(planes * kExpansion / 8, 64)));
  conv3 = register_module("conv3", ConvNormAct(planes, planes * kExpansion, 1, 1, -1.0, false));
  if (stride != 1 || in != planes * kExpansion) {
    downsample =
        register_module("downsample", make_downsample(in, planes * kExpansion, stride == 2));
  }
}

torch::Tensor BottleneckImpl::forward(const torch::Tensor& x) {
  torch::Tensor out = conv2(conv1(x));
  if (se) out = se(out);
  out = conv3(out);
  return torch::relu(out + (downsample ? downsample->forward(x) : x));
}

}  // namespace cpsd::tresnet
