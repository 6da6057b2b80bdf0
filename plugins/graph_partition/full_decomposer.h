// SPDX-License-Identifier: Apache-2.0
// decomposer/full: the whole label set as one group (the SD branch: one teacher of all classes).
#pragma once

#include "cpsd/sdk/decomposer.h"

namespace cpsd::partition {

/// One group of every class, in order. Only k = 1 makes sense; other k are a ConfigError.
class FullDecomposer final : public Decomposer {
 public:
  explicit FullDecomposer(const DecomposerArgs& args);
  Partition decompose(const LabelStatistics& stats, int64_t k, uint64_t seed) const override;

  static constexpr const char* kDefaults = "# decomposer/full has no options\n";
};

}  // namespace cpsd::partition
