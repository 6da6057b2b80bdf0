// SPDX-License-Identifier: Apache-2.0
// loss/bce: binary cross-entropy on logits.
#pragma once

#include "cpsd/sdk/loss.h"
#include "reduction.h"

namespace cpsd::losses {

/// loss = reduce(-(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x)))), computed stably.
class BinaryCrossEntropy final : public Loss {
 public:
  explicit BinaryCrossEntropy(const LossArgs& args);
  LossOutput forward(const LossInput& input) override;

  static constexpr const char* kDefaults = R"(# loss/bce
reduction = "mean"      # "mean" over counted entries or "sum"
pos_weight = 1.0        # weight of positive entries (> 1 favours recall)
)";

 private:
  int64_t num_classes_;
  Reduction reduction_;
  double pos_weight_;
};

}  // namespace cpsd::losses
