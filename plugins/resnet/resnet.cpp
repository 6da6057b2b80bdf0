// SPDX-License-Identifier: Apache-2.0
#include "resnet.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>

#include "blocks.h"

namespace cpsd::resnet {

std::string resnet_defaults(const char* name, const char* block, const char* layers, int width,
                            int groups, int width_per_group, const char* stem) {
  return std::string("# backbone/") + name + " (torchvision layout)\n" + "block = \"" + block +
         "\"        # basic (two 3x3) | bottleneck (1x1-3x3-1x1, x4 outputs)\n" +
         "layers = " + layers + "     # blocks in layer1..layer4\n" +
         "width = " + std::to_string(width) +
         "             # planes of layer1; each later stage doubles it\n" +
         "groups = " + std::to_string(groups) +
         "             # ResNeXt cardinality of the 3x3 convolution\n" +
         "width_per_group = " + std::to_string(width_per_group) +
         "   # ResNeXt width per group (64 = plain ResNet)\n" + "stem = \"" + stem +
         "\"       # imagenet (7x7/2 conv + 3x3/2 max pool) | small (3x3 conv, no pool: 32-96 px "
         "inputs)\n" +
         "stem_stride = 1      # small stem: 1, or 2 to run the stages at half the resolution (a "
         "quarter of the work)\n" +
         "zero_init_residual = false  # start each block as the identity (last BN weight 0)\n" +
         "frozen_bn = false    # BatchNorm always on running statistics, scale and shift fixed "
         "(Q2L's FrozenBatchNorm)\n" +
         "frozen_stages = 0    # 1: conv1, bn1 and layer1 not trained (Q2L); n: up to layer n\n";
}

ResNet::ResNet(const BackboneArgs& args) {
  const Options& o = args.options;
  const std::string block = o.get_string("block");
  if (block != "basic" && block != "bottleneck")
    o.fail("block", "must be \"basic\" or \"bottleneck\"");
  bottleneck_ = block == "bottleneck";
  const std::vector<int64_t> layers = o.get_int_list("layers");
  if (layers.size() != 4) o.fail("layers", "needs 4 block counts (layer1..layer4)");
  for (int64_t n : layers) {
    if (n < 1) o.fail("layers", "every stage needs at least one block");
  }
  const int64_t width = o.get_int("width");
  if (width < 1) o.fail("width", "must be >= 1");
  groups_ = o.get_int("groups");
  width_per_group_ = o.get_int("width_per_group");
  if (groups_ < 1) o.fail("groups", "must be >= 1");
  if (width_per_group_ < 1) o.fail("width_per_group", "must be >= 1");
  if (!bottleneck_ && (groups_ != 1 || width_per_group_ != 64)) {
    o.fail("groups", "basic blocks support only groups = 1 and width_per_group = 64");
  }
  const std::string stem = o.get_string("stem");
  if (stem != "imagenet" && stem != "small") o.fail("stem", "must be \"imagenet\" or \"small\"");
  small_stem_ = stem == "small";
  const int64_t stem_stride = o.get_int("stem_stride");
  if (stem_stride != 1 && stem_stride != 2) o.fail("stem_stride", "must be 1 or 2");
  if (!small_stem_ && stem_stride != 1)
    o.fail("stem_stride", "applies to the small stem only (the imagenet stem has stride 4)");

  conv1_ = register_module("conv1",
                           torch::nn::Conv2d(torch::nn::Conv2dOptions(3, width, small_stem_ ? 3 : 7)
                                                 .stride(small_stem_ ? stem_stride : 2)
                                                 .padding(small_stem_ ? 1 : 3)
                                                 .bias(false)));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(width));
  maxpool_ = torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1));
  int64_t inplanes = width;
  int64_t stride = small_stem_ ? stem_stride : 4;
  const int64_t expansion = bottleneck_ ? BottleneckImpl::kExpansion : BasicBlockImpl::kExpansion;
  for (int s = 0; s < 4; ++s) {
    const int64_t planes = width << s;
    stages_.push_back(register_module("layer" + std::to_string(s + 1),
                                      make_stage(inplanes, planes, layers[s], s == 0 ? 1 : 2)));
    if (s > 0) stride *= 2;
    features_.push_back({planes * expansion, stride, "layer" + std::to_string(s + 1)});
  }
  // torchvision's initialisation.
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* c = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* b = m->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(b->weight);
      torch::nn::init::zeros_(b->bias);
    }
  }
  frozen_bn_ = o.get_bool("frozen_bn");
  const int64_t frozen = o.get_int("frozen_stages");
  if (frozen < 0 || frozen > 4) o.fail("frozen_stages", "must be 0..4");
  for (auto& p : named_parameters()) {
    bool freeze = frozen_bn_ && p.key().find("bn") != std::string::npos;
    freeze |= frozen_bn_ && p.key().find("downsample.1.") != std::string::npos;
    freeze |= frozen >= 1 && (p.key().rfind("conv1.", 0) == 0 || p.key().rfind("bn1.", 0) == 0);
    for (int64_t s = 1; s <= frozen; ++s)
      freeze |= p.key().rfind("layer" + std::to_string(s) + ".", 0) == 0;
    if (freeze) p.value().set_requires_grad(false);
  }
  if (o.get_bool("zero_init_residual")) {
    torch::NoGradGuard no_grad;
    for (auto& stage : stages_) {
      for (auto& child : stage->children()) {
        if (auto* b = child->as<BottleneckImpl>()) b->last_bn()->weight.zero_();
        if (auto* b = child->as<BasicBlockImpl>()) b->last_bn()->weight.zero_();
      }
    }
  }
}

torch::nn::Sequential ResNet::make_stage(int64_t& inplanes, int64_t planes, int64_t blocks,
                                         int64_t stride) {
  const int64_t expansion = bottleneck_ ? BottleneckImpl::kExpansion : BasicBlockImpl::kExpansion;
  torch::nn::Sequential stage;
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t s = b == 0 ? stride : 1;
    torch::nn::Sequential downsample{nullptr};
    if (b == 0 && (s != 1 || inplanes != planes * expansion)) {
      downsample = torch::nn::Sequential(
          torch::nn::Conv2d(
              torch::nn::Conv2dOptions(inplanes, planes * expansion, 1).stride(s).bias(false)),
          torch::nn::BatchNorm2d(planes * expansion));
    }
    if (bottleneck_) {
      stage->push_back(Bottleneck(inplanes, planes, s, downsample, groups_, width_per_group_));
    } else {
      stage->push_back(BasicBlock(inplanes, planes, s, downsample));
    }
    inplanes = planes * expansion;
  }
  return stage;
}

void ResNet::train(bool on) {
  Backbone::train(on);
  if (!frozen_bn_) return;
  for (auto& m : modules(false)) {
    if (auto* b = m->as<torch::nn::BatchNorm2d>()) b->eval();
  }
}

std::vector<torch::Tensor> ResNet::forward_features(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 3, "resnet: expected [N, 3, H, W] images, got ",
              x.sizes());
  torch::Tensor h = torch::relu(bn1_(conv1_(x)));
  if (!small_stem_) h = maxpool_(h);
  std::vector<torch::Tensor> out;
  for (auto& stage : stages_) {
    h = stage->forward(h);
    out.push_back(h);
  }
  return out;
}

InputSpec ResNet::input_spec() const {
  InputSpec spec;
  spec.default_size = small_stem_ ? 64 : 224;
  spec.mean = {0.485, 0.456, 0.406};
  spec.std = {0.229, 0.224, 0.225};
  return spec;
}

}  // namespace cpsd::resnet
