// SPDX-License-Identifier: Apache-2.0
#include "distill_loss.h"

#include <ATen/ATen.h>

#include "cpsd/sdk/error.h"

namespace cpsd::losses {

DistillationLoss::DistillationLoss(const LossArgs& args)
    : num_classes_(args.num_classes),
      metric_(args.options.get_string("metric")),
      weight_(args.options.get_double("weight")),
      temperature_(args.options.get_double("temperature")),
      reduction_(read_reduction(args.options)) {
  if (metric_ != "mse" && metric_ != "kl" && metric_ != "bce") {
    args.options.fail("metric", "must be \"mse\", \"kl\" or \"bce\"");
  }
  if (weight_ < 0) args.options.fail("weight", "must be >= 0");
  if (temperature_ <= 0) args.options.fail("temperature", "must be > 0");
}

LossOutput DistillationLoss::forward(const LossInput& input) {
  if (input.teachers.empty()) {
    throw ConfigError(
        "loss/distill needs teacher logits; use it as [distill] loss, not [train] loss");
  }
  const at::Tensor s = input.logits.to(at::kFloat);
  TORCH_CHECK(s.dim() == 2 && s.size(1) == num_classes_, "loss/distill: logits ", s.sizes(),
              " for ", num_classes_, " classes");
  const double t = temperature_;
  const double per_branch = weight_ / static_cast<double>(input.teachers.size());
  LossOutput out;
  at::Tensor total = at::zeros({}, s.options());
  for (const TeacherLogits& teacher : input.teachers) {
    TORCH_CHECK(teacher.logits.sizes() == s.sizes(), "loss/distill: teacher '", teacher.name,
                "' logits ", teacher.logits.sizes(), " do not match the student's ", s.sizes());
    const at::Tensor target = teacher.logits.detach().to(at::kFloat);
    at::Tensor entries;  // [N, C]: one term per sample and class
    if (metric_ == "mse") {
      entries = (s - target).pow(2);
    } else if (metric_ == "kl") {
      const at::Tensor log_p = at::log_softmax(s / t, 1);
      const at::Tensor q = at::softmax(target / t, 1);
      entries = q * (at::log(q.clamp_min(1e-12)) - log_p) * (t * t);
    } else {
      entries = at::binary_cross_entropy_with_logits(s / t, at::sigmoid(target / t), {}, {},
                                                     at::Reduction::None) *
                (t * t);
    }
    if (teacher.weights.defined()) {
      TORCH_CHECK(teacher.weights.dim() == 1 && teacher.weights.size(0) == num_classes_,
                  "loss/distill: teacher '", teacher.name, "' weights ", teacher.weights.sizes(),
                  " for ", num_classes_, " classes");
      entries = entries * teacher.weights.to(entries.options()).unsqueeze(0);
    }
    at::Tensor term = entries.sum();
    if (reduction_ == Reduction::mean)
      term = term / (metric_ == "kl" ? s.size(0) : entries.numel());
    term = term * per_branch;
    out.parts.emplace_back("kd_" + teacher.name, term.detach());
    total = total + term;
  }
  out.total = total;
  return out;
}

}  // namespace cpsd::losses
