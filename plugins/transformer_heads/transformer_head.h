// SPDX-License-Identifier: Apache-2.0
// head/transformer: CPSD's ResNet101-TF head: image tokens and one token per class (from
// word vectors) through a pre-norm Transformer; a shared read-out per class token.
#pragma once

#include <torch/nn/modules/container/sequential.h>

#include "cpsd/sdk/head.h"
#include "prenorm_transformer.h"

namespace cpsd::heads {

/// The deepest feature map's h*w positions (row-major) become tokens through fc (C_in ->
/// dim, no activation); each class's vector becomes a token through label_emb (Linear +
/// ReLU); [image tokens; class tokens] go through the encoder, with no positional encoding;
/// classify (Linear(dim -> 1), shared by all classes) reads each class token. Names equal
/// the reference model's (fc.0, label_emb.0, transformer.layers.i..., classify.0).
class TransformerHead final : public Head {
 public:
  explicit TransformerHead(const HeadArgs& args);
  torch::Tensor forward(const std::vector<torch::Tensor>& features) override;
  int64_t num_classes() const override { return num_classes_; }

  static constexpr const char* kDefaults =
      R"(# head/transformer (CPSD's ResNet101-TF: depth 3, 4 heads of 1024, width 1024)
dim = 1024             # token width
depth = 3              # encoder layers
heads = 4
dim_head = 1024        # width of each attention head
mlp_dim = 1024         # feed-forward hidden width
dropout = 0.1
embeddings = "learned" # glove: fixed class vectors read from `glove` (the paper) | learned: trained from N(0, 1)
glove = ""             # GloVe text file (word then embedding_dim numbers per line), e.g. glove.6B.300d.txt
embedding_dim = 300    # size of the class vectors
)";

 private:
  int64_t num_classes_, in_channels_;
  torch::nn::Sequential fc{nullptr}, label_emb{nullptr}, classify{nullptr};
  PreNormTransformer transformer{nullptr};
  torch::Tensor class_vectors_;
};

}  // namespace cpsd::heads
