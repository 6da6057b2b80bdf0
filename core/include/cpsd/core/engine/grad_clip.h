// SPDX-License-Identifier: Apache-2.0
// Gradient-norm clipping that leaves the host free to run ahead of the device.
#pragma once

#include <vector>

#include <ATen/core/Tensor.h>

#include "cpsd/core/export.h"

namespace cpsd::engine {

/// Scales the gradients of `params` (those that have one) so that their total 2-norm is at
/// most `max_norm`: torch::nn::utils::clip_grad_norm_'s arithmetic, without reading the
/// norm on the host (no device sync). A non-finite norm makes the gradients non-finite.
CPSD_CORE_API void clip_gradient_norm(const std::vector<at::Tensor>& params, double max_norm);

}  // namespace cpsd::engine
