// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/runtime.h"

#include <thread>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/utils.h>

#include "cpsd/core/distributed.h"
#include "cpsd/core/log.h"

namespace cpsd {

c10::Device runtime_device(const RunConfig& config) {
  const Options runtime = config.section("runtime");
  const std::string name = runtime.get_string("device");
  const bool cuda = torch::cuda::is_available();
  const int64_t local = detect_dist_env().local_rank;
  if (name == "cpu" || (name == "auto" && !cuda)) return c10::Device(c10::kCPU);
  if (!cuda) {
    runtime.fail("device", "'" + name +
                               "' asks for CUDA, but this LibTorch has no CUDA or sees no GPU; use "
                               "\"cpu\" or \"auto\"");
  }
  if (name == "cuda" || name == "auto") {
    return c10::Device(c10::kCUDA,
                       static_cast<c10::DeviceIndex>(local % torch::cuda::device_count()));
  }
  if (name.rfind("cuda:", 0) == 0) {
    try {
      const int index = std::stoi(name.substr(5));
      if (index >= 0 && index < static_cast<int>(torch::cuda::device_count())) {
        return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
      }
    } catch (const std::exception&) {
    }
    runtime.fail("device", "'" + name + "' is not one of the " +
                               std::to_string(torch::cuda::device_count()) + " GPUs");
  }
  runtime.fail("device", "must be cpu, cuda, cuda:N or auto, not '" + name + "'");
}

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
    log::info("rank {}/{} joined ({}, {}:{})", env.rank, env.world_size, env.source,
              env.master_addr, env.port);
    // One voice: the other ranks report only problems.
    if (env.rank != 0 && !log::level_forced() && runtime.get_string("log_level") == "info")
      log::set_level("warn");
  }
  if (runtime_device(config).is_cuda())
    at::globalContext().setBenchmarkCuDNN(true);  // autotuned kernels
  return static_cast<int>(threads);
}

}  // namespace cpsd
