// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/runtime.h"

#include <thread>

#include <ATen/Parallel.h>
#include <torch/utils.h>

#include "cpsd/core/log.h"

namespace cpsd {

int apply_runtime(const RunConfig& config) {
  const Options runtime = config.section("runtime");
  log::set_level(runtime.get_string("log_level"));
  int64_t threads = runtime.get_int("threads");
  if (threads < 0) runtime.fail("threads", "must be >= 0 (0 = all cores)");
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  at::set_num_threads(static_cast<int>(threads));
  const int64_t seed = runtime.get_int("seed");
  if (seed < 0) runtime.fail("seed", "must be >= 0");
  torch::manual_seed(static_cast<uint64_t>(seed));
  return static_cast<int>(threads);
}

}  // namespace cpsd
