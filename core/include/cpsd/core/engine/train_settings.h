// SPDX-License-Identifier: Apache-2.0
// How one stage trains its models: the choices of [train], [teachers] and [distill], typed.
#pragma once

#include <cstdint>

#include "cpsd/core/engine/one_cycle.h"

namespace cpsd::engine {

enum class Optimizer { adam, adamw };
enum class Schedule { onecycle, constant };

/// Hyper-parameters of one stage: [train], with epochs and lr overridden by [teachers] or
/// [distill] when those say so.
struct TrainSettings {
  int64_t epochs = 10;
  int64_t batch_size = 32;
  Optimizer optimizer = Optimizer::adam;  ///< adam: L2 added to the gradient; adamw: decoupled
  double lr = 1e-4;
  double weight_decay = 1e-4;
  Schedule schedule = Schedule::onecycle;
  OneCycleOptions one_cycle;  ///< max_lr and total_steps are set by the trainer
  double ema = 0.9997;        ///< 0 = no EMA
  double grad_clip = 0;
  double threshold = 0.5;
  double log_seconds = 10;
  /// Mid-epoch checkpoints (last.ckpt, from which a run resumes at the next step): every this
  /// many minutes of training and/or every this many steps; 0 turns either off, both 0 keeps
  /// only the checkpoint at each epoch's end.
  double checkpoint_minutes = 5;
  int64_t checkpoint_steps = 0;
  /// > 0: a job stops once its best validation mAP is this many epochs old (early stopping;
  /// `epochs` is the cap the schedule is laid over). 0 trains every job for `epochs`.
  int64_t patience = 0;
  /// Validation (of the model and its EMA) after epoch `val_begin` (1-based) and every
  /// `val_interval` epochs from there, and always after the last epoch; the best checkpoint
  /// is the best validated epoch. Epochs not validated have no mAP in the metrics.
  int64_t val_begin = 1;
  int64_t val_interval = 1;
  /// With several processes (see distributed()): true shards the batches over them and
  /// averages gradients (every job is trained by all ranks); false trains this rank's jobs
  /// alone on the whole data (the teachers, spread over the ranks).
  bool data_parallel = true;
};

}  // namespace cpsd::engine
