// SPDX-License-Identifier: Apache-2.0
#include "ml_decoder.h"

#include <torch/nn/init.h>
#include <torch/nn/modules/container/modulelist.h>

namespace cpsd::heads {

GroupDecoderLayerImpl::GroupDecoderLayerImpl(int64_t d, int64_t heads, int64_t ff, double p) {
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  multihead_attn = register_module(
      "multihead_attn",
      torch::nn::MultiheadAttention(torch::nn::MultiheadAttentionOptions(d, heads).dropout(p)));
  linear1 = register_module("linear1", torch::nn::Linear(d, ff));
  linear2 = register_module("linear2", torch::nn::Linear(ff, d));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  norm3 = register_module("norm3", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})));
  dropout = register_module("dropout", torch::nn::Dropout(p));
  dropout1 = register_module("dropout1", torch::nn::Dropout(p));
  dropout2 = register_module("dropout2", torch::nn::Dropout(p));
  dropout3 = register_module("dropout3", torch::nn::Dropout(p));
}

torch::Tensor GroupDecoderLayerImpl::forward(const torch::Tensor& queries,
                                             const torch::Tensor& memory) {
  // Where a decoder would attend the queries to each other, ML-Decoder adds them to
  // themselves (through dropout) and normalises: the same in train and eval as the original.
  torch::Tensor x = norm1(queries + dropout1(queries));
  x = norm2(x + dropout2(std::get<0>(multihead_attn(x, memory, memory))));
  return norm3(x + dropout3(linear2(dropout(torch::relu(linear1(x))))));
}

MlDecoder::MlDecoder(const HeadArgs& args)
    : num_classes_(args.num_classes), in_channels_(args.features.back().channels) {
  const Options& o = args.options;
  for (const char* key : {"groups", "embedding", "heads", "feedforward"}) {
    if (o.get_int(key) < 1) o.fail(key, "must be >= 1");
  }
  d_ = o.get_int("embedding");
  const int64_t heads = o.get_int("heads");
  if (d_ % heads != 0) o.fail("embedding", "must be divisible by heads");
  const double p = o.get_double("dropout");
  if (p < 0 || p >= 1) o.fail("dropout", "must be in [0, 1)");
  groups_ = std::min(o.get_int("groups"), num_classes_);
  per_group_ = (num_classes_ + groups_ - 1) / groups_;
  auto decoder = register_module("decoder", std::make_shared<torch::nn::Module>());
  embed_standart = decoder->register_module("embed_standart", torch::nn::Linear(in_channels_, d_));
  query_embed = decoder->register_module("query_embed", torch::nn::Embedding(groups_, d_));
  query_embed->weight.set_requires_grad(false);  // non-learnable queries
  auto layers = decoder->register_module("layers", torch::nn::ModuleList());
  layer_ = GroupDecoderLayer(d_, heads, o.get_int("feedforward"), p);
  layers->push_back(layer_);
  duplicate_pooling_ =
      decoder->register_parameter("duplicate_pooling", torch::empty({groups_, d_, per_group_}));
  duplicate_pooling_bias_ =
      decoder->register_parameter("duplicate_pooling_bias", torch::zeros({num_classes_}));
  torch::NoGradGuard no_grad;
  torch::nn::init::xavier_normal_(duplicate_pooling_);
}

torch::Tensor MlDecoder::forward(const std::vector<torch::Tensor>& features) {
  const torch::Tensor& f = features.back();
  TORCH_CHECK(f.dim() == 4 && f.size(1) == in_channels_, "head/ml_decoder: expected [N, ",
              in_channels_, ", H, W] features, got ", f.sizes());
  const int64_t n = f.size(0);
  const torch::Tensor memory =
      torch::relu(embed_standart(f.flatten(2).transpose(1, 2))).transpose(0, 1);  // [HW, N, d]
  const torch::Tensor queries = query_embed->weight.unsqueeze(1).expand({groups_, n, d_});
  const torch::Tensor h = layer_->forward(queries, memory).transpose(0, 1);  // [N, K, d]
  // Group fully-connected: query k times its own [d, g] matrix, all K in one batched product.
  const torch::Tensor grouped =
      torch::einsum("nkd,kdg->nkg", {h, duplicate_pooling_}).flatten(1);  // [N, K*g]
  return grouped.narrow(1, 0, num_classes_) + duplicate_pooling_bias_;
}

}  // namespace cpsd::heads
