// SPDX-License-Identifier: Apache-2.0
// head/query2label: Query2Label's label-query Transformer decoder (Liu et al.).
#pragma once

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "cpsd/sdk/head.h"

namespace cpsd::heads {

/// DETR post-norm encoder layer: self-attention with the positional encoding added to
/// queries and keys, then a ReLU feed-forward (names self_attn, linear1/2, norm1/2).
class EncoderLayerImpl : public torch::nn::Module {
 public:
  EncoderLayerImpl(int64_t d, int64_t heads, int64_t ff, double dropout);
  torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& pos);

 private:
  torch::nn::MultiheadAttention self_attn{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Dropout dropout{nullptr}, dropout1{nullptr}, dropout2{nullptr};
};
TORCH_MODULE(EncoderLayer);

/// Q2L decoder layer with its self-attention removed: cross-attention from the label
/// queries to the image, then a feed-forward (names multihead_attn, linear1/2, norm2/3).
class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(int64_t d, int64_t heads, int64_t ff, double dropout);
  torch::Tensor forward(const torch::Tensor& tgt, const torch::Tensor& memory,
                        const torch::Tensor& pos, const torch::Tensor& query_pos);

 private:
  torch::nn::MultiheadAttention multihead_attn{nullptr};
  torch::nn::Linear linear1{nullptr}, linear2{nullptr};
  torch::nn::LayerNorm norm2{nullptr}, norm3{nullptr};
  torch::nn::Dropout dropout{nullptr}, dropout2{nullptr}, dropout3{nullptr};
};
TORCH_MODULE(DecoderLayer);

/// input_proj (1x1 conv, optional) -> encoder over the h*w positions with a DETR sine
/// encoding (computed for the actual map size) -> decoder from C learned label queries
/// (query_embed) -> final LayerNorm -> per-class linear read-out fc.W, fc.b
/// (GroupWiseLinear). Names equal Q2L's under "transformer." and "fc.".
class Query2Label final : public Head {
 public:
  explicit Query2Label(const HeadArgs& args);
  torch::Tensor forward(const std::vector<torch::Tensor>& features) override;
  int64_t num_classes() const override { return num_classes_; }
  /// Q2L's own checkpoints keep the group-wise classifier as "fc.W" / "fc.b".
  std::vector<std::pair<std::string, std::string>> foreign_classifier_prefixes() const override {
    return {{"fc.", "fc."}};
  }

  static constexpr const char* kDefaults =
      R"(# head/query2label (Q2L-R101-448: d 2048, 4 heads, 1 encoder and 2 decoder layers, FFN 8192)
hidden_dim = 2048      # width d of the transformer
heads = 4
encoder_layers = 1
decoder_layers = 2
feedforward = 8192     # feed-forward hidden width
dropout = 0.1
input_proj = true      # 1x1 conv from the backbone's channels to hidden_dim (CPSD's copy keeps it; needed when they differ)
)";

 private:
  torch::Tensor position_encoding(int64_t h, int64_t w, const torch::TensorOptions& options) const;

  int64_t num_classes_, in_channels_, d_;
  torch::nn::Conv2d input_proj{nullptr};
  torch::nn::Embedding query_embed{nullptr};
  std::vector<EncoderLayer> encoder_;
  std::vector<DecoderLayer> decoder_;
  torch::nn::LayerNorm decoder_norm_{nullptr};
  torch::Tensor fc_w_, fc_b_;
};

}  // namespace cpsd::heads
