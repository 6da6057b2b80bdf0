// SPDX-License-Identifier: Apache-2.0
#include "softmax_ce_loss.h"

#include <ATen/ATen.h>

#include "reduction.h"

namespace cpsd::losses {

SoftmaxCrossEntropy::SoftmaxCrossEntropy(const LossArgs& args)
    : num_classes_(args.num_classes), smoothing_(args.options.get_double("label_smoothing")) {
  if (smoothing_ < 0 || smoothing_ >= 1) args.options.fail("label_smoothing", "must be in [0, 1)");
}

LossOutput SoftmaxCrossEntropy::forward(const LossInput& input) {
  check_input(input, num_classes_, "loss/softmax_ce");
  at::Tensor y = input.targets.to(at::kFloat);
  if (input.mask.defined()) y = y * input.mask;
  const at::Tensor mass = y.sum(1, /*keepdim=*/true);
  const at::Tensor counted = (mass > 0).to(at::kFloat);  // [N, 1]
  at::Tensor q = y / mass.clamp_min(1e-12);
  if (smoothing_ > 0) q = q * (1 - smoothing_) + smoothing_ / static_cast<double>(num_classes_);
  const at::Tensor per_image =
      -(q * at::log_softmax(input.logits.to(at::kFloat), 1)).sum(1, true) * counted;
  const at::Tensor total = per_image.sum() / counted.sum().clamp_min(1);
  return LossOutput{total, {{"ce", total.detach()}}};
}

}  // namespace cpsd::losses
