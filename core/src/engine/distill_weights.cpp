// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/distill_weights.h"

#include <algorithm>
#include <cmath>

#include <ATen/ATen.h>

namespace cpsd::engine {

Weighting read_weighting(const Options& distill) {
  const std::string w = distill.get_string("weighting");
  if (w == "none") return Weighting::none;
  if (w == "class") return Weighting::per_class;
  if (w == "teacher") return Weighting::per_teacher;
  distill.fail("weighting", "must be \"none\", \"class\" or \"teacher\"");
}

at::Tensor distill_weights(Weighting weighting, const std::vector<double>& baseline_ap,
                           const std::vector<double>& teacher_ap,
                           const std::vector<std::vector<int64_t>>& groups, double scale) {
  if (weighting == Weighting::none) return {};
  auto weight_of = [scale](double gain) {
    return std::isnan(gain) ? 1.0 : std::clamp(gain / scale, 0.0, 1.0);
  };
  at::Tensor w = at::ones({static_cast<int64_t>(baseline_ap.size())}, at::kFloat);
  for (const std::vector<int64_t>& group : groups) {
    double gain_sum = 0;
    int64_t counted = 0;
    for (int64_t c : group) {
      const double gain =
          teacher_ap.at(static_cast<std::size_t>(c)) - baseline_ap.at(static_cast<std::size_t>(c));
      if (weighting == Weighting::per_class) w[c] = weight_of(gain);
      if (!std::isnan(gain)) {
        gain_sum += gain;
        ++counted;
      }
    }
    if (weighting == Weighting::per_teacher) {
      const double gain = counted > 0 ? gain_sum / static_cast<double>(counted) : NAN;
      for (int64_t c : group) w[c] = weight_of(gain);
    }
  }
  return w;
}

}  // namespace cpsd::engine
