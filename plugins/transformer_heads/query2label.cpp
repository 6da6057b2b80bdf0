// SPDX-License-Identifier: Apache-2.0
#include "query2label.h"

#include <cmath>

#include <torch/nn/init.h>

namespace cpsd::heads {

EncoderLayerImpl::EncoderLayerImpl(int64_t d, int64_t heads, int64_t ff, double p) {
  self_attn = register_module(
      "self_attn",
      torch::nn::MultiheadAttention(torch::nn::MultiheadAttentionOptions(d, heads).dropout(p)));
  linear1 = register_module("linear1", torch::nn::Linear(d, ff));
  linear2 = register_module("linear2", torch::nn::Linear(ff, d));
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  dropout = register_module("dropout", torch::nn::Dropout(p));
  dropout1 = register_module("dropout1", torch::nn::Dropout(p));
  dropout2 = register_module("dropout2", torch::nn::Dropout(p));
}

torch::Tensor EncoderLayerImpl::forward(const torch::Tensor& src, const torch::Tensor& pos) {
  const torch::Tensor qk = src + pos;
  torch::Tensor x = norm1(src + dropout1(std::get<0>(self_attn(qk, qk, src))));
  return norm2(x + dropout2(linear2(dropout(torch::relu(linear1(x))))));
}

DecoderLayerImpl::DecoderLayerImpl(int64_t d, int64_t heads, int64_t ff, double p) {
  multihead_attn = register_module(
      "multihead_attn",
      torch::nn::MultiheadAttention(torch::nn::MultiheadAttentionOptions(d, heads).dropout(p)));
  linear1 = register_module("linear1", torch::nn::Linear(d, ff));
  linear2 = register_module("linear2", torch::nn::Linear(ff, d));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  norm3 = register_module("norm3", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  dropout = register_module("dropout", torch::nn::Dropout(p));
  dropout2 = register_module("dropout2", torch::nn::Dropout(p));
  dropout3 = register_module("dropout3", torch::nn::Dropout(p));
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& tgt, const torch::Tensor& memory,
                                        const torch::Tensor& pos, const torch::Tensor& query_pos) {
  torch::Tensor x =
      norm2(tgt + dropout2(std::get<0>(multihead_attn(tgt + query_pos, memory + pos, memory))));
  return norm3(x + dropout3(linear2(dropout(torch::relu(linear1(x))))));
}

Query2Label::Query2Label(const HeadArgs& args)
    : num_classes_(args.num_classes), in_channels_(args.features.back().channels) {
  const Options& o = args.options;
  d_ = o.get_int("hidden_dim");
  const int64_t heads = o.get_int("heads"), ff = o.get_int("feedforward");
  const int64_t encoders = o.get_int("encoder_layers"), decoders = o.get_int("decoder_layers");
  const double p = o.get_double("dropout");
  for (const char* key : {"hidden_dim", "heads", "feedforward", "decoder_layers"}) {
    if (o.get_int(key) < 1) o.fail(key, "must be >= 1");
  }
  if (encoders < 0) o.fail("encoder_layers", "must be >= 0");
  if (d_ % heads != 0 || d_ % 2 != 0) o.fail("hidden_dim", "must be even and divisible by heads");
  if (p < 0 || p >= 1) o.fail("dropout", "must be in [0, 1)");
  if (o.get_bool("input_proj")) {
    input_proj = register_module("input_proj",
                                 torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels_, d_, 1)));
  } else if (in_channels_ != d_) {
    o.fail("input_proj", "must be true when the backbone's channels (" +
                             std::to_string(in_channels_) + ") differ from hidden_dim (" +
                             std::to_string(d_) + ")");
  }
  query_embed = register_module("query_embed", torch::nn::Embedding(num_classes_, d_));
  auto transformer = register_module("transformer", std::make_shared<torch::nn::Module>());
  auto encoder = transformer->register_module("encoder", std::make_shared<torch::nn::Module>());
  auto encoder_layers = encoder->register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < encoders; ++i) {
    encoder_.push_back(EncoderLayer(d_, heads, ff, p));
    encoder_layers->push_back(encoder_.back());
  }
  auto decoder = transformer->register_module("decoder", std::make_shared<torch::nn::Module>());
  auto decoder_layers = decoder->register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < decoders; ++i) {
    decoder_.push_back(DecoderLayer(d_, heads, ff, p));
    decoder_layers->push_back(decoder_.back());
  }
  decoder_norm_ =
      decoder->register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d_})));
  torch::NoGradGuard no_grad;
  for (auto& param : transformer->parameters()) {
    if (param.dim() > 1) torch::nn::init::xavier_uniform_(param);
  }
  auto fc = register_module("fc", std::make_shared<torch::nn::Module>());
  const double bound = 1.0 / std::sqrt(static_cast<double>(d_));
  fc_w_ = fc->register_parameter("W", torch::empty({1, num_classes_, d_}).uniform_(-bound, bound));
  fc_b_ = fc->register_parameter("b", torch::empty({1, num_classes_}).uniform_(-bound, bound));
}

torch::Tensor Query2Label::position_encoding(int64_t h, int64_t w,
                                             const torch::TensorOptions& options) const {
  // DETR's normalised sine encoding: half the channels for y, half for x.
  const int64_t half = d_ / 2;
  const double scale = 2 * M_PI, eps = 1e-6;
  const torch::Tensor y =
      torch::arange(1, h + 1, options).div(h + eps).mul(scale).view({h, 1}).expand({h, w});
  const torch::Tensor x =
      torch::arange(1, w + 1, options).div(w + eps).mul(scale).view({1, w}).expand({h, w});
  const torch::Tensor k = torch::arange(half, options);
  const torch::Tensor dim_t = torch::pow(10000.0, 2 * torch::floor(k / 2) / half);  // [half]
  auto encode = [&](const torch::Tensor& v) {
    const torch::Tensor a = v.unsqueeze(0) / dim_t.view({half, 1, 1});  // [half, h, w]
    return torch::where((k.remainder(2) == 0).view({half, 1, 1}), torch::sin(a), torch::cos(a));
  };
  return torch::cat({encode(y), encode(x)}, 0).unsqueeze(0);  // [1, d, h, w]
}

torch::Tensor Query2Label::forward(const std::vector<torch::Tensor>& features) {
  const torch::Tensor& f = features.back();
  TORCH_CHECK(f.dim() == 4 && f.size(1) == in_channels_, "head/query2label: expected [N, ",
              in_channels_, ", H, W] features, got ", f.sizes());
  const int64_t b = f.size(0), h = f.size(2), w = f.size(3);
  const torch::Tensor src = input_proj ? input_proj(f) : f;
  torch::Tensor memory = src.flatten(2).permute({2, 0, 1});  // [hw, B, d]
  const torch::Tensor pos =
      position_encoding(h, w, src.options()).flatten(2).permute({2, 0, 1});  // [hw, 1, d]
  for (auto& layer : encoder_) memory = layer->forward(memory, pos);
  const torch::Tensor query_pos = query_embed->weight.unsqueeze(1).expand({num_classes_, b, d_});
  torch::Tensor tgt = torch::zeros_like(query_pos);
  for (auto& layer : decoder_) tgt = layer->forward(tgt, memory, pos, query_pos);
  const torch::Tensor hs = decoder_norm_(tgt).transpose(0, 1);  // [B, C, d]
  return (fc_w_ * hs).sum(-1) + fc_b_;
}

}  // namespace cpsd::heads
