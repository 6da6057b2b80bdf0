// SPDX-License-Identifier: Apache-2.0
// Applies a run's [runtime] section to the process: log level, CPU threads, seed.
#pragma once

#include "cpsd/core/export.h"
#include "cpsd/core/run_config.h"

namespace cpsd {

/// Sets the log level, LibTorch's intra-op threads (runtime.threads, 0 = all cores) and
/// seeds LibTorch's generators with runtime.seed. Returns the thread count in use.
CPSD_CORE_API int apply_runtime(const RunConfig& config);

}  // namespace cpsd
