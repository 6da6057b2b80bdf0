// SPDX-License-Identifier: Apache-2.0
#include "asl_loss.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

namespace cpsd::losses {

AsymmetricLoss::AsymmetricLoss(const LossArgs& args)
    : num_classes_(args.num_classes),
      gamma_neg_(args.options.get_double("gamma_neg")),
      gamma_pos_(args.options.get_double("gamma_pos")),
      clip_(args.options.get_double("clip")),
      eps_(args.options.get_double("eps")),
      reduction_(read_reduction(args.options)),
      focal_grad_(args.options.get_bool("focal_grad")) {
  if (gamma_neg_ < 0) args.options.fail("gamma_neg", "must be >= 0");
  if (gamma_pos_ < 0) args.options.fail("gamma_pos", "must be >= 0");
  if (clip_ < 0 || clip_ >= 1) args.options.fail("clip", "must be in [0, 1)");
  if (eps_ <= 0 || eps_ >= 1) args.options.fail("eps", "must be in (0, 1)");
}

LossOutput AsymmetricLoss::forward(const LossInput& input) {
  check_input(input, num_classes_, "loss/asl");
  const at::Tensor logits = input.logits.to(at::kFloat);
  const at::Tensor& y = input.targets;
  const at::Tensor p = at::sigmoid(logits);
  at::Tensor p_neg = 1 - p;
  if (clip_ > 0) p_neg = (p_neg + clip_).clamp_max(1.0);
  at::Tensor loss = y * at::log(p.clamp_min(eps_)) + (1 - y) * at::log(p_neg.clamp_min(eps_));
  if (gamma_neg_ > 0 || gamma_pos_ > 0) {
    at::Tensor weight;
    {
      c10::AutoGradMode grad(focal_grad_ && c10::GradMode::is_enabled());
      const at::Tensor pt = p * y + p_neg * (1 - y);
      const at::Tensor gamma = gamma_pos_ * y + gamma_neg_ * (1 - y);
      weight = at::pow(1 - pt, gamma);
    }
    loss = loss * weight;
  }
  at::Tensor total = -reduce(loss, input, reduction_);
  return LossOutput{total, {{"asl", total.detach()}}};
}

}  // namespace cpsd::losses
