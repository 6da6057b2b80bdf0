// SPDX-License-Identifier: Apache-2.0
#include "bce_loss.h"

#include <ATen/ATen.h>

namespace cpsd::losses {

BinaryCrossEntropy::BinaryCrossEntropy(const LossArgs& args)
    : num_classes_(args.num_classes),
      reduction_(read_reduction(args.options)),
      pos_weight_(args.options.get_double("pos_weight")) {
  if (pos_weight_ <= 0) args.options.fail("pos_weight", "must be > 0");
}

LossOutput BinaryCrossEntropy::forward(const LossInput& input) {
  check_input(input, num_classes_, "loss/bce");
  const at::Tensor x = input.logits.to(at::kFloat);
  const at::Tensor& y = input.targets;
  // log sigmoid(x) and log(1 - sigmoid(x)) = log sigmoid(-x), both without overflow.
  at::Tensor loss = -(pos_weight_ * y * at::log_sigmoid(x) + (1 - y) * at::log_sigmoid(-x));
  at::Tensor total = reduce(loss, input, reduction_);
  return LossOutput{total, {{"bce", total.detach()}}};
}

}  // namespace cpsd::losses
