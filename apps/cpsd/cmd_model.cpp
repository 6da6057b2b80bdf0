// SPDX-License-Identifier: Apache-2.0
// `cpsd model info --config FILE`: builds the configured model and runs one forward pass.
#include <chrono>
#include <cstdio>
#include <iostream>

#include <torch/torch.h>

#include "cli.h"
#include "cpsd/core/data/readers.h"
#include "cpsd/core/engine/foreach_adam.h"
#include "cpsd/core/model.h"
#include "cpsd/core/runtime.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {
namespace {

int64_t count(const std::vector<torch::Tensor>& tensors) {
  int64_t n = 0;
  for (const auto& t : tensors) n += t.numel();
  return n;
}

// "trainable T, frozen F (BatchNorm N), buffers B": frozen parameters (requires_grad off:
// frozen stages, frozen BatchNorm) are not trained; codebases that keep frozen BatchNorm
// scales as buffers (Q2L's FrozenBatchNorm2d) count parameters - N.
std::string counts(torch::nn::Module& m) {
  int64_t trainable = 0, frozen = 0, frozen_norm = 0;
  for (const auto& p : m.parameters()) (p.requires_grad() ? trainable : frozen) += p.numel();
  for (const auto& sub : m.modules()) {
    if (auto* bn = sub->as<torch::nn::BatchNorm2d>()) {
      for (const auto& p : bn->parameters(false)) frozen_norm += p.requires_grad() ? 0 : p.numel();
    }
  }
  return "trainable " + std::to_string(trainable) + ", frozen " + std::to_string(frozen) +
         " (BatchNorm " + std::to_string(frozen_norm) + "), buffers " +
         std::to_string(count(m.buffers()));
}

std::vector<std::string> class_names(const Options& model, const std::string& classes_file) {
  if (!classes_file.empty()) return data::read_class_list(classes_file);
  const int64_t n = model.get_int("num_classes");
  if (n < 1) {
    model.fail("num_classes",
               "must be >= 1 here (no dataset gives the classes), or give --classes FILE");
  }
  std::vector<std::string> names;
  for (int64_t i = 0; i < n; ++i) names.push_back("class_" + std::to_string(i));
  return names;
}

// Images/s of full training steps (forward, loss, backward, Adam step) on random data.
int bench(MultiLabelModel& model, const RunConfig& config, const Registry& registry,
          int64_t classes, int64_t size, int64_t batch, int64_t steps, int64_t warmup, int threads,
          bool forward_only) {
  if (batch < 1 || steps < 1 || warmup < 0)
    throw ConfigError("cpsd model bench: --batch, --steps >= 1, --warmup >= 0");
  const std::string loss_name = config.selected(Kind::loss);
  auto loss = registry.create_loss(loss_name,
                                   LossArgs{config.plugin_options(Kind::loss, loss_name), classes});
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(model.parameters(), std::make_unique<torch::optim::AdamOptions>(
                                              torch::optim::AdamOptions(1e-4).weight_decay(1e-4)));
  engine::ForeachAdam optimizer(std::move(groups));  // the trainer's optimizer
  model.train(!forward_only);
  const torch::Tensor images = torch::rand({batch, 3, size, size});
  const torch::Tensor targets = (torch::rand({batch, classes}) < 0.1).to(torch::kFloat);
  auto step = [&] {
    if (forward_only) {
      torch::NoGradGuard no_grad;
      model.forward(images);
      return;
    }
    optimizer.zero_grad();
    loss->forward({model.forward(images), targets, {}, {}}).total.backward();
    optimizer.step();
  };
  for (int64_t i = 0; i < warmup; ++i) step();
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < steps; ++i) step();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s: batch %lld at %lldx%lld, %d threads: %.1f ms/step, %.1f images/s\n",
              forward_only ? "forward" : "train step", static_cast<long long>(batch),
              static_cast<long long>(size), static_cast<long long>(size), threads,
              1e3 * seconds / steps, batch * steps / seconds);
  return 0;
}

}  // namespace

int run_model(const std::vector<std::string>& args, Context& context) {
  std::string action;
  std::string file, classes_file;
  std::vector<std::string> overrides;
  int64_t batch = 32, steps = 10, warmup = 2;
  bool forward_only = false;
  CommandLine cli("model", "info|bench --config FILE [--set KEY=VALUE ...] [options]");
  cli.positional("action", &action, "info | bench", 1);
  cli.add()("config", po::value(&file), "run config (TOML)")(
      "set", po::value(&overrides)->composing(), "override a config key (repeatable)")(
      "classes", po::value(&classes_file),
      "class names, one per line (instead of model.num_classes; GloVe class tokens need them)")(
      "batch", po::value(&batch), "bench: batch size (32)")("steps", po::value(&steps),
                                                            "bench: timed training steps (10)")(
      "warmup", po::value(&warmup), "bench: untimed steps first (2)")(
      "forward", po::bool_switch(&forward_only),
      "bench: time inference (eval mode, no gradients) instead of training");
  if (!cli.parse(args)) return 0;
  if (action != "info" && action != "bench") {
    throw ConfigError("cpsd model: expected `info --config FILE` or `bench --config FILE`");
  }
  if (file.empty()) throw ConfigError("cpsd model info: missing --config FILE");
  const Registry& registry = context.plugins(cli.common).registry();
  const RunConfig config = RunConfig::load(file, overrides, registry);
  const int threads = apply_runtime(config);
  const Options model_options = config.section("model");
  const std::vector<std::string> names = class_names(model_options, classes_file);
  const auto num_classes = static_cast<int64_t>(names.size());
  const int64_t size = model_options.get_int("input_size");
  if (size < 8) model_options.fail("input_size", "must be >= 8 pixels");
  auto model = build_model(config, registry, names);
  if (action == "bench") {
    return bench(*model, config, registry, num_classes, size, batch, steps, warmup, threads,
                 forward_only);
  }
  model->eval();

  std::cout << "backbone/" << config.selected(Kind::backbone) << " + head/"
            << config.selected(Kind::head) << ", " << num_classes << " classes\n";
  int64_t trainable = 0;
  for (const auto& p : model->parameters()) trainable += p.requires_grad() ? p.numel() : 0;
  char millions[32];
  std::snprintf(millions, sizeof(millions), "%.2f M", static_cast<double>(trainable) / 1e6);
  std::cout << "parameters: " << count(model->parameters()) << ", trainable " << trainable << " ("
            << millions << ")\n"
            << "  backbone: " << counts(model->backbone()) << "\n  head: " << counts(model->head())
            << '\n';
  std::cout << "features:";
  for (const FeatureInfo& f : model->backbone().feature_info()) {
    std::cout << ' ' << f.module << " (C=" << f.channels << ", stride " << f.stride << ')';
  }
  std::cout << '\n';
  torch::NoGradGuard no_grad;
  const torch::Tensor logits = model->forward(torch::zeros({1, 3, size, size}));
  std::cout << "forward [1, 3, " << size << ", " << size << "] -> " << logits.sizes() << " on "
            << threads << " threads\n";
  return 0;
}

}  // namespace cpsd::cli
