// SPDX-License-Identifier: Apache-2.0
// loss/softmax_ce: softmax cross-entropy for single-label training (backbone pretraining).
#pragma once

#include "cpsd/sdk/loss.h"

namespace cpsd::losses {

/// loss = mean over images of -sum_c q_c log softmax(x)_c, where q is the image's target row
/// normalised to sum 1 (a one-hot row is the usual cross-entropy), smoothed towards uniform
/// by `label_smoothing`. Images whose target row is all zero (or fully masked) are left out.
class SoftmaxCrossEntropy final : public Loss {
 public:
  explicit SoftmaxCrossEntropy(const LossArgs& args);
  LossOutput forward(const LossInput& input) override;

  static constexpr const char* kDefaults = R"(# loss/softmax_ce
label_smoothing = 0.0   # share of the target spread evenly over all classes (timm's default: 0.1)
)";

 private:
  int64_t num_classes_;
  double smoothing_;
};

}  // namespace cpsd::losses
