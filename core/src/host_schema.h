// SPDX-License-Identifier: Apache-2.0
// Private: the host's config sections and which keys select implementations.
#pragma once

#include <string_view>
#include <vector>

#include "cpsd/core/kind.h"

namespace cpsd {

/// A host key whose value names an implementation, e.g. model.backbone -> backbone/<value>.
struct Selector {
  Kind kind;
  std::string_view section;
  std::string_view key;
};

const std::vector<Selector>& selectors();

}  // namespace cpsd
