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

/// Host keys that hold file paths. A relative path is relative to the file that wrote it;
/// `under_data_root`: relative to data.root instead when that is set.
struct PathKey {
  std::string_view key;
  bool under_data_root;
};
const std::vector<PathKey>& path_keys();

}  // namespace cpsd
