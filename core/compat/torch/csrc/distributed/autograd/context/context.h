// SPDX-License-Identifier: Apache-2.0
// Stands in for a LibTorch header that Debian's libtorch-dev leaves out but c10d's
// reducer.hpp includes. reducer.hpp names the distributed-autograd context only through a
// shared pointer and its callback type, so these two names are all it needs; cpsd never
// uses distributed autograd. Used only when the LibTorch has no such header (CMake checks).
#pragma once

#include <functional>
#include <memory>

#include <ATen/core/Tensor.h>

namespace torch::distributed::autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};
using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace torch::distributed::autograd
