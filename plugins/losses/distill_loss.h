// SPDX-License-Identifier: Apache-2.0
// loss/distill: pull the student's logits towards merged teacher logits (paper Eq. 6-7).
#pragma once

#include <string>

#include "cpsd/sdk/loss.h"
#include "reduction.h"

namespace cpsd::losses {

/// For each teacher branch b (CGP, DGP, ...) of the B given:
///   mse: sum (s - t_b)^2                       (the paper and the reference code)
///   kl:  T^2 KL(softmax(t_b/T) || softmax(s/T)) over classes (the reference's "kl")
///   bce: T^2 BCE(s/T, sigmoid(t_b/T)), per label (a multi-label soft-target variant)
/// total = (weight / B) * sum_b term_b; `reduction` sums, or averages over the batch x classes
/// (kl: over the batch). A branch's per-class weights (TeacherLogits::weights) multiply its
/// terms of each class before reducing. The classification loss is added by the trainer with
/// its own weight.
class DistillationLoss final : public Loss {
 public:
  explicit DistillationLoss(const LossArgs& args);
  LossOutput forward(const LossInput& input) override;

  static constexpr const char* kDefaults = R"(# loss/distill
metric = "mse"        # mse (the paper) | kl (softmax over classes, the reference's option) | bce (per-label soft targets)
weight = 0.5          # total weight of the distillation terms, split evenly over the teacher branches (0.25 CGP + 0.25 DGP in the reference)
reduction = "sum"     # sum (the reference) | mean
temperature = 4.0     # T of kl and bce (the reference's kl: 4)
)";

 private:
  int64_t num_classes_;
  std::string metric_;
  double weight_, temperature_;
  Reduction reduction_;
};

}  // namespace cpsd::losses
