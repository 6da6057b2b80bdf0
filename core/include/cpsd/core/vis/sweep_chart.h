// SPDX-License-Identifier: Apache-2.0
// The picture of a sweep's results.
#pragma once

#include <filesystem>

#include "cpsd/core/export.h"
#include "cpsd/core/sweep/summary.h"

namespace cpsd::vis {

/// mAP of every method side by side (mean with ± one sample standard deviation as error
/// bars), one point per cell; beside it, when the sweep has exactly one axis and its
/// values are numbers, mAP against that axis per method with the same error bars (the
/// shape of the CPSD paper's Figure 3). Written atomically.
CPSD_CORE_API void write_sweep_chart(const std::filesystem::path& png,
                                     const sweep::Summary& summary);

}  // namespace cpsd::vis
