// SPDX-License-Identifier: Apache-2.0
// The one-cycle learning-rate and momentum policy (PyTorch's OneCycleLR, two phases, cosine).
#pragma once

#include <cstdint>

#include "cpsd/core/export.h"

namespace cpsd::engine {

struct OneCycleOptions {
  double max_lr = 1e-4;
  int64_t total_steps = 1;
  double pct_start = 0.1;         ///< share of steps spent rising to max_lr
  double div_factor = 25;         ///< initial lr = max_lr / div_factor
  double final_div_factor = 1e4;  ///< final lr = initial lr / final_div_factor
  bool cycle_momentum = true;     ///< momentum (Adam's beta1) falls while lr rises, and back
  double base_momentum = 0.85;
  double max_momentum = 0.95;
};

/// Values for optimizer step `step` (0-based; step 0 uses the initial lr), as PyTorch's
/// OneCycleLR gives after `step` calls of scheduler.step():
///   phase 1 ends at pct_start * total - 1, phase 2 at total - 1;
///   within a phase, value = end + (start - end) / 2 * (1 + cos(pi * pct)).
class CPSD_CORE_API OneCycle {
 public:
  explicit OneCycle(OneCycleOptions options);
  double lr(int64_t step) const;
  double momentum(int64_t step) const;
  const OneCycleOptions& options() const { return options_; }

 private:
  double anneal(int64_t step, double start1, double end1, double start2, double end2) const;
  OneCycleOptions options_;
};

}  // namespace cpsd::engine
