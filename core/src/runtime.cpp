// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/runtime.h"

#include <thread>

#include <ATen/Parallel.h>
#include <torch/utils.h>

#include "cpsd/core/distributed.h"
#include "cpsd/core/log.h"

namespace cpsd {

int apply_runtime(const RunConfig& config) {
  const Options runtime = config.section("runtime");
  if (!log::level_forced()) log::set_level(runtime.get_string("log_level"));
  int64_t threads = runtime.get_int("threads");
  if (threads < 0) runtime.fail("threads", "must be >= 0 (0 = all cores)");
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  at::set_num_threads(static_cast<int>(threads));
  const int64_t seed = runtime.get_int("seed");
  if (seed < 0) runtime.fail("seed", "must be >= 0");
  torch::manual_seed(static_cast<uint64_t>(seed));
  const DistEnv env = detect_dist_env();
  if (env.world_size > 1 && distributed() == nullptr) {
    const int64_t timeout = runtime.get_int("dist_timeout");
    if (timeout < 1) runtime.fail("dist_timeout", "must be >= 1 second");
    set_distributed(Distributed::connect(env, std::chrono::seconds(timeout)));
    log::info("rank {}/{} joined ({}, {}:{})", env.rank, env.world_size, env.source, env.master_addr, env.port);
    // One voice: the other ranks report only problems.
    if (env.rank != 0 && !log::level_forced() && runtime.get_string("log_level") == "info") log::set_level("warn");
  }
  return static_cast<int>(threads);
}

}  // namespace cpsd
