// SPDX-License-Identifier: Apache-2.0
#include "random_decomposer.h"

#include <algorithm>
#include <numeric>

#include "rng.h"

namespace cpsd::partition {

RandomDecomposer::RandomDecomposer(const DecomposerArgs&) {}

Partition RandomDecomposer::decompose(const LabelStatistics& stats, int64_t k,
                                      uint64_t seed) const {
  validate_statistics(stats);
  validate_group_count(stats, k);
  const int64_t m = stats.num_classes();
  std::vector<int64_t> order(static_cast<std::size_t>(m));
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed);
  shuffle(order, rng);
  Partition out;
  std::size_t next = 0;
  for (int64_t g = 0; g < k; ++g) {
    const auto size = static_cast<std::size_t>(m / k + (g < m % k ? 1 : 0));
    std::vector<int64_t> group(order.begin() + next, order.begin() + next + size);
    next += size;
    std::sort(group.begin(), group.end());
    out.groups.push_back(std::move(group));
  }
  std::sort(out.groups.begin(), out.groups.end(),
            [](const auto& a, const auto& b) { return a.front() < b.front(); });
  return out;
}

}  // namespace cpsd::partition
