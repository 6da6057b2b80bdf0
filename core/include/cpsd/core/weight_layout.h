// SPDX-License-Identifier: Apache-2.0
// Layouts of pretrained files from other codebases: how their names map onto a cpsd model's
// ("backbone.<name in the backbone>", "head.<name in the head>").
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "cpsd/core/export.h"
#include "cpsd/core/state_dict.h"

namespace cpsd {

/// One layout (model.pretrained_layout). Renames are prefix rules, the first that matches a
/// name wins; what a backbone or head converts itself (TResNet's InplaceABN names, a
/// torchvision classifier's "fc.") needs no rule here.
struct CPSD_CORE_API WeightLayout {
  std::string name;                     ///< e.g. "q2l"
  std::string description;              ///< whose files, one line
  std::vector<std::string> signatures;  ///< a name starting with one of these identifies it
  std::vector<std::pair<std::string, std::string>> renames;  ///< from prefix, to prefix
  std::vector<std::string> dropped;  ///< names with no counterpart in cpsd (left out, reported)
};

/// Every layout, in the order detection tries them.
CPSD_CORE_API const std::vector<WeightLayout>& weight_layouts();

/// The first layout one of whose signatures begins a name of `weights`; the last entry
/// ("as-is": no renames) when none does.
CPSD_CORE_API const WeightLayout& detect_layout(const StateDict& weights);

/// "auto" detects; another name selects that layout, and a file without its signature is
/// refused. Throws ConfigError naming `source` (unknown names list the layouts).
CPSD_CORE_API const WeightLayout& choose_layout(const std::string& name, const StateDict& weights,
                                                const std::string& source);

}  // namespace cpsd
