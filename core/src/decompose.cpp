// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/decompose.h"

#include <chrono>

#include "cpsd/core/affinity_picture.h"
#include "cpsd/core/label_statistics_io.h"
#include "cpsd/core/run_config.h"
#include "cpsd/sdk/error.h"

namespace cpsd {

DecomposeResult decompose_labels(const Registry& registry, const std::string& name,
                                 const Options& options, const LabelStatistics& stats, int64_t k,
                                 uint64_t seed) {
  validate_statistics(stats);
  validate_group_count(stats, k);
  auto decomposer = registry.create_decomposer(name, DecomposerArgs{options});
  const auto start = std::chrono::steady_clock::now();
  Partition p = decomposer->decompose(stats, k, seed);
  DecomposeResult result;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const std::string who = "decomposer/" + name;
  if (static_cast<int64_t>(p.groups.size()) != k) {
    throw RuntimeError(who + " returned " + std::to_string(p.groups.size()) + " groups, " +
                       std::to_string(k) + " were asked for");
  }
  check_partition(p.groups, stats.num_classes(), who);
  const std::size_t cells = static_cast<std::size_t>(stats.num_classes() * stats.num_classes());
  result.affinity = p.affinity.size() == cells ? std::move(p.affinity)
                                               : symmetric_cooccurrence_probability(stats);
  LabelPartition& out = result.partition;
  out.class_names = stats.class_names;
  out.groups = std::move(p.groups);
  out.decomposer = name;
  out.options_json = options_json(options);
  out.seed = seed;
  out.statistics_hash = statistics_hash(stats);
  out.diagnostics = std::move(p.diagnostics);
  return result;
}

}  // namespace cpsd
