// SPDX-License-Identifier: Apache-2.0
#include "tresnet.h"

#include <regex>

#include <torch/nn/init.h>

namespace cpsd::tresnet {
namespace {

// N,C,H,W -> N,16C,H/4,W/4 with channel (bh*4 + bw)*C + c = pixel (4y+bh, 4x+bw) of c.
torch::Tensor space_to_depth(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(2) % 4 == 0 && x.size(3) % 4 == 0,
              "tresnet: input height and width must be multiples of 4 (32 in practice), got ",
              x.sizes());
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  return x.view({n, c, h / 4, 4, w / 4, 4})
      .permute({0, 3, 5, 1, 2, 4})
      .reshape({n, c * 16, h / 4, w / 4});
}

template <class Block>
torch::nn::Sequential stage(int64_t& in, int64_t planes, int64_t blocks, int64_t stride, bool se) {
  torch::nn::Sequential s;
  for (int64_t b = 0; b < blocks; ++b) {
    s->push_back(Block(in, planes, b == 0 ? stride : 1, se));
    in = planes * Block::Impl::kExpansion;
  }
  return s;
}

}  // namespace

BodyImpl::BodyImpl(std::vector<int64_t> layers, int64_t width) {
  conv1 = register_module("conv1", ConvNormAct(48, width, 3, 1, 1e-2, false));
  int64_t in = width;
  stages_.push_back(register_module("layer1", stage<BasicBlock>(in, width, layers[0], 1, true)));
  stages_.push_back(
      register_module("layer2", stage<BasicBlock>(in, width * 2, layers[1], 2, true)));
  stages_.push_back(
      register_module("layer3", stage<Bottleneck>(in, width * 4, layers[2], 2, true)));
  stages_.push_back(
      register_module("layer4", stage<Bottleneck>(in, width * 8, layers[3], 2, false)));
  features = {{width, 4, "body.layer1"},
              {width * 2, 8, "body.layer2"},
              {width * 16, 16, "body.layer3"},
              {width * 32, 32, "body.layer4"}};
}

std::vector<torch::Tensor> BodyImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = conv1(space_to_depth(x));
  std::vector<torch::Tensor> out;
  for (auto& s : stages_) {
    h = s->forward(h);
    out.push_back(h);
  }
  return out;
}

TResNet::TResNet(const BackboneArgs& args) {
  const Options& o = args.options;
  const std::vector<int64_t> layers = o.get_int_list("layers");
  if (layers.size() != 4) o.fail("layers", "needs 4 block counts");
  for (int64_t n : layers) {
    if (n < 1) o.fail("layers", "every stage needs at least one block");
  }
  const double factor = o.get_double("width_factor");
  if (factor <= 0) o.fail("width_factor", "must be > 0");
  body_ = register_module("body", Body(layers, static_cast<int64_t>(64 * factor)));
  // Initialisation for training from scratch (TResNet's): He init for convolutions, each
  // residual branch starting as zero (its last BatchNorm scale 0).
  torch::NoGradGuard no_grad;
  for (auto& m : modules(false)) {
    if (auto* c = m->as<torch::nn::Conv2d>())
      torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kLeakyReLU);
    if (auto* b = m->as<BasicBlockImpl>()) b->last_norm()->weight.zero_();
    if (auto* b = m->as<BottleneckImpl>()) b->last_norm()->weight.zero_();
  }
}

std::vector<torch::Tensor> TResNet::forward_features(const torch::Tensor& x) {
  return body_->forward(x);
}

InputSpec TResNet::input_spec() const {
  InputSpec spec;  // no normalisation: MIIL's weights take RGB in [0, 1]
  spec.default_size = 448;
  return spec;
}

void TResNet::adapt_pretrained(std::vector<std::pair<std::string, torch::Tensor>>& weights) const {
  bool original = false;
  for (const auto& [name, t] : weights) original |= name == "body.conv1.0.weight";
  std::vector<std::pair<std::string, torch::Tensor>> out;
  static const std::vector<std::pair<std::regex, std::string>> kRenames = {
      {std::regex(R"((conv\d)\.0\.0\.)"), "$1.conv."},
      {std::regex(R"((conv\d)\.0\.1\.)"), "$1.bn."},
      {std::regex(R"((conv\d)\.0\.)"), "$1.conv."},
      {std::regex(R"((conv\d)\.1\.)"), "$1.bn."},
      {std::regex(R"((downsample\.\d)\.0\.)"), "$1.conv."},
      {std::regex(R"((downsample\.\d)\.1\.)"), "$1.bn."}};
  for (auto [name, tensor] : weights) {
    if (name.find(".aa.filt") != std::string::npos || name.find(".op.filt") != std::string::npos)
      continue;
    if (original) {
      for (const auto& [pattern, replacement] : kRenames)
        name = std::regex_replace(name, pattern, replacement);
      if (name.size() > 10 && name.compare(name.size() - 10, 10, ".bn.weight") == 0)
        tensor = tensor.abs() + 1e-5;
    }
    out.emplace_back(std::move(name), std::move(tensor));
  }
  weights = std::move(out);
}

}  // namespace cpsd::tresnet
