// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/one_cycle.h"

#include <algorithm>
#include <cmath>

#include "cpsd/sdk/error.h"

namespace cpsd::engine {

OneCycle::OneCycle(OneCycleOptions options) : options_(options) {
  if (options_.total_steps < 1) throw ConfigError("one-cycle schedule needs at least one step");
  if (options_.pct_start <= 0 || options_.pct_start >= 1) {
    throw ConfigError("one-cycle pct_start must be in (0, 1)");
  }
}

double OneCycle::anneal(int64_t step, double start1, double end1, double start2,
                        double end2) const {
  const double phase1_end = options_.pct_start * static_cast<double>(options_.total_steps) - 1;
  const double phase2_end = static_cast<double>(options_.total_steps) - 1;
  auto cosine = [](double start, double end, double pct) {
    return end + (start - end) / 2.0 * (std::cos(M_PI * std::min(pct, 1.0)) + 1);
  };
  const double s = static_cast<double>(step);
  if (s <= phase1_end) return cosine(start1, end1, phase1_end > 0 ? s / phase1_end : 1.0);
  const double span = phase2_end - phase1_end;
  return cosine(start2, end2, span > 0 ? (s - phase1_end) / span : 1.0);
}

double OneCycle::lr(int64_t step) const {
  const double initial = options_.max_lr / options_.div_factor;
  const double final_lr = initial / options_.final_div_factor;
  return anneal(step, initial, options_.max_lr, options_.max_lr, final_lr);
}

double OneCycle::momentum(int64_t step) const {
  if (!options_.cycle_momentum) return options_.max_momentum;
  return anneal(step, options_.max_momentum, options_.base_momentum, options_.base_momentum,
                options_.max_momentum);
}

}  // namespace cpsd::engine
