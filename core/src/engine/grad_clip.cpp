// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/grad_clip.h"

#include <ATen/ATen.h>

namespace cpsd::engine {

void clip_gradient_norm(const std::vector<at::Tensor>& params, double max_norm) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const at::Tensor& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return;
  const at::Tensor total = at::stack(at::_foreach_norm(grads, 2)).norm(2);
  const at::Tensor factor = (max_norm / (total + 1e-6)).clamp_max(1.0);
  for (at::Tensor& g : grads) g.mul_(factor);
}

}  // namespace cpsd::engine
