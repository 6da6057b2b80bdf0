// SPDX-License-Identifier: Apache-2.0
// Applies a run's [runtime] section to the process: log level, CPU threads, seed.
#pragma once

#include <c10/core/Device.h>

#include "cpsd/core/export.h"
#include "cpsd/core/run_config.h"

namespace cpsd {

/// runtime.device as a device: "cpu"; "cuda" or "auto" mean cuda:<local rank> ("auto": if
/// CUDA is there, else cpu); "cuda:N". ConfigError when CUDA is asked for and this LibTorch
/// has none (Debian's is CPU-only) or no GPU is visible.
CPSD_CORE_API c10::Device runtime_device(const RunConfig& config);

/// Sets the log level, LibTorch's intra-op threads (runtime.threads, 0 = all cores) and
/// seeds LibTorch's generators with runtime.seed. Returns the thread count in use.
CPSD_CORE_API int apply_runtime(const RunConfig& config);

}  // namespace cpsd
