// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/compute.h"

#include <ATen/ATen.h>

#include "cpsd/core/runtime.h"

namespace cpsd::engine {

Compute Compute::of(const RunConfig& config) {
  const Options runtime = config.section("runtime");
  Compute c;
  c.device = runtime_device(config);
  c.precision = parse_precision(runtime.get_string("amp"));
  c.channels_last = runtime.get_bool("channels_last");
  if (c.precision != Precision::full && !c.device.is_cuda()) {
    runtime.fail("amp", "mixed precision needs a CUDA device (runtime.device)");
  }
  return c;
}

at::Tensor Compute::images(const at::Tensor& host) const {
  const at::Tensor x = device.is_cuda() ? host.to(device, /*non_blocking=*/true) : host;
  return channels_last ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
}

at::Tensor Compute::other(const at::Tensor& t) const {
  return t.defined() && device.is_cuda() ? t.to(device, /*non_blocking=*/true) : t;
}

}  // namespace cpsd::engine
