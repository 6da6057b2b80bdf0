// SPDX-License-Identifier: Apache-2.0
#include "prenorm_transformer.h"

#include <cmath>

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/dropout.h>

namespace cpsd::heads {

AttentionImpl::AttentionImpl(int64_t dim, int64_t heads, int64_t dim_head, double dropout)
    : heads_(heads), dim_head_(dim_head) {
  to_qkv = register_module(
      "to_qkv", torch::nn::Linear(torch::nn::LinearOptions(dim, 3 * heads * dim_head).bias(false)));
  // One head as wide as the tokens needs no output projection: the authors' code then has
  // none (and no to_out.0 weights), so neither does this.
  if (heads == 1 && dim_head == dim) return;
  to_out = register_module("to_out", torch::nn::Sequential(torch::nn::Linear(heads * dim_head, dim),
                                                           torch::nn::Dropout(dropout)));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), n = x.size(1);
  // [B, N, 3, heads, dim_head] -> q, k, v of [B, heads, N, dim_head]; head h takes columns
  // h*dim_head...
  const torch::Tensor qkv = to_qkv(x).view({b, n, 3, heads_, dim_head_}).permute({2, 0, 3, 1, 4});
  const torch::Tensor attention = torch::softmax(
      torch::matmul(qkv[0], qkv[1].transpose(-1, -2)) / std::sqrt(static_cast<double>(dim_head_)),
      -1);
  const torch::Tensor out =
      torch::matmul(attention, qkv[2]).permute({0, 2, 1, 3}).reshape({b, n, heads_ * dim_head_});
  return to_out ? to_out->forward(out) : out;
}

FeedForwardImpl::FeedForwardImpl(int64_t dim, int64_t hidden, double dropout) {
  net = register_module(
      "net", torch::nn::Sequential(torch::nn::Linear(dim, hidden), torch::nn::GELU(),
                                   torch::nn::Dropout(dropout), torch::nn::Linear(hidden, dim),
                                   torch::nn::Dropout(dropout)));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) { return net->forward(x); }

PreNormTransformerImpl::PreNormTransformerImpl(int64_t dim, int64_t depth, int64_t heads,
                                               int64_t dim_head, int64_t mlp_dim, double dropout) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < depth; ++i) {
    auto attention = std::make_shared<PreNormResidualImpl<Attention>>(
        dim, Attention(dim, heads, dim_head, dropout));
    auto feed_forward =
        std::make_shared<PreNormResidualImpl<FeedForward>>(dim, FeedForward(dim, mlp_dim, dropout));
    torch::nn::ModuleList layer;
    layer->push_back(attention);
    layer->push_back(feed_forward);
    layers->push_back(layer);
    attention_.push_back(attention);
    feed_forward_.push_back(feed_forward);
  }
}

torch::Tensor PreNormTransformerImpl::forward(torch::Tensor x) {
  for (std::size_t i = 0; i < attention_.size(); ++i)
    x = feed_forward_[i]->forward(attention_[i]->forward(x));
  return x;
}

}  // namespace cpsd::heads
