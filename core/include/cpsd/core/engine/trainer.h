// SPDX-License-Identifier: Apache-2.0
// Training one or several models in lockstep on one decoded batch stream.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cpsd/core/data/dataset.h"
#include "cpsd/core/data/loader.h"
#include "cpsd/core/engine/metrics.h"
#include "cpsd/core/engine/one_cycle.h"
#include "cpsd/core/export.h"
#include "cpsd/core/model.h"
#include "cpsd/core/run_config.h"

namespace cpsd::engine {

/// Hyper-parameters of one stage: [train], with epochs and lr overridden by [teachers] or
/// [distill] when those say so.
struct TrainSettings {
  int64_t epochs = 10;
  int64_t batch_size = 32;
  std::string optimizer = "adam";
  double lr = 1e-4;
  double weight_decay = 1e-4;
  std::string schedule = "onecycle";
  OneCycleOptions one_cycle;  ///< max_lr and total_steps are set by the trainer
  double ema = 0.9997;
  double grad_clip = 0;
  double threshold = 0.5;
  double log_seconds = 10;
  /// > 0: a job stops once its best validation mAP is this many epochs old (early stopping;
  /// `epochs` is the cap the schedule is laid over). 0 trains every job for `epochs`.
  int64_t patience = 0;
  /// With several processes (see distributed()): true shards the batches over them and
  /// averages gradients (every job is trained by all ranks); false trains this rank's jobs
  /// alone on the whole data (the teachers, spread over the ranks).
  bool data_parallel = true;
};

/// stage: "train" (plain models), "teachers" or "distill".
CPSD_CORE_API TrainSettings read_train_settings(const RunConfig& config, const std::string& stage);

/// Teacher logits for a batch, merged into the student's class order.
using TeacherProvider = std::function<std::vector<TeacherLogits>(const data::Batch& batch)>;

/// One model to train. The trainer owns its optimizer, schedule and checkpoints.
struct Job {
  std::string name;                           ///< "baseline", "cgp_2", "student_cpsd", ...
  std::shared_ptr<MultiLabelModel> model;
  std::shared_ptr<MultiLabelModel> ema_model;  ///< same architecture; null when EMA is off
  std::vector<int64_t> classes;               ///< the dataset classes it predicts, in output order
  bool positives_only = false;                ///< count only images with a positive in `classes`
  std::shared_ptr<Loss> loss;                 ///< classification loss for classes.size() outputs
  std::shared_ptr<Loss> distill_loss;         ///< students only
  double cls_weight = 1.0;                    ///< weight of `loss` when distilling
  TeacherProvider teachers;                   ///< students only
  std::filesystem::path dir;                  ///< last.ckpt, best.ckpt, metrics.csv, metrics.json
};

struct JobResult {
  std::string name;
  double best_map = 0;        ///< percent
  int64_t best_epoch = -1;
  std::string best_source;    ///< "model" or "ema"
  Metrics best_metrics;       ///< of the best weights on the validation set
  double seconds = 0;         ///< training wall time of this call (shared by lockstep jobs)
};

/// Trains every job for settings.epochs on `train`, evaluating each (model and EMA) on
/// `val` after every epoch, keeping the better as best. Each epoch decodes the training set
/// once and feeds every job. Writes per job: last.ckpt every epoch, best.ckpt when the
/// validation mAP improves (both atomic), metrics.csv and metrics.json. With `resume`, a
/// job continues from its last.ckpt (a finished job is only evaluated). A non-finite loss
/// stops with RuntimeError naming job, epoch and step; the last good checkpoint stays.
CPSD_CORE_API std::vector<JobResult> train_jobs(std::vector<Job>& jobs, const TrainSettings& settings,
                                                const RunConfig& config,
                                                std::shared_ptr<const data::Dataset> train,
                                                std::shared_ptr<const data::Dataset> val, bool resume);

/// Runs `model` in eval mode over a loader's epoch and returns logits [N, C] in dataset
/// order of the loader, with targets and mask restricted to `classes`.
struct Predictions {
  at::Tensor logits, targets, mask;
  std::vector<int64_t> indices;
};
CPSD_CORE_API Predictions predict(MultiLabelModel& model, data::DataLoader& loader,
                                  const std::vector<int64_t>& classes);

}  // namespace cpsd::engine
