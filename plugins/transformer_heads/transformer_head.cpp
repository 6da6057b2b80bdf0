// SPDX-License-Identifier: Apache-2.0
#include "transformer_head.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

#include "class_vectors.h"

namespace cpsd::heads {

TransformerHead::TransformerHead(const HeadArgs& args)
    : num_classes_(args.num_classes), in_channels_(args.features.back().channels) {
  const Options& o = args.options;
  const int64_t dim = o.get_int("dim"), depth = o.get_int("depth"), heads = o.get_int("heads");
  const int64_t dim_head = o.get_int("dim_head"), mlp = o.get_int("mlp_dim"),
                emb = o.get_int("embedding_dim");
  const double dropout = o.get_double("dropout");
  for (const char* key : {"dim", "depth", "heads", "dim_head", "mlp_dim", "embedding_dim"}) {
    if (o.get_int(key) < 1) o.fail(key, "must be >= 1");
  }
  if (dropout < 0 || dropout >= 1) o.fail("dropout", "must be in [0, 1)");
  fc = register_module("fc", torch::nn::Sequential(torch::nn::Linear(in_channels_, dim)));
  label_emb = register_module(
      "label_emb", torch::nn::Sequential(torch::nn::Linear(emb, dim), torch::nn::ReLU()));
  transformer =
      register_module("transformer", PreNormTransformer(dim, depth, heads, dim_head, mlp, dropout));
  classify = register_module("classify", torch::nn::Sequential(torch::nn::Linear(dim, 1)));
  const std::string embeddings = o.get_string("embeddings");
  if (embeddings == "glove") {
    if (o.get_string("glove").empty())
      o.fail("glove", "embeddings = \"glove\" needs the GloVe file");
    class_vectors_ = register_buffer(
        "class_vectors",
        read_class_vectors(o.get_string("glove"), args.class_names, emb, o, "glove"));
  } else if (embeddings == "learned") {
    class_vectors_ = register_parameter("class_vectors", torch::randn({num_classes_, emb}));
  } else {
    o.fail("embeddings", "must be \"glove\" or \"learned\"");
  }
}

torch::Tensor TransformerHead::forward(const std::vector<torch::Tensor>& features) {
  const torch::Tensor& f = features.back();
  TORCH_CHECK(f.dim() == 4 && f.size(1) == in_channels_, "head/transformer: expected [N, ",
              in_channels_, ", H, W] features, got ", f.sizes());
  const int64_t b = f.size(0);
  const torch::Tensor image = fc->forward(f.flatten(2).transpose(1, 2));
  const torch::Tensor labels =
      label_emb->forward(class_vectors_.to(f.dtype())).unsqueeze(0).expand({b, -1, -1});
  const torch::Tensor tokens = transformer->forward(torch::cat({image, labels}, 1));
  return classify->forward(tokens.narrow(1, tokens.size(1) - num_classes_, num_classes_))
      .squeeze(-1);
}

}  // namespace cpsd::heads
