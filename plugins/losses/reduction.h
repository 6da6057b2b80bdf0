// SPDX-License-Identifier: Apache-2.0
// Reduction of element-wise multi-label losses, shared by loss/asl and loss/bce.
#pragma once

#include <string>

#include <ATen/core/Tensor.h>

#include "cpsd/sdk/loss.h"
#include "cpsd/sdk/options.h"

namespace cpsd::losses {

enum class Reduction { sum, mean };

/// Reads option `key` ("sum" | "mean").
Reduction read_reduction(const Options& options, const char* key = "reduction");

/// Sums (or averages over counted entries) `elementwise` [N, C] after applying
/// input.mask when it is defined.
at::Tensor reduce(const at::Tensor& elementwise, const LossInput& input, Reduction reduction);

/// Checks logits/targets/mask shapes against each other and the expected class count.
void check_input(const LossInput& input, int64_t num_classes, const char* who);

}  // namespace cpsd::losses
