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
/// NaN is skipped. PyTorch's GradScaler halves the scale then and doubles it after
/// `growth_interval` good steps; this policy differs in two ways, because a summed loss
/// (ASL's) has gradients in the hundreds, far above what GradScaler's 65536 allows:
/// - before the first good step an overflow divides the scale by 16, not 2;
/// - after a good step the scale is capped so that the largest gradient times the scale
///   stays below fp16's largest value / kHeadroom. Growth then never overflows on purpose,
///   so it may come sooner: after 100 good steps by default, not 2000.
/// Works on any device; the step's one device sync is the gradient check.
class CPSD_CORE_API LossScaler {
 public:
  static constexpr double kHalfMax = 65504.0;
  static constexpr double kHeadroom = 4.0;

  explicit LossScaler(bool enabled, double initial = 65536.0, int64_t growth_interval = 100);
  at::Tensor scale(const at::Tensor& loss) const;
  /// Divides the gradients by the scale; returns false when one is not finite (skip the
  /// step). Records the largest gradient for update().
  bool unscale(const std::vector<at::Tensor>& params);
  /// Records the outcome of the step: shrinks or grows the scale.
  void update(bool stepped);
  double current() const { return scale_; }
  bool enabled() const { return enabled_; }
  /// Good steps since the scale last changed: with current() and settled(), all a resumed
  /// run needs.
  int64_t good_steps() const { return good_steps_; }
  /// Whether a step has gone through yet (the scale is no longer a first guess).
  bool settled() const { return settled_; }
  void restore(double scale, int64_t good_steps, bool settled) {
    scale_ = scale;
    good_steps_ = good_steps;
    settled_ = settled;
  }

 private:
  bool enabled_;
  double scale_;
  int64_t growth_interval_;
  int64_t good_steps_ = 0;
  bool settled_ = false;
  double largest_gradient_ = 0;  // of the last unscale(), after unscaling
};

}  // namespace cpsd::engine
