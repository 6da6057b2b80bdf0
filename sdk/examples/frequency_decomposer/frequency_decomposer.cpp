// SPDX-License-Identifier: Apache-2.0
// A complete cpsd decomposer plugin in one file: "decomposer/frequency" cuts the label set
// by how often each class occurs, so that every sub-task holds classes of a similar
// frequency (the long tail apart from the common classes). Use it as a branch of a method:
//
//   [branches.freq]
//   decomposer = "frequency"
//   k = 2
//   [methods]
//   cgp_freq = ["cgp3", "freq"]
#include <algorithm>
#include <numeric>

#include "cpsd/sdk/plugin.h"

namespace frequency {

class FrequencyDecomposer final : public cpsd::Decomposer {
 public:
  explicit FrequencyDecomposer(const cpsd::DecomposerArgs& args)
      : rarest_first_(args.options.get_bool("rarest_first")) {}

  // Classes sorted by their image count (ties by index, so the result is deterministic
  // without the seed), then cut into k runs of near-equal length.
  cpsd::Partition decompose(const cpsd::LabelStatistics& stats, int64_t k,
                            uint64_t /*seed*/) const override {
    cpsd::validate_statistics(stats);
    cpsd::validate_group_count(stats, k);
    const int64_t m = stats.num_classes();
    std::vector<int64_t> order(static_cast<std::size_t>(m));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      const double na = stats.counts[static_cast<std::size_t>(a)],
                   nb = stats.counts[static_cast<std::size_t>(b)];
      return rarest_first_ ? na < nb : na > nb;
    });
    cpsd::Partition out;
    std::size_t next = 0;
    for (int64_t g = 0; g < k; ++g) {
      const auto size = static_cast<std::size_t>(m / k + (g < m % k ? 1 : 0));
      std::vector<int64_t> group(order.begin() + static_cast<std::ptrdiff_t>(next),
                                 order.begin() + static_cast<std::ptrdiff_t>(next + size));
      next += size;
      std::sort(group.begin(), group.end());  // the SDK's contract: each group ascending
      out.groups.push_back(std::move(group));
    }
    out.diagnostics.emplace_back("groups", static_cast<double>(k));
    return out;
  }

  static constexpr const char* kDefaults = R"(# decomposer/frequency
rarest_first = false   # the first group holds the most frequent classes (true: the rarest)
)";

 private:
  bool rarest_first_;
};

}  // namespace frequency

CPSD_PLUGIN("frequency_partition", "1.0.0",
            cpsd::plugin::factory<frequency::FrequencyDecomposer>(
                "frequency", "classes cut into k groups of similar frequency (SDK example)",
                frequency::FrequencyDecomposer::kDefaults))
