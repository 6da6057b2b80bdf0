// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/class_subset.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "cpsd/sdk/error.h"

namespace cpsd::engine {
namespace {

std::string shape_text(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

// The one dimension along which `part` holds a subset of `full`'s classes, or -1 when the
// shapes are equal.
int64_t class_dimension(const std::string& name, const at::Tensor& full, const at::Tensor& part,
                        int64_t num_classes, int64_t subset) {
  if (full.sizes() == part.sizes()) return -1;
  int64_t found = -1;
  bool fits = full.dim() == part.dim();
  for (int64_t d = 0; fits && d < full.dim(); ++d) {
    if (full.size(d) == part.size(d)) continue;
    fits = found < 0 && full.size(d) == num_classes && part.size(d) == subset;
    found = d;
  }
  if (!fits) {
    throw RuntimeError("cannot start a model of " + std::to_string(subset) +
                       " classes from one of " + std::to_string(num_classes) + ": '" + name +
                       "' is " + shape_text(full) + " there and " + shape_text(part) +
                       " here, not a per-class tensor");
  }
  return found;
}

}  // namespace

void copy_class_subset(const torch::nn::Module& full, torch::nn::Module& part, int64_t num_classes,
                       const std::vector<int64_t>& classes) {
  c10::NoGradGuard no_grad;
  torch::OrderedDict<std::string, at::Tensor> source;
  for (const auto& p : full.named_parameters()) source.insert(p.key(), p.value());
  for (const auto& b : full.named_buffers()) source.insert(b.key(), b.value());
  const int64_t subset = static_cast<int64_t>(classes.size());
  for (int64_t i = 0; subset == num_classes && i < subset; ++i) {
    // Equal shapes say nothing about the class order: only the identity is safe.
    if (classes[static_cast<std::size_t>(i)] != i) {
      throw RuntimeError("cannot start a model of all " + std::to_string(subset) +
                         " classes in another order from the full-label one");
    }
  }
  auto copy = [&](const std::string& name, at::Tensor target) {
    const at::Tensor* s = source.find(name);
    if (s == nullptr)
      throw RuntimeError("cannot start the model from the full-label one: it has no '" + name +
                         "'");
    const int64_t d = class_dimension(name, *s, target, num_classes, subset);
    if (d < 0) {
      target.copy_(*s);
    } else {
      target.copy_(s->index_select(d, at::tensor(classes, at::kLong).to(s->device())));
    }
  };
  for (const auto& p : part.named_parameters()) copy(p.key(), p.value());
  for (const auto& b : part.named_buffers()) copy(b.key(), b.value());
}

}  // namespace cpsd::engine
