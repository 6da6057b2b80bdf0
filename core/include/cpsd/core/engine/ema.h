// SPDX-License-Identifier: Apache-2.0
// Exponential moving average of a model's weights and buffers.
#pragma once

#include <memory>

#include <torch/nn/module.h>

#include "cpsd/core/export.h"

namespace cpsd::engine {

/// Keeps `shadow` (a second model of the same architecture, built by the caller) as the
/// moving average e <- decay * e + (1 - decay) * m of every floating-point parameter and
/// buffer of the tracked model after each update(); integer buffers (BatchNorm's step
/// counter) are copied. Starts as an exact copy (the reference starts from a different
/// random head, a bug not kept). The shadow stays in eval mode and needs no gradients.
class CPSD_CORE_API ModelEma {
 public:
  ModelEma(std::shared_ptr<torch::nn::Module> shadow, const torch::nn::Module& model, double decay);

  void update(const torch::nn::Module& model);
  torch::nn::Module& shadow() { return *shadow_; }
  std::shared_ptr<torch::nn::Module> shadow_ptr() { return shadow_; }
  double decay() const { return decay_; }

 private:
  std::shared_ptr<torch::nn::Module> shadow_;
  double decay_;
};

/// Copies parameters and buffers of `from` into `to` (same architecture), by name.
CPSD_CORE_API void copy_state(const torch::nn::Module& from, torch::nn::Module& to);

}  // namespace cpsd::engine
