// SPDX-License-Identifier: Apache-2.0
// Mixed precision on CUDA: an autocast scope and a dynamic loss scaler.
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "cpsd/core/export.h"

namespace cpsd::engine {

/// "off", "bf16" or "fp16" (runtime.amp).
enum class Precision { full, bf16, fp16 };
CPSD_CORE_API Precision parse_precision(const std::string& name);

/// Turns CUDA autocast on for its lifetime (matrix products and convolutions in bf16 or
/// fp16, reductions in float); does nothing for Precision::full.
class CPSD_CORE_API AutocastScope {
 public:
  explicit AutocastScope(Precision precision);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_;
};

/// fp16 gradients underflow: the loss is multiplied by a scale before backward, gradients
/// are divided by it before the optimizer step, and a step whose gradients hold an inf or
/// NaN is skipped and the scale halved; after `growth_interval` good steps it doubles
/// (PyTorch's GradScaler policy, on any device).
class CPSD_CORE_API LossScaler {
 public:
  explicit LossScaler(bool enabled, double initial = 65536.0, int64_t growth_interval = 2000);
  at::Tensor scale(const at::Tensor& loss) const;
  /// Divides the gradients by the scale; returns false when one is not finite (skip the
  /// step). `any_rank_overflow` lets a caller combine the verdicts of several processes.
  bool unscale(const std::vector<at::Tensor>& params);
  /// Records the outcome of the step: shrinks or grows the scale.
  void update(bool stepped);
  double current() const { return scale_; }
  bool enabled() const { return enabled_; }
  /// Good steps since the scale last changed: with current(), all a resumed run needs.
  int64_t good_steps() const { return good_steps_; }
  void restore(double scale, int64_t good_steps) {
    scale_ = scale;
    good_steps_ = good_steps;
  }

 private:
  bool enabled_;
  double scale_;
  int64_t growth_interval_;
  int64_t good_steps_ = 0;
};

}  // namespace cpsd::engine
