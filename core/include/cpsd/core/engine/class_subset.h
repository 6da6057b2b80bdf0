// SPDX-License-Identifier: Apache-2.0
// Starting a model of a few classes from a trained model of all classes.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/nn/module.h>

#include "cpsd/core/export.h"

namespace cpsd::engine {

/// Copies every parameter and buffer of `full` (a model of `num_classes` outputs) into the
/// same-named tensor of `part`, the same architecture built for `classes` (indices into
/// full's outputs, in part's output order). Tensors of equal shape are copied as they are
/// (the backbone, class-independent head layers); a tensor whose shape differs in exactly one
/// dimension, of size num_classes in `full` and classes.size() in `part` (a classifier's
/// rows, a per-class query or bias), gets the rows of `classes` along that dimension.
/// Throws RuntimeError naming the tensor when names or shapes do not fit that rule.
CPSD_CORE_API void copy_class_subset(const torch::nn::Module& full, torch::nn::Module& part,
                                     int64_t num_classes, const std::vector<int64_t>& classes);

}  // namespace cpsd::engine
