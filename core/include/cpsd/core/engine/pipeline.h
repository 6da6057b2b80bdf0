// SPDX-License-Identifier: Apache-2.0
// The whole CPSD pipeline: statistics -> partitions -> teachers -> students, and the ablations.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cpsd/core/data/dataset.h"
#include "cpsd/core/engine/metrics.h"
#include "cpsd/core/engine/teacher_check.h"
#include "cpsd/core/engine/trainer.h"
#include "cpsd/core/export.h"
#include "cpsd/core/registry.h"
#include "cpsd/core/run_config.h"

namespace cpsd::engine {

/// The methods of the paper's Table 3, as `run.methods` names them:
///   baseline: one model on the full label set;
///   sd: a student distilled from one full-label teacher (k = 1);
///   cgpd / dgpd: from the CGP / DGP teachers only; cpsd: from both;
///   random: from teachers of a random partition into k groups.
/// Returns the teacher branches a method needs: "full", "cgp", "dgp", "random".
CPSD_CORE_API std::vector<std::string> branches_of(const std::string& method);

/// run.output / run.name.
CPSD_CORE_API std::filesystem::path run_directory(const RunConfig& config);

/// The label groups of a teacher branch: "full" is one group of every class; "cgp", "dgp",
/// "random" (any decomposer) come from <partitions_dir>/<branch><k>.json when it was made
/// from the same statistics and settings, and are decomposed (and saved, with a picture)
/// otherwise.
CPSD_CORE_API std::vector<std::vector<int64_t>> partition_groups(const std::string& branch,
                                                                 const RunConfig& config,
                                                                 const Registry& registry,
                                                                 const LabelStatistics& stats,
                                                                 const std::filesystem::path& partitions_dir);

/// A job with the configured model (and its EMA twin when ema > 0) and classification loss
/// for `classes` of the training set.
/// Initial weights depend only on runtime.seed and the job: every model of the full label set
/// (the baseline, each student, SD's teacher) starts from the same weights, so a student
/// differs from its baseline only by what it is taught; a sub-task teacher's start is drawn
/// from the seed and its name ("cgp_0"), the same under `cpsd run`, `cpsd train --part` or on
/// any rank.
CPSD_CORE_API Job make_job(const RunConfig& config, const Registry& registry, const data::Dataset& train,
                           const std::string& name, const std::vector<int64_t>& classes,
                           const std::filesystem::path& dir, double ema);

/// For teachers.init = "baseline": starts every job of `teachers` from the trained baseline
/// (<baseline_dir>/best.ckpt, the better of its model and EMA weights), with the classifier
/// rows of the job's classes (see copy_class_subset). ConfigError when there is no trained
/// baseline there.
CPSD_CORE_API void start_from_baseline(std::vector<Job>& teachers, const RunConfig& config, const Registry& registry,
                                       const data::Dataset& train, const std::filesystem::path& baseline_dir);

/// One row of the results table.
struct MethodResult {
  std::string method;
  Metrics metrics;            ///< of the best weights on the validation set
  int64_t best_epoch = -1;
  std::string best_source;    ///< "model" or "ema"
  std::filesystem::path checkpoint;
};

struct StageTime {
  std::string stage;
  double seconds = 0;
};

struct PipelineReport {
  std::vector<MethodResult> results;
  std::vector<StageTime> stages;
  std::optional<TeacherCheck> teacher_check;  ///< when both the baseline and teachers were trained
};

/// Runs `config`'s methods into run.output/run.name: label statistics and partitions
/// (partitions/), the baseline (baseline/), every teacher branch trained together
/// (teachers/<branch>_<i>/ and teachers/manifest.json), the students (<method>/), and
/// results.md / results.json. Every stage resumes: finished jobs are only re-evaluated and
/// an interrupted one continues from its last checkpoint. Saves the resolved config as
/// config.toml.
CPSD_CORE_API PipelineReport run_pipeline(const RunConfig& config, const Registry& registry);

/// The results table as Markdown (what `cpsd run` prints and results.md holds).
CPSD_CORE_API std::string results_table(const PipelineReport& report, double threshold);

}  // namespace cpsd::engine
