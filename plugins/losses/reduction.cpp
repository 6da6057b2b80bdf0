// SPDX-License-Identifier: Apache-2.0
#include "reduction.h"

#include <ATen/ops/ones_like.h>
#include <c10/util/Exception.h>

namespace cpsd::losses {

Reduction read_reduction(const Options& options, const char* key) {
  const std::string r = options.get_string(key);
  if (r == "sum") return Reduction::sum;
  if (r == "mean") return Reduction::mean;
  options.fail(key, "must be \"sum\" or \"mean\", not \"" + r + "\"");
}

at::Tensor reduce(const at::Tensor& elementwise, const LossInput& input, Reduction reduction) {
  at::Tensor loss = elementwise;
  double count = static_cast<double>(elementwise.numel());
  if (input.mask.defined()) {
    loss = loss * input.mask;
    if (reduction == Reduction::mean) count = input.mask.sum().item<double>();
  }
  at::Tensor total = loss.sum();
  if (reduction == Reduction::mean) total = total / std::max(count, 1.0);
  return total;
}

void check_input(const LossInput& input, int64_t num_classes, const char* who) {
  TORCH_CHECK(input.logits.defined() && input.logits.dim() == 2, who,
              ": logits must be [N, C], got ", input.logits.sizes());
  TORCH_CHECK(input.logits.size(1) == num_classes, who, ": built for ", num_classes,
              " classes, logits have ", input.logits.size(1));
  TORCH_CHECK(input.targets.defined() && input.targets.sizes() == input.logits.sizes(), who,
              ": targets ", input.targets.sizes(), " do not match logits ", input.logits.sizes());
  TORCH_CHECK(!input.mask.defined() || input.mask.sizes() == input.logits.sizes(), who, ": mask ",
              input.mask.sizes(), " does not match logits ", input.logits.sizes());
}

}  // namespace cpsd::losses
