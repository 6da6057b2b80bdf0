// SPDX-License-Identifier: Apache-2.0
// Stages that several runs of a sweep share: keys that say when two runs would train the
// same models, the store that holds them once, and locks so that one process trains each.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cpsd/core/engine/plan.h"
#include "cpsd/core/export.h"
#include "cpsd/core/file_lock.h"
#include "cpsd/core/run_config.h"

namespace cpsd::sweep {

/// Names of a run's shareable stages: equal keys mean bit-identical models.
struct StageKeys {
  /// "baseline-<hash>": the resolved config without what only teachers and students read
  /// (run, methods, branches, partition, teachers, distill, the distillation loss's table,
  /// log settings). "" when the plan trains no baseline.
  std::string baseline;
  /// "teachers-<hash>": the config without what only students read, the branches whose
  /// teachers the plan trains (their relative weights left out) and the baseline's key
  /// (the teachers start from its end state). "" when the plan has no branches.
  std::string teachers;
};

CPSD_CORE_API StageKeys stage_keys(const RunConfig& config, const engine::RunPlan& plan);

/// Points the run directory's baseline/, teachers/ and partitions/ at store/<key>/...
/// (relative symbolic links, made once; a real directory already there is left as it is).
/// Creates what the links point at.
CPSD_CORE_API void link_shared_stages(const std::filesystem::path& store,
                                      const engine::RunLayout& run, const StageKeys& keys);

/// The locks of a run's shared stages (store/<key>.lock), taken in name order so that
/// processes sharing several stages cannot wait on each other in a cycle.
CPSD_CORE_API std::vector<FileLock> lock_stages(const std::filesystem::path& store,
                                                const StageKeys& keys);

}  // namespace cpsd::sweep
