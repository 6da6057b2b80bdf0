// SPDX-License-Identifier: Apache-2.0
// decomposer/random: the paper's random-partition baseline.
#pragma once

#include "cpsd/sdk/decomposer.h"

namespace cpsd::partition {

/// Shuffles the classes with the seed and cuts them into k groups whose sizes differ by at
/// most one (the first m mod k groups get the extra class). Unlike the authors' script it
/// never produces an empty group.
class RandomDecomposer final : public Decomposer {
 public:
  explicit RandomDecomposer(const DecomposerArgs& args);
  Partition decompose(const LabelStatistics& stats, int64_t k, uint64_t seed) const override;

  static constexpr const char* kDefaults = "# decomposer/random has no options\n";
};

}  // namespace cpsd::partition
