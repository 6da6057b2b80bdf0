// SPDX-License-Identifier: Apache-2.0
// Adam and AdamW with multi-tensor updates: one kernel launch per operation over all the
// parameters of a group, instead of one per parameter.
#pragma once

#include <vector>

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>

#include "cpsd/core/export.h"

namespace cpsd::engine {

/// torch::optim::Adam (L2 decay added to the gradient) whose step() updates a group's
/// parameters with the `_foreach_*` operations. The arithmetic, the per-parameter state
/// (AdamParamState, keyed as LibTorch keys it) and so save() / load() are those of
/// torch::optim::Adam: the two are interchangeable mid-run. Sparse gradients and amsgrad
/// are refused (std::invalid_argument at construction).
class CPSD_CORE_API ForeachAdam final : public torch::optim::Adam {
 public:
  explicit ForeachAdam(std::vector<torch::optim::OptimizerParamGroup> groups);
  at::Tensor step(LossClosure closure = nullptr) override;
};

/// torch::optim::AdamW (decoupled decay: p *= 1 - lr * weight_decay first), multi-tensor,
/// with the same guarantees as ForeachAdam.
class CPSD_CORE_API ForeachAdamW final : public torch::optim::AdamW {
 public:
  explicit ForeachAdamW(std::vector<torch::optim::OptimizerParamGroup> groups);
  at::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace cpsd::engine
