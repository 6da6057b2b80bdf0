// SPDX-License-Identifier: Apache-2.0
#include "full_decomposer.h"

#include <numeric>

#include "cpsd/sdk/error.h"

namespace cpsd::partition {

FullDecomposer::FullDecomposer(const DecomposerArgs&) {}

Partition FullDecomposer::decompose(const LabelStatistics& stats, int64_t k,
                                    uint64_t /*seed*/) const {
  validate_statistics(stats);
  if (k != 1) {
    throw ConfigError(
        "decomposer/full makes one group of every class: its branch needs k = 1, not " +
        std::to_string(k));
  }
  Partition out;
  out.groups.emplace_back(static_cast<std::size_t>(stats.num_classes()));
  std::iota(out.groups[0].begin(), out.groups[0].end(), 0);
  return out;
}

}  // namespace cpsd::partition
