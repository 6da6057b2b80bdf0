// SPDX-License-Identifier: Apache-2.0
#include "training_parts.h"

#include <mutex>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "../json_file.h"
#include "cpsd/core/distributed.h"
#include "cpsd/core/engine/foreach_adam.h"
#include "cpsd/core/kind.h"
#include "cpsd/sdk/error.h"

namespace fs = std::filesystem;

namespace cpsd::engine {
namespace {

template <typename AdamOptions, typename AdamKind>
std::unique_ptr<torch::optim::Optimizer> adam(const std::vector<at::Tensor>& decay,
                                              const std::vector<at::Tensor>& no_decay,
                                              const TrainSettings& s) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(
      decay, std::make_unique<AdamOptions>(AdamOptions(s.lr).weight_decay(s.weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<AdamOptions>(AdamOptions(s.lr).weight_decay(0)));
  return std::make_unique<AdamKind>(std::move(groups));
}

template <typename AdamOptions>
void set_groups(torch::optim::Optimizer& optimizer, double lr, double momentum) {
  for (auto& group : optimizer.param_groups()) {
    auto& o = static_cast<AdamOptions&>(group.options());
    o.lr(lr).betas({momentum, std::get<1>(o.betas())});
  }
}

at::Generator default_cpu_generator() { return at::detail::getDefaultCPUGenerator(); }

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(MultiLabelModel& model,
                                                        const TrainSettings& s) {
  std::vector<at::Tensor> decay, no_decay;
  for (auto& p : model.parameters()) {
    if (!p.requires_grad()) continue;
    (p.dim() <= 1 ? no_decay : decay).push_back(p);
  }
  if (s.optimizer == Optimizer::adamw)
    return adam<torch::optim::AdamWOptions, ForeachAdamW>(decay, no_decay, s);
  return adam<torch::optim::AdamOptions, ForeachAdam>(decay, no_decay, s);
}

void set_lr_and_momentum(torch::optim::Optimizer& optimizer, double lr, double momentum,
                         Optimizer kind) {
  if (kind == Optimizer::adamw) {
    set_groups<torch::optim::AdamWOptions>(optimizer, lr, momentum);
  } else {
    set_groups<torch::optim::AdamOptions>(optimizer, lr, momentum);
  }
}

std::unique_ptr<GradientReducer> make_gradient_reducer(Distributed& group, MultiLabelModel& model,
                                                       const RunConfig& config) {
  std::vector<at::Tensor> trainable;
  for (auto& p : model.parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  return std::make_unique<GradientReducer>(
      group, std::move(trainable), model.buffers(),
      config.section("runtime").get_bool("find_unused_parameters"));
}

bool is_identity(const std::vector<int64_t>& classes, int64_t m) {
  if (static_cast<int64_t>(classes.size()) != m) return false;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    if (classes[c] != static_cast<int64_t>(c)) return false;
  }
  return true;
}

void broadcast_weights(Distributed& group, MultiLabelModel& model) {
  std::vector<at::Tensor> state;
  for (auto& p : model.parameters()) state.push_back(p.data());
  for (auto& b : model.buffers()) state.push_back(b);
  group.broadcast(state);
}

std::string model_signature(const RunConfig& config) {
  Json signature = Json::parse(options_json(config.section("model")));
  signature.erase("num_classes");  // set by the data in a run
  for (Kind kind : {Kind::backbone, Kind::head}) {
    const std::string name = config.selected(kind);
    signature[std::string(kind_name(kind)) + "_options"] =
        Json::parse(options_json(config.plugin_options(kind, name)));
  }
  return signature.dump();
}

void check_resumable(const CheckpointMeta& meta, const Job& job, const RunConfig& config,
                     const fs::path& last) {
  if (meta.class_indices != job.classes) {
    throw ConfigError(last.string() + " was trained for other classes than " + job.name +
                      " has now (the partition changed?); use a new run.name or remove " +
                      job.dir.string());
  }
  if (!meta.model_signature.empty() && meta.model_signature != model_signature(config)) {
    throw ConfigError(
        last.string() +
        " was trained with another model than the config builds now ([model] or "
        "the backbone's or head's options changed); use a new run.name, or start over with --fresh "
        "or by removing " +
        job.dir.string());
  }
}

at::Tensor cpu_generator_state() {
  at::Generator generator = default_cpu_generator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_cpu_generator_state(const at::Tensor& state) {
  at::Generator generator = default_cpu_generator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

uint64_t mix_seed(uint64_t seed, std::string_view name) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (h | 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void seed_step(uint64_t job_seed, int64_t step, int64_t rank) {
  at::manual_seed(mix_seed(job_seed, std::to_string(step) + "/" + std::to_string(rank)));
}

namespace {

at::Tensor restrict(const at::Tensor& t, const at::Tensor& classes) {
  return classes.defined() && t.defined() ? t.index_select(1, classes) : t;
}

at::Tensor gathered(const at::Tensor& t, Distributed* group) {
  return group != nullptr && t.defined() ? group->gather_rows(t) : t;
}

}  // namespace

std::vector<ValidationOutputs> validate(const std::vector<ValidationJob>& jobs,
                                        data::DataLoader& loader, Distributed* group,
                                        const Compute& compute) {
  at::NoGradGuard no_grad;
  std::vector<std::vector<at::Tensor>> logits(jobs.size()), ema(jobs.size()), targets(jobs.size()),
      masks(jobs.size());
  for (const ValidationJob& j : jobs) j.model->eval();
  loader.start_epoch(0);
  while (auto batch = loader.next()) {
    const at::Tensor images = compute.images(batch->images);
    AutocastScope autocast(compute.precision);
    for (std::size_t j = 0; j < jobs.size(); ++j) {
      logits[j].push_back(jobs[j].model->forward(images).to(at::kCPU, at::kFloat));
      if (jobs[j].ema != nullptr) {
        ema[j].push_back(
            static_cast<MultiLabelModel&>(*jobs[j].ema).forward(images).to(at::kCPU, at::kFloat));
      }
      targets[j].push_back(restrict(batch->targets, jobs[j].classes));
      if (batch->mask.defined()) masks[j].push_back(restrict(batch->mask, jobs[j].classes));
    }
  }
  std::vector<ValidationOutputs> out(jobs.size());
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    if (logits[j].empty()) throw ConfigError("the validation set is empty");
    // Every rank scored its shard: put the whole set together.
    out[j].logits = gathered(at::cat(logits[j]), group);
    if (!ema[j].empty()) out[j].ema_logits = gathered(at::cat(ema[j]), group);
    out[j].targets = gathered(at::cat(targets[j]), group);
    if (!masks[j].empty()) out[j].mask = gathered(at::cat(masks[j]), group);
  }
  return out;
}

}  // namespace cpsd::engine
