// SPDX-License-Identifier: Apache-2.0
#include "linear_head.h"

#include <torch/nn/init.h>

namespace cpsd::heads {

LinearHead::LinearHead(const HeadArgs& args)
    : num_classes_(args.num_classes), in_channels_(args.features.back().channels) {
  const double dropout = args.options.get_double("dropout");
  if (dropout < 0.0 || dropout >= 1.0) args.options.fail("dropout", "must be in [0, 1)");
  const double init_std = args.options.get_double("init_std");
  if (init_std < 0.0) args.options.fail("init_std", "must be >= 0");
  dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
  fc_ = register_module("fc", torch::nn::Linear(in_channels_, num_classes_));
  if (init_std > 0.0) {
    torch::NoGradGuard no_grad;
    torch::nn::init::normal_(fc_->weight, 0.0, init_std);
    torch::nn::init::zeros_(fc_->bias);
  }
}

torch::Tensor LinearHead::forward(const std::vector<torch::Tensor>& features) {
  TORCH_CHECK(!features.empty(), "head/linear: no feature maps given");
  const torch::Tensor& x = features.back();
  TORCH_CHECK(x.dim() == 4 && x.size(1) == in_channels_, "head/linear: expected [N, ", in_channels_,
              ", H, W] features, got ", x.sizes());
  return fc_->forward(dropout_->forward(x.mean({2, 3})));
}

std::vector<std::pair<std::string, std::string>> LinearHead::foreign_classifier_prefixes() const {
  return {{"head.fc.", "fc."}, {"fc.", "fc."}, {"classifier.", "fc."}, {"classify.", "fc."}};
}

torch::Tensor LinearHead::class_activation_weights() const {
  // Dropout before fc does not change the map in eval mode, where CAM is computed.
  return fc_->weight.detach();
}

}  // namespace cpsd::heads
