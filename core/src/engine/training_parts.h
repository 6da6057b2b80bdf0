// SPDX-License-Identifier: Apache-2.0
// The pieces of a training step and epoch that the Trainer composes (core-internal).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <torch/optim/optimizer.h>

#include "cpsd/core/data/loader.h"
#include "cpsd/core/engine/amp.h"
#include "cpsd/core/engine/checkpoint.h"
#include "cpsd/core/engine/compute.h"
#include "cpsd/core/engine/train_settings.h"
#include "cpsd/core/engine/trainer.h"
#include "cpsd/core/model.h"
#include "cpsd/core/run_config.h"

namespace cpsd {
class GradientReducer;
}

namespace cpsd::engine {

/// Adam (L2 added to the gradient) or AdamW, multi-tensor (ForeachAdam), no weight decay on biases
/// and other 1-D parameters (the reference), over the model's trainable parameters.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(MultiLabelModel& model,
                                                        const TrainSettings& s);
/// Sets every group's lr and beta1 (one-cycle momentum).
void set_lr_and_momentum(torch::optim::Optimizer& optimizer, double lr, double momentum,
                         Optimizer kind);

/// True when `classes` is 0..m-1 in order (the job needs no column selection).
bool is_identity(const std::vector<int64_t>& classes, int64_t m);

/// Rank 0's parameters and buffers to every rank.
void broadcast_weights(Distributed& group, MultiLabelModel& model);
/// The data-parallel engine for `model`'s trainable parameters and buffers
/// (runtime.find_unused_parameters).
std::unique_ptr<GradientReducer> make_gradient_reducer(Distributed& group, MultiLabelModel& model,
                                                       const RunConfig& config);

/// The parts of the config that build a job's model, as one comparable text.
std::string model_signature(const RunConfig& config);
/// ConfigError when `meta` (a job's last checkpoint) belongs to other classes or another model.
void check_resumable(const CheckpointMeta& meta, const Job& job, const RunConfig& config,
                     const std::filesystem::path& last);

at::Tensor cpu_generator_state();
void set_cpu_generator_state(const at::Tensor& state);

/// `seed` mixed with a name (FNV-1a, then a splitmix64 finaliser): one stream per job or role.
uint64_t mix_seed(uint64_t seed, std::string_view name);
/// Seeds the generators (CPU and CUDA) for one optimizer step of a job: what dropout and
/// other random layers draw then depends only on (job, step, rank), so a run resumed at any
/// step, or a job trained beside others, draws as an uninterrupted run alone does.
void seed_step(uint64_t job_seed, int64_t step, int64_t rank);

/// A job to score on the validation set: its model, its EMA (or null) and its classes
/// (undefined = all, in order).
struct ValidationJob {
  MultiLabelModel* model = nullptr;
  torch::nn::Module* ema = nullptr;
  at::Tensor classes;
};
struct ValidationOutputs {
  at::Tensor logits, ema_logits, targets, mask;
};
/// One pass over the validation set for every job, its model and its EMA; with a group,
/// each rank scores its shard and the rows are gathered.
std::vector<ValidationOutputs> validate(const std::vector<ValidationJob>& jobs,
                                        data::DataLoader& loader, Distributed* group,
                                        const Compute& compute);

}  // namespace cpsd::engine
