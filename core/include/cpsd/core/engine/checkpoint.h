// SPDX-License-Identifier: Apache-2.0
// Training checkpoints: weights, EMA, optimizer, progress, RNG and the resolved config.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "cpsd/core/export.h"

namespace cpsd::engine {

/// The best validation result of a job so far: the record every stage keeps, in memory and
/// in its checkpoints.
struct Best {
  double map = -1;     ///< validation mAP (percent); -1 before the first evaluation
  int64_t epoch = -1;  ///< 1-based epoch that reached it
  std::string source;  ///< "model" or "ema": which weights reached it
};

/// Where inside an epoch a checkpoint was written: all a resumed run needs, besides the
/// weights and optimizer, to take the next step as an uninterrupted run would (the generator
/// is seeded from the step, the loader's order from the epoch). All zero at an epoch's end.
struct EpochPosition {
  int64_t batch = 0;       ///< batches of the epoch after `epoch` already trained
  int64_t world_size = 1;  ///< processes the epoch's batches were sharded over
  int64_t samples = 0;     ///< samples of those batches, over all processes
  double loss_sum = 0;     ///< the epoch's summed training loss so far (its metrics row)
  int64_t loss_count = 0;
};

/// What a checkpoint says about itself; enough to rebuild its model with the registry.
struct CheckpointMeta {
  std::string job;                       ///< e.g. "baseline", "cgp_3", "student_cpsd"
  int64_t epoch = 0;                     ///< epochs completed
  int64_t step = 0;                      ///< optimizer steps done
  EpochPosition position;                ///< inside epoch `epoch` + 1
  double loss_scale = 1;                 ///< fp16 dynamic loss scale ...
  int64_t loss_scale_good_steps = 0;     ///< ... its good steps since the last change ...
  bool loss_scale_settled = true;        ///< ... and whether a step has gone through yet
  std::string history_json;              ///< the finished epochs' metrics rows (JSON array)
  Best best;                             ///< the best epoch up to `epoch`
  std::string config_toml;               ///< the resolved run config
  std::vector<std::string> class_names;  ///< the model's outputs, in order
  std::vector<int64_t> class_indices;    ///< their indices in the dataset's label set
  /// What built the model (backbone, head, their options, the pretrained weights); a run
  /// resumes only into the same. Empty in checkpoints written before it was recorded.
  std::string model_signature;
};

/// Writes atomically (temp file, fsync, rename): the model, its EMA (may be null), the
/// optimizer state (may be null) and `meta`. A reader never sees a partial file.
CPSD_CORE_API void save_checkpoint(const std::filesystem::path& path, const CheckpointMeta& meta,
                                   torch::nn::Module& model, torch::nn::Module* ema,
                                   torch::optim::Optimizer* optimizer);

/// Reads only the metadata. ConfigError if the file is missing or not a cpsd checkpoint.
CPSD_CORE_API CheckpointMeta read_checkpoint_meta(const std::filesystem::path& path);

/// Loads the "model" or "ema" weights into `model` (same architecture).
CPSD_CORE_API void load_checkpoint_weights(const std::filesystem::path& path,
                                           const std::string& which, torch::nn::Module& model);

/// Restores model, EMA (may be null) and optimizer (may be null).
CPSD_CORE_API void load_training_state(const std::filesystem::path& path, torch::nn::Module& model,
                                       torch::nn::Module* ema, torch::optim::Optimizer* optimizer);

}  // namespace cpsd::engine
