// SPDX-License-Identifier: Apache-2.0
// Training one or several models in lockstep on one decoded batch stream.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cpsd/core/data/dataset.h"
#include "cpsd/core/data/loader.h"
#include "cpsd/core/engine/checkpoint.h"
#include "cpsd/core/engine/compute.h"
#include "cpsd/core/engine/metrics.h"
#include "cpsd/core/engine/objective.h"
#include "cpsd/core/engine/predict.h"
#include "cpsd/core/engine/train_settings.h"
#include "cpsd/core/export.h"
#include "cpsd/core/model.h"
#include "cpsd/core/run_config.h"

namespace cpsd {
class Distributed;
}

namespace cpsd::engine {

struct ValidationOutputs;  // the validation logits of one job (private to the trainer)

/// One model to train. The trainer owns its optimizer, schedule and checkpoints.
struct Job {
  std::string name;  ///< "baseline", "cgp_2", "student_cpsd", ...
  std::shared_ptr<MultiLabelModel> model;
  std::shared_ptr<MultiLabelModel> ema_model;  ///< same architecture; null when EMA is off
  std::vector<int64_t> classes;                ///< the dataset classes it predicts, in output order
  std::shared_ptr<Objective> objective;        ///< what it minimises (its role)
  std::filesystem::path dir;                   ///< last.ckpt, best.ckpt, metrics.csv, metrics.json
};

struct JobResult {
  std::string name;
  Best best;
  Metrics metrics;     ///< of the best weights on the validation set
  double seconds = 0;  ///< training wall time of this call (shared by lockstep jobs)
};

/// Trains jobs for settings.epochs on `train`, evaluating each (model and EMA) on `val`
/// after the epochs settings.val_begin / val_interval name (and the last) and keeping the
/// better as best. Each epoch decodes the training set once and feeds every job. Writes per
/// job: last.ckpt at every epoch's end and inside epochs (settings.checkpoint_minutes /
/// checkpoint_steps), best.ckpt when the validation mAP improves (all atomic), metrics.csv
/// and metrics.json. With `resume`, a job continues from its last.ckpt at the step after it,
/// bit for bit as an uninterrupted run on the same number of processes (a finished job is
/// only evaluated). A non-finite loss stops with RuntimeError naming job, epoch and step;
/// the last good checkpoint stays.
class CPSD_CORE_API Trainer {
 public:
  Trainer(TrainSettings settings, const RunConfig& config,
          std::shared_ptr<const data::Dataset> train, std::shared_ptr<const data::Dataset> val);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  std::vector<JobResult> run(std::vector<Job>& jobs, bool resume);

 private:
  struct State;
  std::vector<State> prepare(std::vector<Job>& jobs, bool resume);
  void restore(State& s);
  void restore_position(State& s, const EpochPosition& position);
  double run_epoch(const std::vector<State*>& active, int64_t epoch);
  void step(State& s, const StepBatch& batch, int64_t epoch);
  int64_t read_losses(State& s);
  void settle_losses(State& s, int64_t epoch);
  void end_epoch(const std::vector<State*>& active, int64_t epoch, double seconds);
  std::vector<ValidationOutputs> validate_all(const std::vector<State*>& active);
  bool choose_best(State& s, const ValidationOutputs& v, int64_t epoch);
  bool checkpoint_due(int64_t batches_done) const;
  void checkpoint_within(State& s, int64_t epoch, int64_t batches_done);
  void checkpoint(State& s, int64_t epochs_done, const EpochPosition& position, bool improved);
  std::vector<JobResult> finish(std::vector<State>& states, double seconds);

  TrainSettings settings_;
  const RunConfig& config_;
  std::shared_ptr<const data::Dataset> train_, val_;
  Compute compute_;
  Distributed* group_ = nullptr;  ///< data-parallel group, or null
  bool writer_ = true;            ///< writes checkpoints (rank 0 of a data-parallel job)
  bool show_progress_ = true;     ///< rank 0 of the whole run
  std::unique_ptr<data::DataLoader> train_loader_, val_loader_;
  std::chrono::steady_clock::time_point last_checkpoint_ = std::chrono::steady_clock::now();
};

}  // namespace cpsd::engine
