// SPDX-License-Identifier: Apache-2.0
// loss/asl: the asymmetric loss (paper Eq. 4; Ridnik et al., ASL).
#pragma once

#include "cpsd/sdk/loss.h"
#include "reduction.h"

namespace cpsd::losses {

/// With p = sigmoid(logit), y in {0, 1} and p_m = max(p - clip, 0):
///   L+ = (1 - p)^gamma_pos * log(max(p, eps))
///   L- = p_m^gamma_neg * log(max(1 - p_m, eps))
///   loss = -reduce(y * L+ + (1 - y) * L-)
/// Defaults are the CPSD/ASL reference: gamma_neg 4, gamma_pos 0, clip 0.05, eps 1e-8,
/// summed over batch and classes, focusing weights without gradient.
class AsymmetricLoss final : public Loss {
 public:
  explicit AsymmetricLoss(const LossArgs& args);
  LossOutput forward(const LossInput& input) override;

  static constexpr const char* kDefaults = R"(# loss/asl (reference values of the CPSD and ASL code)
gamma_neg = 4.0         # focusing exponent of negatives
gamma_pos = 0.0         # focusing exponent of positives
clip = 0.05             # probability margin shifted off negatives (0 = none)
eps = 1e-8              # floor inside the logarithms
reduction = "sum"       # "sum" (reference) or "mean" over counted entries
focal_grad = false      # true: back-propagate through the focusing weights
)";

 private:
  int64_t num_classes_;
  double gamma_neg_, gamma_pos_, clip_, eps_;
  Reduction reduction_;
  bool focal_grad_;
};

}  // namespace cpsd::losses
