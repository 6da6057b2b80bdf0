// SPDX-License-Identifier: Apache-2.0
// Loss: multi-label training objective with optional distillation targets.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>

#include "cpsd/sdk/export.h"
#include "cpsd/sdk/options.h"

namespace cpsd {

/// Arguments of a loss factory.
struct LossArgs {
  Options options;          ///< the loss's table merged over its defaults
  int64_t num_classes = 0;  ///< C, the width of logits and targets
};

/// Logits of one teacher branch, already merged into the student's class order.
struct TeacherLogits {
  std::string name;      ///< branch name, e.g. "cgp" or "dgp"
  torch::Tensor logits;  ///< float [N, C], no gradient required
  /// Undefined (every class counts fully), or float [C] >= 0 on the logits' device: how much
  /// each class's term of this branch counts (distill.weighting); a loss multiplies its
  /// per-entry terms by it before reducing.
  torch::Tensor weights;
};

/// One batch for a loss. All tensors share a device; N = batch, C = classes.
struct LossInput {
  torch::Tensor logits;                 ///< float [N, C], raw scores of the model
  torch::Tensor targets;                ///< float [N, C], multi-hot, values in {0, 1}
  torch::Tensor mask;                   ///< undefined, or float [N, C]: 0 = ignore entry
  std::vector<TeacherLogits> teachers;  ///< empty unless distilling
};

/// A total to minimise plus its weighted parts for logging (they sum to `total`).
struct LossOutput {
  torch::Tensor total;                                       ///< scalar float
  std::vector<std::pair<std::string, torch::Tensor>> parts;  ///< scalar each, detached
};

/// A training objective. A module so that it may hold buffers (e.g. class weights).
/// Ownership as for Backbone. forward throws c10::Error on shape mismatches and
/// cpsd::ConfigError when it needs teacher logits it was not given.
class CPSD_SDK_API Loss : public torch::nn::Module {
 public:
  ~Loss() override;
  virtual LossOutput forward(const LossInput& input) = 0;
};

}  // namespace cpsd
