// SPDX-License-Identifier: Apache-2.0
// Label partitions on disk: cpsd's self-describing JSON and the authors' reference format.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "cpsd/core/export.h"
#include "cpsd/sdk/decomposer.h"

namespace cpsd {

/// A partition of a label set into sub-tasks, with where it came from.
struct LabelPartition {
  std::vector<std::string> class_names;  ///< the full label set, m names
  /// k groups; the position of a class in its group is its output index in that group's
  /// teacher (ascending class order for every cpsd decomposer).
  std::vector<std::vector<int64_t>> groups;
  std::string decomposer;           ///< e.g. "cgp"; "" when read from the reference format
  std::string options_json = "{}";  ///< the decomposer's resolved options as a JSON object
  uint64_t seed = 0;
  std::string statistics_hash;  ///< statistics_hash() of the statistics it was cut from
  std::vector<std::pair<std::string, double>> diagnostics;
  int64_t k() const { return static_cast<int64_t>(groups.size()); }
};

enum class PartitionFormat {
  cpsd,      ///< JSON object: decomposer, options, k, seed, statistics hash, named groups
  reference  ///< the authors' list of k objects {"<class index>": <output index>, ...}
};

/// Parses "cpsd" or "reference"; ConfigError otherwise.
CPSD_CORE_API PartitionFormat parse_partition_format(const std::string& name);

/// Throws RuntimeError (with `who` in front) unless the groups are non-empty and cover
/// 0..m-1 exactly once.
CPSD_CORE_API void check_partition(const std::vector<std::vector<int64_t>>& groups, int64_t m,
                                   const std::string& who);

/// Writes atomically in the given format.
CPSD_CORE_API void write_partition(const LabelPartition& partition,
                                   const std::filesystem::path& path, PartitionFormat format);

/// Reads either format (told apart by the top-level JSON type). The reference format holds
/// no names: they come from `class_names` when given (its size must cover every index),
/// else "class_<i>" for m = the number of indices. Errors name the file.
CPSD_CORE_API LabelPartition read_partition(const std::filesystem::path& path,
                                            const std::vector<std::string>& class_names = {});

/// For each group, the share of the co-occurrence mass of its classes that stays inside
/// it: sum of e_ij over i, j in the group (i != j) / sum of e_ij over i in the group, j != i.
/// 0 for a group whose classes co-occur with nothing.
CPSD_CORE_API std::vector<double> kept_cooccurrence(const LabelPartition& partition,
                                                    const LabelStatistics& stats);

/// The same over all groups together.
CPSD_CORE_API double kept_cooccurrence_total(const LabelPartition& partition,
                                             const LabelStatistics& stats);

}  // namespace cpsd
