// SPDX-License-Identifier: Apache-2.0
// Running a decomposer plugin on label statistics, with the host's own checks.
#pragma once

#include <string>
#include <vector>

#include "cpsd/core/export.h"
#include "cpsd/core/partition_file.h"
#include "cpsd/core/registry.h"

namespace cpsd {

struct DecomposeResult {
  LabelPartition partition;
  std::vector<double> affinity;  ///< the decomposer's affinity, or the host's co-occurrence one
  double seconds = 0;            ///< time spent inside the decomposer
};

/// Validates the statistics and k (ConfigError), builds decomposer/`name` with `options`,
/// runs it, and checks its answer: exactly k non-empty groups covering every class once
/// (RuntimeError naming the plugin otherwise). The partition records name, options, seed
/// and the statistics hash.
CPSD_CORE_API DecomposeResult decompose_labels(const Registry& registry, const std::string& name,
                                               const Options& options, const LabelStatistics& stats,
                                               int64_t k, uint64_t seed);

}  // namespace cpsd
