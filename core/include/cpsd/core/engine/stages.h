// SPDX-License-Identifier: Apache-2.0
// The stages of a run's plan, as the pipeline, `cpsd train` and `cpsd distill` execute them.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cpsd/core/data/dataset.h"
#include "cpsd/core/engine/plan.h"
#include "cpsd/core/engine/trainer.h"
#include "cpsd/core/export.h"
#include "cpsd/core/registry.h"
#include "cpsd/core/run_config.h"

namespace cpsd::engine {

using Groups = std::vector<std::vector<int64_t>>;

/// The training and validation sets of a run, and the training set's label statistics.
struct RunData {
  std::shared_ptr<const data::Dataset> train, val;
  LabelStatistics stats;
};

/// Loads both splits (ConfigError when their classes differ) and writes statistics.json.
CPSD_CORE_API RunData load_run_data(const RunPlan& plan, const RunConfig& config);

/// The label groups of a branch: read from its partition file when that was made from the
/// same statistics, decomposer, options and seed; decomposed otherwise (and saved, with its
/// affinity picture).
CPSD_CORE_API Groups branch_groups(const BranchSpec& branch, const RunPlan& plan,
                                   const Registry& registry, const LabelStatistics& stats);

/// A job with the configured model (and its EMA twin when ema > 0) learning `classes` of the
/// training set from their labels. Initial weights depend only on runtime.seed and the job:
/// every model of the full label set (the baseline, each student, SD's teacher) starts from
/// the same weights, so a student differs from its baseline only by what it is taught; a
/// sub-task teacher's start is drawn from the seed and its name ("cgp_0"), the same under
/// `cpsd run`, `cpsd train --part` or on any rank.
CPSD_CORE_API Job make_model_job(const RunConfig& config, const Registry& registry,
                                 const data::Dataset& train, const std::string& name,
                                 const std::vector<int64_t>& classes,
                                 const std::filesystem::path& dir, double ema,
                                 bool positives_only = false);

/// The configured classification loss (train.loss) for `classes` outputs.
CPSD_CORE_API std::shared_ptr<Loss> make_classification_loss(const RunConfig& config,
                                                             const Registry& registry,
                                                             int64_t classes);

/// The baseline's job, and the job of teacher `index` of `branch` (learning `classes`).
CPSD_CORE_API Job baseline_job(const RunPlan& plan, const RunConfig& config,
                               const Registry& registry, const data::Dataset& train);
CPSD_CORE_API Job teacher_job(const RunPlan& plan, const RunConfig& config,
                              const Registry& registry, const data::Dataset& train,
                              const BranchSpec& branch, int64_t index,
                              const std::vector<int64_t>& classes);

/// For teachers.init = "baseline": starts every job of `teachers` from the trained baseline
/// (its best.ckpt, the better of model and EMA), with the classifier rows of each job's
/// classes (see copy_class_subset). ConfigError when the baseline has not been trained.
CPSD_CORE_API void start_from_baseline(std::vector<Job>& teachers, const RunPlan& plan,
                                       const RunConfig& config, const Registry& registry,
                                       const data::Dataset& train);

/// `cpsd train`: the baseline (empty `branch`) or teacher `index` of `branch`, alone.
CPSD_CORE_API JobResult train_one(const RunPlan& plan, const RunConfig& config,
                                  const Registry& registry, const std::string& branch,
                                  int64_t index, bool resume);

/// distill.weighting: each branch's merged teachers against the baseline on the held-out
/// training images, as per-class weights (written to distill_weights.json).
CPSD_CORE_API std::map<std::string, at::Tensor> holdout_weights(
    const RunPlan& plan, const RunConfig& config, const Registry& registry,
    const data::Dataset& train, const std::map<std::string, std::vector<Job>>& teachers,
    const std::map<std::string, Groups>& groups);

}  // namespace cpsd::engine
