// SPDX-License-Identifier: Apache-2.0
// Reading the tensors of a cpsd checkpoint (a torch::serialize archive) in tests.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <torch/serialize.h>

namespace cpsd::test {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

/// Every tensor of `archive` with its dotted path after `prefix`, depth first (sub-modules
/// are nested archives), in the archive's key order.
inline void collect_archive_tensors(torch::serialize::InputArchive& archive,
                                    const std::string& prefix, NamedTensors& out) {
  for (const std::string& key : archive.keys()) {
    torch::Tensor t;
    torch::serialize::InputArchive nested;
    if (archive.try_read(key, t)) {
      out.emplace_back(prefix + key, t);
    } else if (archive.try_read(key, nested)) {
      collect_archive_tensors(nested, prefix + key + ".", out);
    }
  }
}

}  // namespace cpsd::test
