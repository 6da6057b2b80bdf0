// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/ema.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "cpsd/sdk/error.h"

namespace cpsd::engine {
namespace {

// Parameters and buffers by name: the module's full state.
torch::OrderedDict<std::string, at::Tensor> state_of(const torch::nn::Module& m) {
  torch::OrderedDict<std::string, at::Tensor> state;
  for (const auto& p : m.named_parameters()) state.insert(p.key(), p.value());
  for (const auto& b : m.named_buffers()) state.insert(b.key(), b.value());
  return state;
}

}  // namespace

void copy_state(const torch::nn::Module& from, torch::nn::Module& to) {
  c10::NoGradGuard no_grad;
  const auto source = state_of(from);
  auto target = state_of(to);
  if (source.size() != target.size())
    throw RuntimeError("copy_state: the two models differ in layout");
  for (auto& item : target) {
    const at::Tensor* s = source.find(item.key());
    if (s == nullptr) throw RuntimeError("copy_state: no '" + item.key() + "' in the source model");
    item.value().copy_(*s);
  }
}

ModelEma::ModelEma(std::shared_ptr<torch::nn::Module> shadow, const torch::nn::Module& model,
                   double decay)
    : shadow_(std::move(shadow)), decay_(decay) {
  if (decay_ < 0 || decay_ >= 1) throw ConfigError("EMA decay must be in [0, 1)");
  copy_state(model, *shadow_);
  shadow_->eval();
  for (auto& p : shadow_->parameters()) p.set_requires_grad(false);
}

void ModelEma::update(const torch::nn::Module& model) {
  c10::NoGradGuard no_grad;
  const auto source = state_of(model);
  auto target = state_of(*shadow_);
  // Floating-point state in two multi-tensor operations (one launch each on a GPU).
  std::vector<at::Tensor> averaged, fresh;
  for (auto& item : target) {
    const at::Tensor& m = source[item.key()];
    at::Tensor& e = item.value();
    if (e.is_floating_point()) {
      averaged.push_back(e);
      fresh.push_back(m.detach());
    } else {
      e.copy_(m);
    }
  }
  if (averaged.empty()) return;
  at::_foreach_mul_(averaged, decay_);
  at::_foreach_add_(averaged, fresh, 1.0 - decay_);
}

}  // namespace cpsd::engine
