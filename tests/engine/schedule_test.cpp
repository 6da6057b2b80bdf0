// SPDX-License-Identifier: Apache-2.0
// The one-cycle schedule against its formula and PyTorch's OneCycleLR; the weight EMA.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include <torch/torch.h>

#include "cpsd/core/engine/amp.h"
#include "cpsd/core/engine/ema.h"
#include "cpsd/core/engine/one_cycle.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd::engine {
namespace {

TEST(OneCycle, EndpointsAndShape) {
  OneCycleOptions o;
  o.max_lr = 1e-3;
  o.total_steps = 100;
  const OneCycle s(o);
  EXPECT_NEAR(s.lr(0), 1e-3 / 25, 1e-15);
  EXPECT_NEAR(s.lr(9), 1e-3, 1e-15);  // pct_start 0.1: the peak at step 0.1 * 100 - 1
  EXPECT_NEAR(s.lr(99), 1e-3 / 25 / 1e4, 1e-15);
  EXPECT_NEAR(s.momentum(0), 0.95, 1e-15);
  EXPECT_NEAR(s.momentum(9), 0.85, 1e-15);
  EXPECT_NEAR(s.momentum(99), 0.95, 1e-15);
  // Halfway through the annealing phase the lr is the mean of its ends.
  EXPECT_NEAR(s.lr(54), (1e-3 + 1e-3 / 25 / 1e4) / 2, 1e-15);
  EXPECT_THROW(OneCycle(OneCycleOptions{1e-3, 0}), ConfigError);
}

TEST(OneCycle, MatchesPyTorch) {
  test::TempDir tmp;
  test::write_file(
      tmp / "sched.py",
      "import torch\n"
      "p = [torch.nn.Parameter(torch.zeros(1))]\n"
      "opt = torch.optim.Adam(p, lr=1e-3)\n"
      "s = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-4, total_steps=37, pct_start=0.3,\n"
      "    div_factor=10, final_div_factor=100, base_momentum=0.8, max_momentum=0.9)\n"
      "for i in range(37):\n"
      "    g = opt.param_groups[0]\n"
      "    print(repr(g['lr']), repr(g['betas'][0]))\n"
      "    opt.step()\n"
      "    if i < 36: s.step()\n");
  FILE* pipe = popen(
      (std::string(CPSD_TEST_PYTHON) + " " + (tmp / "sched.py").string() + " 2>/dev/null").c_str(),
      "r");
  ASSERT_NE(pipe, nullptr);
  OneCycleOptions o;
  o.max_lr = 3e-4;
  o.total_steps = 37;
  o.pct_start = 0.3;
  o.div_factor = 10;
  o.final_div_factor = 100;
  o.base_momentum = 0.8;
  o.max_momentum = 0.9;
  const OneCycle ours(o);
  double lr = 0, momentum = 0;
  int step = 0;
  while (std::fscanf(pipe, "%lf %lf", &lr, &momentum) == 2) {
    EXPECT_NEAR(ours.lr(step), lr, 1e-12) << "step " << step;
    EXPECT_NEAR(ours.momentum(step), momentum, 1e-12) << "step " << step;
    ++step;
  }
  ASSERT_EQ(pclose(pipe), 0) << "python3-torch is needed (scripts/install-deps.sh)";
  EXPECT_EQ(step, 37);
}

TEST(ModelEma, AveragesFloatsAndCopiesCounters) {
  torch::nn::BatchNorm1d model(2), shadow(2);
  {
    torch::NoGradGuard no_grad;
    model->weight.fill_(1.0);
  }
  ModelEma ema(shadow.ptr(), *model, 0.9);
  EXPECT_TRUE(torch::equal(shadow->weight, model->weight));
  {
    torch::NoGradGuard no_grad;
    model->weight.fill_(2.0);
    model->num_batches_tracked.fill_(7);
  }
  ema.update(*model);
  EXPECT_NEAR(shadow->weight[0].item<double>(), 0.9 * 1.0 + 0.1 * 2.0, 1e-6);
  EXPECT_EQ(shadow->num_batches_tracked.item<int64_t>(), 7);
  EXPECT_FALSE(shadow->weight.requires_grad());
  EXPECT_THROW(ModelEma(shadow.ptr(), *model, 1.0), ConfigError);
}

// A stand-in for an fp16 backward: the gradient is `largest` times the scale, or inf when
// that exceeds fp16's range. Returns whether the step went through.
bool simulated_fp16_step(LossScaler& scaler, torch::Tensor& w, double largest) {
  const double scaled = largest * scaler.current();
  w.mutable_grad() = torch::full(
      {4}, scaled > LossScaler::kHalfMax ? std::numeric_limits<double>::infinity() : scaled);
  const bool ok = scaler.unscale({w});
  scaler.update(ok);
  return ok;
}

// PyTorch's GradScaler policy, written out: halve on overflow, double after 2000 good steps.
int64_t grad_scaler_skips(const std::vector<double>& largest) {
  double scale = 65536;
  int64_t good = 0, skipped = 0;
  for (double g : largest) {
    if (g * scale > LossScaler::kHalfMax) {
      scale *= 0.5;
      good = 0;
      ++skipped;
    } else if (++good == 2000) {
      scale *= 2;
      good = 0;
    }
  }
  return skipped;
}

// Summed ASL gives gradients near 1000 on ResNet101 (largest parameter gradient 754-1034
// over three seeds, batch 16 at 224, measured in fp32): GradScaler's start at 65536 skips
// ten steps to come down, then one more at a growth; this policy skips three (65536, 4096,
// 256), then none, and follows a gradient that falls by 10x within a few hundred steps.
TEST(LossScaler, WastesNoStepsOnASummedLoss) {
  std::vector<double> largest(6000, 1000.0);
  for (std::size_t i = 3000; i < largest.size(); ++i) largest[i] = 100.0;
  LossScaler scaler(true);
  torch::Tensor w = torch::ones({4}, torch::requires_grad());
  int64_t skipped = 0;
  for (double g : largest) skipped += simulated_fp16_step(scaler, w, g) ? 0 : 1;
  EXPECT_EQ(skipped, 3);
  EXPECT_EQ(grad_scaler_skips(largest), 11);
  // The scale climbed back with the smaller gradient, within the headroom.
  EXPECT_GT(scaler.current() * 100.0, LossScaler::kHalfMax / (2 * LossScaler::kHeadroom));
  EXPECT_LE(scaler.current() * 100.0, LossScaler::kHalfMax / LossScaler::kHeadroom);
  // A rising gradient lowers the scale before it overflows.
  LossScaler rising(true, 64.0);
  int64_t rising_skips = 0;
  for (int i = 0; i < 400; ++i) {
    rising_skips += simulated_fp16_step(rising, w, 10.0 * std::pow(1.01, i)) ? 0 : 1;
  }
  EXPECT_EQ(rising_skips, 0);
}

}  // namespace
}  // namespace cpsd::engine

namespace cpsd::engine {
namespace {

TEST(LossScaler, SkipsOverflowsAndAdaptsTheScale) {
  LossScaler scaler(true, 1024.0, 2);
  torch::Tensor w = torch::ones({2}, torch::requires_grad());
  scaler.scale((w * 3).sum()).backward();
  EXPECT_TRUE(scaler.unscale({w}));
  EXPECT_TRUE(torch::allclose(w.grad(), torch::full({2}, 3.0)));  // unscaled back
  scaler.update(true);
  scaler.update(true);
  EXPECT_EQ(scaler.current(), 2048.0);  // grows after growth_interval good steps
  w.mutable_grad().fill_(std::numeric_limits<float>::infinity());
  EXPECT_FALSE(scaler.unscale({w}));
  scaler.update(false);
  EXPECT_EQ(scaler.current(), 1024.0);  // halves on overflow
  LossScaler off(false);
  EXPECT_EQ(off.scale(torch::tensor(2.0)).item<double>(), 2.0);
  EXPECT_TRUE(off.unscale({w}));
  EXPECT_THROW(parse_precision("fp8"), ConfigError);
}

}  // namespace
}  // namespace cpsd::engine
