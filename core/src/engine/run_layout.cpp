// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/run_layout.h"

namespace cpsd::engine {

std::filesystem::path RunLayout::partition(const std::string& branch, int64_t k) const {
  return partitions() / (branch + ".k" + std::to_string(k) + ".json");
}

}  // namespace cpsd::engine
