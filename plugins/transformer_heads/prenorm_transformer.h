// SPDX-License-Identifier: Apache-2.0
// The pre-norm Transformer encoder of CPSD's ResNet101-TF (vit-pytorch's layout and names).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

namespace cpsd::heads {

/// softmax(q k^T / sqrt(dim_head)) v over `heads` heads; to_qkv without bias, to_out =
/// Sequential(Linear, Dropout).
class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t dim, int64_t heads, int64_t dim_head, double dropout);
  torch::Tensor forward(const torch::Tensor& x);  ///< [B, N, dim] -> [B, N, dim]

 private:
  int64_t heads_, dim_head_;
  torch::nn::Linear to_qkv{nullptr};
  torch::nn::Sequential to_out{nullptr};
};
TORCH_MODULE(Attention);

/// Linear, exact GELU, Dropout, Linear, Dropout ("net.0" and "net.3" hold the weights).
class FeedForwardImpl : public torch::nn::Module {
 public:
  FeedForwardImpl(int64_t dim, int64_t hidden, double dropout);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Sequential net{nullptr};
};
TORCH_MODULE(FeedForward);

/// x + f(LayerNorm(x)), named "fn" (PreNorm) holding "norm" and "fn" (the block): the
/// Residual(PreNorm(...)) nesting whose keys read `layers.i.0.fn.norm`, `layers.i.0.fn.fn.*`.
template <class Block>
class PreNormResidualImpl : public torch::nn::Module {
 public:
  PreNormResidualImpl(int64_t dim, Block block) {
    auto prenorm = std::make_shared<torch::nn::Module>();
    norm_ =
        prenorm->register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
    block_ = prenorm->register_module("fn", block);
    register_module("fn", prenorm);
  }
  torch::Tensor forward(const torch::Tensor& x) { return x + block_->forward(norm_(x)); }

 private:
  torch::nn::LayerNorm norm_{nullptr};
  Block block_{nullptr};
};

/// `depth` layers of pre-norm attention and feed-forward; no final norm, no mask.
class PreNormTransformerImpl : public torch::nn::Module {
 public:
  PreNormTransformerImpl(int64_t dim, int64_t depth, int64_t heads, int64_t dim_head,
                         int64_t mlp_dim, double dropout);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::ModuleList layers{nullptr};
  std::vector<std::shared_ptr<PreNormResidualImpl<Attention>>> attention_;
  std::vector<std::shared_ptr<PreNormResidualImpl<FeedForward>>> feed_forward_;
};
TORCH_MODULE(PreNormTransformer);

}  // namespace cpsd::heads
