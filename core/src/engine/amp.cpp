// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/amp.h"

#include <cmath>
#include <limits>

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "cpsd/sdk/error.h"

namespace cpsd::engine {

Precision parse_precision(const std::string& name) {
  if (name == "off") return Precision::full;
  if (name == "bf16") return Precision::bf16;
  if (name == "fp16") return Precision::fp16;
  throw ConfigError("runtime.amp must be off, bf16 or fp16, not '" + name + "'");
}

AutocastScope::AutocastScope(Precision precision) : active_(precision != Precision::full) {
  if (!active_) return;
  const at::ScalarType type = precision == Precision::bf16 ? at::kBFloat16 : at::kHalf;
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_dtype(at::kCUDA, type);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
  at::autocast::set_autocast_gpu_dtype(type);
  at::autocast::set_enabled(true);
#endif
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
  at::autocast::set_enabled(false);
#endif
}

LossScaler::LossScaler(bool enabled, double initial, int64_t growth_interval)
    : enabled_(enabled), scale_(enabled ? initial : 1.0), growth_interval_(growth_interval) {}

at::Tensor LossScaler::scale(const at::Tensor& loss) const {
  return enabled_ ? loss * scale_ : loss;
}

bool LossScaler::unscale(const std::vector<at::Tensor>& params) {
  if (!enabled_) return true;
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const at::Tensor& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return true;
  at::_foreach_mul_(grads, 1.0 / scale_);
  // One device sync: the largest gradient, which is not finite when any is not.
  largest_gradient_ = at::stack(at::_foreach_norm(grads, std::numeric_limits<double>::infinity()))
                          .max()
                          .item<double>();
  return std::isfinite(largest_gradient_);
}

void LossScaler::update(bool stepped) {
  if (!enabled_) return;
  if (!stepped) {
    // Before the first good step the scale is only a guess: come down fast.
    scale_ *= settled_ ? 0.5 : 1.0 / 16;
    good_steps_ = 0;
    return;
  }
  settled_ = true;
  if (++good_steps_ >= growth_interval_) {
    scale_ *= 2.0;
    good_steps_ = 0;
  }
  // No higher than the largest gradient allows in fp16 with kHeadroom to spare: growth
  // does not overflow on purpose, and a rising gradient lowers the scale before it does.
  if (largest_gradient_ > 0) {
    const double room = kHalfMax / (kHeadroom * largest_gradient_);
    scale_ = std::min(scale_, std::max(1.0, std::exp2(std::floor(std::log2(room)))));
  }
}

}  // namespace cpsd::engine
