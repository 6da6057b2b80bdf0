// SPDX-License-Identifier: Apache-2.0
// The weights and inputs of the parity fixtures (tests/weights/*_fixture.py write the same
// formulas in Python): no weights are stored, both sides compute them.
#pragma once

#include <cmath>
#include <string>

#include <torch/torch.h>

namespace cpsd::test {

/// t = sin(1.7 i + 0.3 len(name)) over the flat row-major index i, in double; matrices and
/// kernels (2 / sqrt(fan_in)) t with fan_in = numel / shape[0], vectors named *weight
/// 1 + 0.1 t, other vectors 0.1 t; then float.
inline torch::Tensor formula(const std::string& name, at::IntArrayRef shape) {
  const int64_t n = c10::multiply_integers(shape);
  torch::Tensor t =
      torch::sin(1.7 * torch::arange(n, torch::kDouble) + 0.3 * static_cast<double>(name.size()));
  const bool weight = name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0;
  if (shape.size() >= 2) {
    t = t * (2.0 / std::sqrt(static_cast<double>(n / shape[0])));
  } else {
    t = weight ? 1.0 + 0.1 * t : 0.1 * t;
  }
  return t.to(torch::kFloat).reshape(shape);
}

/// 0.5 + 0.5 sin(a i) cos(b i) over the flat index, in double, then float: an image-like input.
inline torch::Tensor wave(at::IntArrayRef shape, double a, double b) {
  const torch::Tensor i = torch::arange(c10::multiply_integers(shape), torch::kDouble);
  return (0.5 + 0.5 * torch::sin(a * i) * torch::cos(b * i)).to(torch::kFloat).reshape(shape);
}

}  // namespace cpsd::test
