// SPDX-License-Identifier: Apache-2.0
// A model's logits over a loader's epoch.
#pragma once

#include <vector>

#include <ATen/core/Tensor.h>

#include "cpsd/core/data/loader.h"
#include "cpsd/core/export.h"
#include "cpsd/core/model.h"

namespace cpsd::engine {

/// Logits [N, C] in the loader's order with targets and mask restricted to `classes`, and
/// the samples' indices; all on the CPU.
struct Predictions {
  at::Tensor logits, targets, mask;
  std::vector<int64_t> indices;
};

/// Runs `model` in eval mode (no gradients) over one epoch of `loader`, on the model's device.
CPSD_CORE_API Predictions predict(MultiLabelModel& model, data::DataLoader& loader,
                                  const std::vector<int64_t>& classes);

}  // namespace cpsd::engine
