// SPDX-License-Identifier: Apache-2.0
// CUDA tests of cpsd's model and mixed-precision code, and the ResNet101 training-step
// benchmark at 448. usage: cpsd_gpu_check tests | bench BATCH SIZE STEPS PRECISION
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <torch/torch.h>

#include "cpsd/core/engine/amp.h"
#include "cpsd/core/engine/foreach_adam.h"
#include "cpsd/core/engine/grad_clip.h"
#include "heads_basic/linear_head.h"
#include "losses/asl_loss.h"
#include "resnet/resnet.h"

namespace {

using namespace cpsd;

std::string defaults_of(const char* name) {
  return resnet::resnet_defaults(name, "bottleneck", "[3, 4, 23, 3]", 64, 1, 64, "imagenet");
}

struct Model {
  std::shared_ptr<resnet::ResNet> backbone;
  std::shared_ptr<heads::LinearHead> head;
  std::shared_ptr<losses::AsymmetricLoss> loss;
  std::vector<torch::Tensor> parameters() {
    auto p = backbone->parameters();
    for (auto& h : head->parameters()) p.push_back(h);
    return p;
  }
  void to(const torch::Device& d) {
    backbone->to(d);
    head->to(d);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return head->forward(backbone->forward_features(x));
  }
};

Model make(const std::string& layers, int64_t classes) {
  Model m;
  m.backbone = std::make_shared<resnet::ResNet>(BackboneArgs{Options::parse(
      resnet::resnet_defaults("r", "bottleneck", layers.c_str(), 64, 1, 64, "imagenet"), "b")});
  HeadArgs h{
      Options::parse(heads::LinearHead::kDefaults, "h"), m.backbone->feature_info(), classes, {}};
  h.class_names.assign(classes, "c");
  m.head = std::make_shared<heads::LinearHead>(h);
  m.loss = std::make_shared<losses::AsymmetricLoss>(
      LossArgs{Options::parse(losses::AsymmetricLoss::kDefaults, "l"), classes});
  return m;
}

int failures = 0;
void check(bool ok, const char* what) {
  std::printf("%s %s\n", ok ? "PASS" : "FAIL", what);
  failures += ok ? 0 : 1;
}

// The multi-tensor Adam on CUDA (PyTorch's foreach kernels) against LibTorch's
// per-parameter Adam over 100 steps of random gradients.
void check_foreach_adam(const torch::Device& cuda) {
  torch::manual_seed(1);
  std::vector<torch::Tensor> a = {torch::randn({256, 128}, cuda), torch::randn({64}, cuda)};
  std::vector<torch::Tensor> b = {a[0].clone(), a[1].clone()};
  for (auto& t : a) t.requires_grad_(true);
  for (auto& t : b) t.requires_grad_(true);
  const auto options = torch::optim::AdamOptions(1e-3).weight_decay(1e-2);
  torch::optim::Adam reference(a, options);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(b, std::make_unique<torch::optim::AdamOptions>(options));
  engine::ForeachAdam multi(std::move(groups));
  for (int step = 0; step < 100; ++step) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      const torch::Tensor g = torch::randn(a[i].sizes(), cuda);
      a[i].mutable_grad() = g.clone();
      b[i].mutable_grad() = g.clone();
    }
    reference.step();
    multi.step();
  }
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst =
        std::max(worst, ((a[i] - b[i]).abs() / a[i].abs().clamp_min(1e-12)).max().item<double>());
  }
  std::printf("foreach Adam on CUDA: largest relative difference %.3g\n", worst);
  check(worst <= 1e-7, "multi-tensor Adam equals the per-parameter one on CUDA (1e-7 relative)");
}

int tests() {
  check_foreach_adam(torch::Device(torch::kCUDA));
  torch::manual_seed(0);
  const torch::Device cuda(torch::kCUDA);
  Model m = make("[1, 1, 1, 1]", 10);
  m.backbone->eval();
  m.head->eval();
  const torch::Tensor x = torch::rand({4, 3, 64, 64});
  torch::NoGradGuard no_grad;
  const torch::Tensor cpu = m.forward(x);
  m.to(cuda);
  const torch::Tensor gpu = m.forward(x.to(cuda)).cpu();
  check((cpu - gpu).abs().max().item<double>() < 1e-3, "model output on CUDA equals the CPU's");
  for (auto& p : m.backbone->parameters()) {
    if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  }
  const torch::Tensor nhwc = m.forward(x.to(cuda).contiguous(at::MemoryFormat::ChannelsLast)).cpu();
  check((cpu - nhwc).abs().max().item<double>() < 1e-3, "channels-last gives the same output");
  for (auto precision : {engine::Precision::bf16, engine::Precision::fp16}) {
    engine::AutocastScope scope(precision);
    const torch::Tensor y = m.forward(x.to(cuda));
    check(
        y.scalar_type() == (precision == engine::Precision::bf16 ? torch::kBFloat16 : torch::kHalf),
        precision == engine::Precision::bf16 ? "autocast bf16 runs the model in bf16"
                                             : "autocast fp16 runs in fp16");
    check((y.to(torch::kFloat).cpu() - cpu).abs().max().item<double>() < 0.1,
          "autocast output close to float");
  }
  return failures;
}

int train_steps(Model& m, torch::optim::Optimizer& opt, engine::LossScaler& scaler,
                engine::Precision precision, const torch::Tensor& x, const torch::Tensor& y,
                int steps) {
  int stepped = 0;
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    torch::Tensor logits;
    {
      engine::AutocastScope scope(precision);
      logits = m.forward(x);
    }
    scaler.scale(m.loss->forward({logits.to(torch::kFloat), y, {}, {}}).total).backward();
    const bool finite = scaler.unscale(m.parameters());
    if (finite) {
      opt.step();
      ++stepped;
    }
    scaler.update(finite);
  }
  return stepped;
}

int bench(int64_t batch, int64_t size, int steps, const std::string& precision_name) {
  const torch::Device cuda(torch::kCUDA);
  at::globalContext().setBenchmarkCuDNN(true);
  const engine::Precision precision = engine::parse_precision(precision_name);
  Model m = make("[3, 4, 23, 3]", 80);
  m.to(cuda);
  for (auto& p : m.backbone->parameters()) {
    if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  }
  m.backbone->train();
  m.head->train();
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(m.parameters(), std::make_unique<torch::optim::AdamOptions>(
                                          torch::optim::AdamOptions(1e-4).weight_decay(1e-4)));
  engine::ForeachAdam opt(std::move(groups));  // the trainer's optimizer
  engine::LossScaler scaler(precision == engine::Precision::fp16);
  const torch::Tensor x =
      torch::rand({batch, 3, size, size}, cuda).contiguous(at::MemoryFormat::ChannelsLast);
  const torch::Tensor y = (torch::rand({batch, 80}, cuda) < 0.1).to(torch::kFloat);
  train_steps(m, opt, scaler, precision, x, y, 5);
  torch::cuda::synchronize();
  const auto start = std::chrono::steady_clock::now();
  const int stepped = train_steps(m, opt, scaler, precision, x, y, steps);
  torch::cuda::synchronize();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.1f images/s (%d of %d steps applied)\n", batch * steps / s, stepped, steps);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (!torch::cuda::is_available()) {
    std::printf("no CUDA device\n");
    return 1;
  }
  const std::string what = argc > 1 ? argv[1] : "tests";
  if (what == "tests") return tests();
  return bench(std::atoll(argv[2]), std::atoll(argv[3]), std::atoi(argv[4]), argv[5]);
}
