// SPDX-License-Identifier: Apache-2.0
// head/ml_decoder: ML-Decoder's group decoding (Ridnik et al., 2023).
#pragma once

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "cpsd/sdk/head.h"

namespace cpsd::heads {

/// ML-Decoder's decoder layer: no self-attention (the queries are first added to themselves
/// and normalised, as the original does), cross-attention to the image, then a ReLU
/// feed-forward; post-norm (names norm1..3, multihead_attn, linear1/2).
class GroupDecoderLayerImpl : public torch::nn::Module {
 public:
  GroupDecoderLayerImpl(int64_t d, int64_t heads, int64_t ff, double dropout);
  /// queries [K, N, d], memory [HW, N, d] -> [K, N, d].
  torch::Tensor forward(const torch::Tensor& queries, const torch::Tensor& memory);

 private:
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
  torch::nn::MultiheadAttention multihead_attn{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::Dropout dropout{nullptr}, dropout1{nullptr}, dropout2{nullptr}, dropout3{nullptr};
};
TORCH_MODULE(GroupDecoderLayer);

/// Deepest feature map [N, C_in, H, W] -> positions [HW, N, d] (decoder.embed_standart and
/// ReLU) -> K fixed queries (decoder.query_embed, not trained) through one decoder layer
/// (decoder.layers.0) -> group fully-connected pooling: query k reads out classes
/// k*g .. k*g+g-1 with its own [d, g] weights (decoder.duplicate_pooling [K, d, g], g =
/// ceil(C / K)) -> the first C outputs plus decoder.duplicate_pooling_bias [C]. K is the
/// option `groups` capped at C. Names equal ML-Decoder's under a model's "head." (TResNet
/// checkpoints); ResNet checkpoints hold them under "fc." and load through
/// foreign_classifier_prefixes().
class MlDecoder final : public Head {
 public:
  explicit MlDecoder(const HeadArgs& args);
  torch::Tensor forward(const std::vector<torch::Tensor>& features) override;
  int64_t num_classes() const override { return num_classes_; }
  std::vector<std::pair<std::string, std::string>> foreign_classifier_prefixes() const override {
    return {{"fc.decoder.", "decoder."}};
  }
  int64_t groups() const { return groups_; }

  static constexpr const char* kDefaults =
      R"(# head/ml_decoder (ML-Decoder's defaults: 768 wide, 8 heads, 1 decoder layer, FFN 2048)
groups = 100           # K non-learnable queries, capped at the number of classes (K = C: one query per class)
embedding = 768        # decoder width d
heads = 8
feedforward = 2048     # feed-forward hidden width
dropout = 0.1
)";

 private:
  int64_t num_classes_, in_channels_, d_, groups_, per_group_;
  torch::nn::Linear embed_standart{nullptr};
  torch::nn::Embedding query_embed{nullptr};
  GroupDecoderLayer layer_{nullptr};
  torch::Tensor duplicate_pooling_, duplicate_pooling_bias_;
};

}  // namespace cpsd::heads
