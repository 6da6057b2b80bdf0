// SPDX-License-Identifier: Apache-2.0
// Decomposer: splits a label set into groups (sub-tasks) from label statistics.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cpsd/sdk/export.h"
#include "cpsd/sdk/options.h"

namespace cpsd {

/// Label statistics of a training set, as plain types.
struct LabelStatistics {
  std::vector<std::string> class_names;  ///< m names
  int64_t num_images = 0;                ///< images counted
  std::vector<double> counts;            ///< m entries: images that contain class i (n_i)
  /// m*m row-major: images that contain both i and j (e_ij). Symmetric; the diagonal
  /// is ignored by every decomposer.
  std::vector<double> cooccurrence;
  int64_t num_classes() const { return static_cast<int64_t>(class_names.size()); }
};

/// A partition of the class indices 0..m-1 into groups.
struct Partition {
  /// k groups, each non-empty and sorted ascending; together they hold every index once.
  std::vector<std::vector<int64_t>> groups;
  /// Optional m*m row-major affinity the groups were cut from (empty if none), kept so
  /// the host can draw it.
  std::vector<double> affinity;
  /// Optional named numbers for the log (e.g. "kmeans_inertia").
  std::vector<std::pair<std::string, double>> diagnostics;
};

/// Arguments of a decomposer factory.
struct DecomposerArgs {
  Options options;  ///< the decomposer's table merged over its defaults
};

/// Checks that `stats` is usable: m >= 1, sizes agree (m names, m counts, m*m
/// co-occurrences), no negative or non-finite number, e_ij = e_ji off the diagonal,
/// n_i <= num_images. Throws ConfigError naming the first violation.
CPSD_SDK_API void validate_statistics(const LabelStatistics& stats);

/// Pairs that co-occur in more images than one of the two is in (e_ij > min(n_i, n_j)), as
/// in ML-GCN's published NUS-WIDE file, whose pairs are counted twice: "" when there are
/// none, else one line naming how many and the worst (by e_ij / min(n_i, n_j)). Such
/// statistics are usable (the affinities take them as they are, as the authors' code did);
/// callers warn with this line.
CPSD_SDK_API std::string statistics_excess(const LabelStatistics& stats);

/// Throws ConfigError unless 1 <= k <= m.
CPSD_SDK_API void validate_group_count(const LabelStatistics& stats, int64_t k);

/// Splits labels into k sub-tasks. Not a module: no tensors cross this interface.
/// Ownership as for Backbone.
class CPSD_SDK_API Decomposer {
 public:
  virtual ~Decomposer();

  /// Returns exactly k groups covering 0..m-1 once each, deterministic for (stats, k,
  /// seed). Throws ConfigError if k < 1 or k > m, or if stats are inconsistent (sizes,
  /// negative counts). A decomposer may serve only some k (decomposer/full: k = 1) and
  /// throws ConfigError naming them for the others.
  virtual Partition decompose(const LabelStatistics& stats, int64_t k, uint64_t seed) const = 0;
};

}  // namespace cpsd
