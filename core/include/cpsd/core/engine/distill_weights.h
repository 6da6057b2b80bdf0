// SPDX-License-Identifier: Apache-2.0
// Per-class distillation weights from how much each teacher beats the baseline on training
// images that no model trained on (data.holdout).
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "cpsd/core/export.h"
#include "cpsd/sdk/options.h"

namespace cpsd::engine {

/// distill.weighting: none (every class counts fully, the paper) | class (each class by its
/// teacher's gain on it) | teacher (every class of a teacher by its gain over its classes).
enum class Weighting { none, per_class, per_teacher };
CPSD_CORE_API Weighting read_weighting(const Options& distill);

/// A branch's weights: for the classes of each group (its teachers' classes), a gain g of the
/// teacher over the baseline in AP points (per class, or the group's mean over its classes)
/// becomes clamp(g / scale, 0, 1): a teacher `scale` points better teaches fully, one no
/// better not at all. baseline_ap and teacher_ap are per class over all classes (percent;
/// NaN without held-out positives: such a class, or a group with none, keeps weight 1).
/// Returns float [num_classes]; undefined for Weighting::none.
CPSD_CORE_API at::Tensor distill_weights(Weighting weighting,
                                         const std::vector<double>& baseline_ap,
                                         const std::vector<double>& teacher_ap,
                                         const std::vector<std::vector<int64_t>>& groups,
                                         double scale);

}  // namespace cpsd::engine
