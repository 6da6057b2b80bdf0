// SPDX-License-Identifier: Apache-2.0
// Where and how the models of a run compute: decided once, from [runtime].
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "cpsd/core/engine/amp.h"
#include "cpsd/core/export.h"
#include "cpsd/core/run_config.h"

namespace cpsd::engine {

struct CPSD_CORE_API Compute {
  c10::Device device = c10::Device(c10::kCPU);
  Precision precision = Precision::full;
  bool channels_last = false;

  /// runtime.device, runtime.amp, runtime.channels_last. ConfigError for mixed precision
  /// without a CUDA device.
  static Compute of(const RunConfig& config);
  /// A batch of images (host memory) on the device, in its memory format.
  at::Tensor images(const at::Tensor& host) const;
  /// Any other tensor on the device (undefined stays undefined).
  at::Tensor other(const at::Tensor& t) const;
};

}  // namespace cpsd::engine
