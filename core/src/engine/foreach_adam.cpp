// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/foreach_adam.h"

#include <cmath>
#include <map>
#include <stdexcept>

#include <ATen/ATen.h>

namespace cpsd::engine {
namespace {

using StateMap = decltype(std::declval<torch::optim::Optimizer&>().state());

// The parameters of a group that take part in one update, with their moments.
struct UpdateLists {
  std::vector<at::Tensor> params, grads, exp_avgs, exp_avg_sqs;
};

struct Hyper {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;  // AdamW
};

// One multi-tensor Adam update at `step` (1-based), in the order of operations of
// LibTorch's per-parameter Adam / AdamW, so that the results are the same.
void update(UpdateLists& l, int64_t step, const Hyper& h) {
  const double bias1 = 1 - std::pow(h.beta1, static_cast<double>(step));
  const double bias2 = 1 - std::pow(h.beta2, static_cast<double>(step));
  if (h.decoupled && h.weight_decay != 0) at::_foreach_mul_(l.params, 1 - h.lr * h.weight_decay);
  std::vector<at::Tensor> grads = l.grads;
  if (!h.decoupled && h.weight_decay != 0)
    grads = at::_foreach_add(l.grads, l.params, h.weight_decay);
  at::_foreach_mul_(l.exp_avgs, h.beta1);
  at::_foreach_add_(l.exp_avgs, grads, 1 - h.beta1);
  at::_foreach_mul_(l.exp_avg_sqs, h.beta2);
  at::_foreach_addcmul_(l.exp_avg_sqs, grads, grads, 1 - h.beta2);
  std::vector<at::Tensor> denom = at::_foreach_sqrt(l.exp_avg_sqs);
  at::_foreach_div_(denom, std::sqrt(bias2));
  at::_foreach_add_(denom, h.eps);
  at::_foreach_addcdiv_(l.params, l.exp_avgs, denom, -h.lr / bias1);
}

// Gathers a group's parameters that have a gradient by their step count (one list unless
// some parameter missed steps), creating their state as LibTorch's Adam does, and updates.
template <typename Options, typename State>
void step_group(torch::optim::OptimizerParamGroup& group, StateMap& states, bool decoupled) {
  const auto& o = static_cast<const Options&>(group.options());
  std::map<int64_t, UpdateLists> by_step;
  for (const at::Tensor& p : group.params()) {
    if (!p.grad().defined()) continue;
    if (p.grad().is_sparse()) throw std::invalid_argument("Adam does not take sparse gradients");
    auto& slot = states[c10::guts::to_string(p.unsafeGetTensorImpl())];
    if (!slot) {
      auto fresh = std::make_unique<State>();
      fresh->step(0);
      fresh->exp_avg(at::zeros_like(p, at::MemoryFormat::Preserve));
      fresh->exp_avg_sq(at::zeros_like(p, at::MemoryFormat::Preserve));
      slot = std::move(fresh);
    }
    auto& state = static_cast<State&>(*slot);
    UpdateLists& l = by_step[state.step()];
    l.params.push_back(p);
    l.grads.push_back(p.grad());
    l.exp_avgs.push_back(state.exp_avg());
    l.exp_avg_sqs.push_back(state.exp_avg_sq());
    state.step(state.step() + 1);
  }
  const Hyper h{o.lr(),  std::get<0>(o.betas()), std::get<1>(o.betas()),
                o.eps(), o.weight_decay(),       decoupled};
  for (auto& [step, lists] : by_step) update(lists, step + 1, h);
}

template <typename Options>
void refuse_amsgrad(const std::vector<torch::optim::OptimizerParamGroup>& groups) {
  for (const auto& group : groups) {
    if (static_cast<const Options&>(group.options()).amsgrad())
      throw std::invalid_argument("the multi-tensor Adam has no amsgrad variant");
  }
}

template <typename Options, typename State>
at::Tensor foreach_step(torch::optim::Optimizer& optimizer,
                        torch::optim::Optimizer::LossClosure closure, bool decoupled) {
  at::Tensor loss;
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  at::NoGradGuard no_grad;
  for (auto& group : optimizer.param_groups())
    step_group<Options, State>(group, optimizer.state(), decoupled);
  return loss;
}

}  // namespace

ForeachAdam::ForeachAdam(std::vector<torch::optim::OptimizerParamGroup> groups)
    : torch::optim::Adam(std::move(groups)) {
  refuse_amsgrad<torch::optim::AdamOptions>(param_groups());
}

at::Tensor ForeachAdam::step(LossClosure closure) {
  return foreach_step<torch::optim::AdamOptions, torch::optim::AdamParamState>(
      *this, std::move(closure), false);
}

ForeachAdamW::ForeachAdamW(std::vector<torch::optim::OptimizerParamGroup> groups)
    : torch::optim::AdamW(std::move(groups)) {
  refuse_amsgrad<torch::optim::AdamWOptions>(param_groups());
}

at::Tensor ForeachAdamW::step(LossClosure closure) {
  return foreach_step<torch::optim::AdamWOptions, torch::optim::AdamWParamState>(
      *this, std::move(closure), true);
}

}  // namespace cpsd::engine
