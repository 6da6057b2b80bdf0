// SPDX-License-Identifier: Apache-2.0
// The whole CPSD pipeline: statistics -> partitions -> baseline -> teachers -> students.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cpsd/core/engine/metrics.h"
#include "cpsd/core/engine/plan.h"
#include "cpsd/core/engine/teacher_check.h"
#include "cpsd/core/engine/trainer.h"
#include "cpsd/core/export.h"
#include "cpsd/core/registry.h"
#include "cpsd/core/run_config.h"

namespace cpsd::engine {

/// One row of the results table.
struct MethodResult {
  std::string method;
  bool baseline = false;              ///< the method without branches
  std::vector<std::string> branches;  ///< those its student learned from
  Metrics metrics;                    ///< of the best weights on the validation set
  Best best;
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

/// Runs the plan into its run directory: label statistics and partitions, the baseline,
/// every branch's teachers trained together, the students trained together, and
/// results.md / results.json. Every stage resumes: finished jobs are only re-evaluated and an
/// interrupted one continues from its last checkpoint. Saves the resolved config.
CPSD_CORE_API PipelineReport run_pipeline(const RunPlan& plan, const RunConfig& config,
                                          const Registry& registry);

/// The results table as Markdown (what `cpsd run` prints and results.md holds).
CPSD_CORE_API std::string results_table(const PipelineReport& report, double threshold);

/// Writes results.md and results.json of `report` into the plan's run directory.
CPSD_CORE_API void write_results(const PipelineReport& report, const RunPlan& plan);

}  // namespace cpsd::engine
