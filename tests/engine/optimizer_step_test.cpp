// SPDX-License-Identifier: Apache-2.0
// The multi-tensor Adam / AdamW against LibTorch's per-parameter ones over many steps, and
// the gradient clipping without a host read against LibTorch's.
#include <gtest/gtest.h>

#include <sstream>

#include <ATen/ATen.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/serialize.h>

#include "cpsd/core/engine/foreach_adam.h"
#include "cpsd/core/engine/grad_clip.h"

namespace {

using cpsd::engine::ForeachAdam;
using cpsd::engine::ForeachAdamW;

// Two models' worth of parameters with the same values: a matrix, a conv kernel and biases.
std::vector<at::Tensor> make_params(uint64_t seed) {
  at::manual_seed(seed);
  std::vector<at::Tensor> p = {at::randn({64, 48}), at::randn({16, 8, 3, 3}), at::randn({64}),
                               at::randn({16})};
  for (at::Tensor& t : p) t.requires_grad_(true);
  return p;
}

template <typename Options>
std::vector<torch::optim::OptimizerParamGroup> groups_of(const std::vector<at::Tensor>& p) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<at::Tensor>{p[0], p[1]},
                      std::make_unique<Options>(Options(1e-3).weight_decay(1e-2)));
  groups.emplace_back(std::vector<at::Tensor>{p[2], p[3]},
                      std::make_unique<Options>(Options(1e-3).weight_decay(0)));
  return groups;
}

// Gradients of a smooth loss of the parameters; parameter 3 has none on every third step
// (its step count falls behind the others').
void set_gradients(const std::vector<at::Tensor>& params, int64_t step) {
  at::manual_seed(1000 + static_cast<uint64_t>(step));
  at::Tensor loss = at::zeros({});
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i == 3 && step % 3 == 0) continue;
    loss = loss + (params[i] * at::randn(params[i].sizes())).sum() + params[i].pow(2).sum() * 0.1;
  }
  for (const at::Tensor& p : params) p.mutable_grad() = at::Tensor();
  loss.backward();
}

// A one-cycle-like change of lr and beta1 at every step, in every group.
template <typename Options>
void set_schedule(torch::optim::Optimizer& optimizer, int64_t step) {
  for (auto& group : optimizer.param_groups()) {
    auto& o = static_cast<Options&>(group.options());
    o.lr(1e-3 * (1.0 + 0.5 * std::sin(0.1 * static_cast<double>(step))));
    o.betas({0.85 + 0.1 * static_cast<double>(step % 7) / 7.0, 0.999});
  }
}

double max_relative_difference(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const at::Tensor d = (a[i] - b[i]).abs() / b[i].abs().clamp_min(1e-12);
    worst = std::max(worst, d.max().item<double>());
  }
  return worst;
}

template <typename Options, typename State, typename Reference, typename Multi>
void expect_same_over_steps(int64_t steps) {
  const std::vector<at::Tensor> a = make_params(7), b = make_params(7);
  Reference reference(groups_of<Options>(a));
  Multi multi(groups_of<Options>(b));
  for (int64_t s = 0; s < steps; ++s) {
    set_schedule<Options>(reference, s);
    set_schedule<Options>(multi, s);
    set_gradients(a, s);
    set_gradients(b, s);
    reference.step();
    multi.step();
  }
  const double diff = max_relative_difference(b, a);
  testing::Test::RecordProperty("max_relative_difference", std::to_string(diff));
  EXPECT_LE(diff, 1e-7) << "after " << steps << " steps";
  // Moments and step counts, parameter by parameter.
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto key = [](const at::Tensor& p) {
      return c10::guts::to_string(p.unsafeGetTensorImpl());
    };
    const auto& ra = static_cast<const State&>(*reference.state().at(key(a[i])));
    const auto& mb = static_cast<const State&>(*multi.state().at(key(b[i])));
    EXPECT_EQ(ra.step(), mb.step()) << "parameter " << i;
    EXPECT_LE(max_relative_difference({mb.exp_avg_sq()}, {ra.exp_avg_sq()}), 1e-7);
  }
}

}  // namespace

TEST(ForeachAdam, EqualsLibTorchAdamOverManySteps) {
  expect_same_over_steps<torch::optim::AdamOptions, torch::optim::AdamParamState,
                         torch::optim::Adam, ForeachAdam>(300);
}

TEST(ForeachAdam, AdamWEqualsLibTorchAdamWOverManySteps) {
  expect_same_over_steps<torch::optim::AdamWOptions, torch::optim::AdamWParamState,
                         torch::optim::AdamW, ForeachAdamW>(300);
}

// A checkpoint of one continues in the other: the state is LibTorch's, key for key.
TEST(ForeachAdam, StateSavedByOneContinuesInTheOther) {
  const std::vector<at::Tensor> a = make_params(3), b = make_params(3);
  ForeachAdam first(groups_of<torch::optim::AdamOptions>(a));
  torch::optim::Adam straight(groups_of<torch::optim::AdamOptions>(b));
  for (int64_t s = 0; s < 20; ++s) {
    set_gradients(a, s);
    set_gradients(b, s);
    first.step();
    straight.step();
  }
  std::stringstream saved;
  {
    torch::serialize::OutputArchive archive;
    first.save(archive);
    archive.save_to(saved);
  }
  torch::optim::Adam resumed(groups_of<torch::optim::AdamOptions>(a));
  torch::serialize::InputArchive archive;
  archive.load_from(saved);
  resumed.load(archive);
  for (int64_t s = 20; s < 40; ++s) {
    set_gradients(a, s);
    set_gradients(b, s);
    resumed.step();
    straight.step();
  }
  EXPECT_LE(max_relative_difference(a, b), 1e-7);
}

TEST(ForeachAdam, RefusesAmsgrad) {
  const std::vector<at::Tensor> p = make_params(1);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(p, std::make_unique<torch::optim::AdamOptions>(
                             torch::optim::AdamOptions(1e-3).amsgrad(true)));
  EXPECT_THROW(ForeachAdam{std::move(groups)}, std::invalid_argument);
}

// The clipping without a host read scales as LibTorch's clip_grad_norm_ does, above and
// below the limit, and leaves parameters without a gradient alone.
TEST(GradClip, EqualsLibTorchClipGradNorm) {
  for (double max_norm : {0.5, 1e6}) {
    const std::vector<at::Tensor> a = make_params(5), b = make_params(5);
    set_gradients(a, 3);  // parameter 3 has no gradient on step 3
    set_gradients(b, 3);
    cpsd::engine::clip_gradient_norm(a, max_norm);
    torch::nn::utils::clip_grad_norm_(b, max_norm);
    for (std::size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a[i].grad().defined(), b[i].grad().defined());
      if (a[i].grad().defined()) {
        EXPECT_TRUE(at::allclose(a[i].grad(), b[i].grad(), 1e-6, 0)) << max_norm << " " << i;
      }
    }
    double norm = 0;
    for (const at::Tensor& p : a) {
      if (p.grad().defined()) norm += p.grad().pow(2).sum().item<double>();
    }
    if (max_norm < 1) {
      EXPECT_NEAR(std::sqrt(norm), max_norm, 1e-4);
    }
  }
}
