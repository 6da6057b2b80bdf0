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

namespace {

// The checked options of one variant.
struct Shape {
  bool bottleneck = false;
  std::vector<int64_t> layers;
  int64_t width = 64, groups = 1, width_per_group = 64;
  bool small_stem = false;
  int64_t stem_stride = 1;
  bool frozen_bn = false;
  int64_t frozen_stages = 0;
};

void read_blocks(const Options& o, Shape& shape) {
  const std::string block = o.get_string("block");
  if (block != "basic" && block != "bottleneck")
    o.fail("block", "must be \"basic\" or \"bottleneck\"");
  shape.bottleneck = block == "bottleneck";
  shape.layers = o.get_int_list("layers");
  if (shape.layers.size() != 4) o.fail("layers", "needs 4 block counts (layer1..layer4)");
  for (int64_t n : shape.layers) {
    if (n < 1) o.fail("layers", "every stage needs at least one block");
  }
  shape.width = o.get_int("width");
  if (shape.width < 1) o.fail("width", "must be >= 1");
  shape.groups = o.get_int("groups");
  shape.width_per_group = o.get_int("width_per_group");
  if (shape.groups < 1) o.fail("groups", "must be >= 1");
  if (shape.width_per_group < 1) o.fail("width_per_group", "must be >= 1");
  if (!shape.bottleneck && (shape.groups != 1 || shape.width_per_group != 64)) {
    o.fail("groups", "basic blocks support only groups = 1 and width_per_group = 64");
  }
}

Shape read_shape(const Options& o) {
  Shape shape;
  read_blocks(o, shape);
  const std::string stem = o.get_string("stem");
  if (stem != "imagenet" && stem != "small") o.fail("stem", "must be \"imagenet\" or \"small\"");
  shape.small_stem = stem == "small";
  shape.stem_stride = o.get_int("stem_stride");
  if (shape.stem_stride != 1 && shape.stem_stride != 2) o.fail("stem_stride", "must be 1 or 2");
  if (!shape.small_stem && shape.stem_stride != 1)
    o.fail("stem_stride", "applies to the small stem only (the imagenet stem has stride 4)");
  shape.frozen_bn = o.get_bool("frozen_bn");
  shape.frozen_stages = o.get_int("frozen_stages");
  if (shape.frozen_stages < 0 || shape.frozen_stages > 4) o.fail("frozen_stages", "must be 0..4");
  return shape;
}

// torchvision's initialisation, module by module in registration order.
void init_like_torchvision(torch::nn::Module& net) {
  for (auto& m : net.modules(/*include_self=*/false)) {
    if (auto* c = m->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* b = m->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(b->weight);
      torch::nn::init::zeros_(b->bias);
    }
  }
}

// frozen_bn fixes every BatchNorm's scale and shift; frozen_stages = n fixes the stem and
// layer1..layern.
void freeze_parameters(torch::nn::Module& net, bool frozen_bn, int64_t frozen_stages) {
  for (auto& p : net.named_parameters()) {
    const std::string& key = p.key();
    bool freeze = frozen_bn && key.find("bn") != std::string::npos;
    freeze |= frozen_bn && key.find("downsample.1.") != std::string::npos;
    freeze |= frozen_stages >= 1 && (key.rfind("conv1.", 0) == 0 || key.rfind("bn1.", 0) == 0);
    for (int64_t s = 1; s <= frozen_stages; ++s)
      freeze |= key.rfind("layer" + std::to_string(s) + ".", 0) == 0;
    if (freeze) p.value().set_requires_grad(false);
  }
}

// Each residual block starts as the identity: its last BatchNorm's weight is 0.
void zero_init_residual(const std::vector<torch::nn::Sequential>& stages) {
  torch::NoGradGuard no_grad;
  for (const auto& stage : stages) {
    for (auto& child : stage->children()) {
      if (auto* b = child->as<BottleneckImpl>()) b->last_bn()->weight.zero_();
      if (auto* b = child->as<BasicBlockImpl>()) b->last_bn()->weight.zero_();
    }
  }
}

}  // namespace

ResNet::ResNet(const BackboneArgs& args) {
  const Options& o = args.options;
  const Shape shape = read_shape(o);
  bottleneck_ = shape.bottleneck;
  groups_ = shape.groups;
  width_per_group_ = shape.width_per_group;
  small_stem_ = shape.small_stem;
  frozen_bn_ = shape.frozen_bn;

  const int64_t width = shape.width;
  conv1_ = register_module("conv1",
                           torch::nn::Conv2d(torch::nn::Conv2dOptions(3, width, small_stem_ ? 3 : 7)
                                                 .stride(small_stem_ ? shape.stem_stride : 2)
                                                 .padding(small_stem_ ? 1 : 3)
                                                 .bias(false)));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(width));
  maxpool_ = torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1));
  int64_t inplanes = width;
  int64_t stride = small_stem_ ? shape.stem_stride : 4;
  const int64_t expansion = bottleneck_ ? BottleneckImpl::kExpansion : BasicBlockImpl::kExpansion;
  for (int s = 0; s < 4; ++s) {
    const int64_t planes = width << s;
    stages_.push_back(
        register_module("layer" + std::to_string(s + 1),
                        make_stage(inplanes, planes, shape.layers[s], s == 0 ? 1 : 2)));
    if (s > 0) stride *= 2;
    features_.push_back({planes * expansion, stride, "layer" + std::to_string(s + 1)});
  }
  init_like_torchvision(*this);
  freeze_parameters(*this, frozen_bn_, shape.frozen_stages);
  if (o.get_bool("zero_init_residual")) zero_init_residual(stages_);
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
