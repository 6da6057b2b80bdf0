// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <ATen/ATen.h>

namespace cpsd::engine {
namespace {

at::Tensor as_double(const at::Tensor& t) {
  return t.detach().to(at::kCPU, at::kDouble).contiguous();
}

double f1(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

}  // namespace

std::vector<double> average_precision(const at::Tensor& scores, const at::Tensor& targets,
                                      const at::Tensor& mask) {
  TORCH_CHECK(scores.dim() == 2 && scores.sizes() == targets.sizes(), "average_precision: scores ",
              scores.sizes(), " and targets ", targets.sizes(), " must both be [N, C]");
  const at::Tensor s = as_double(scores), t = as_double(targets);
  const at::Tensor m = mask.defined() ? as_double(mask) : at::Tensor();
  const int64_t n = s.size(0), c = s.size(1);
  const double* sp = s.data_ptr<double>();
  const double* tp = t.data_ptr<double>();
  const double* mp = m.defined() ? m.data_ptr<double>() : nullptr;
  std::vector<double> ap(static_cast<std::size_t>(c), std::numeric_limits<double>::quiet_NaN());
  std::vector<int64_t> order(static_cast<std::size_t>(n));
  for (int64_t k = 0; k < c; ++k) {
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return sp[a * c + k] > sp[b * c + k]; });
    double hits = 0, seen = 0, sum = 0;
    for (int64_t i : order) {
      if (mp != nullptr && mp[i * c + k] == 0) continue;
      seen += 1;
      if (tp[i * c + k] > 0.5) {
        hits += 1;
        sum += hits / seen;
      }
    }
    if (hits > 0) ap[k] = sum / hits;
  }
  return ap;
}

Metrics evaluate(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& mask,
                 double threshold) {
  Metrics out;
  out.threshold = threshold;
  out.ap = average_precision(logits, targets, mask);
  double sum = 0;
  int64_t counted = 0;
  for (double& a : out.ap) {
    if (std::isnan(a)) {
      ++out.classes_without_positives;
      continue;
    }
    a *= 100;
    sum += a;
    ++counted;
  }
  out.map = counted > 0 ? sum / counted : 0;

  const at::Tensor l = as_double(logits), t = as_double(targets);
  const at::Tensor valid = mask.defined() ? as_double(mask) > 0.5 : at::ones_like(l, at::kBool);
  const at::Tensor positive = (t > 0.5).logical_and(valid);
  const at::Tensor predicted = (at::sigmoid(l) >= threshold).logical_and(valid);
  const int64_t k = std::min<int64_t>(3, l.size(1));
  at::Tensor top = at::zeros_like(predicted);
  if (l.size(0) > 0 && k > 0) top.scatter_(1, std::get<1>(l.topk(k, 1)), true);
  const at::Tensor predicted_top3 = predicted.logical_and(top);

  auto fill = [&](const at::Tensor& pred, double& cp, double& cr, double& cf1, double& op,
                  double& orc, double& of1) {
    const at::Tensor nc = pred.logical_and(positive).sum(0).to(at::kDouble);
    const at::Tensor np = pred.sum(0).to(at::kDouble).clamp_min(1);
    const at::Tensor ng = positive.sum(0).to(at::kDouble);
    const at::Tensor has = ng > 0;
    op = 100 * nc.sum().item<double>() / std::max(np.sum().item<double>(), 1.0);
    orc = 100 * nc.sum().item<double>() / std::max(ng.sum().item<double>(), 1.0);
    of1 = f1(op, orc);
    const double classes = std::max<double>(has.sum().item<double>(), 1.0);
    cp = 100 * (nc / np).masked_select(has).sum().item<double>() / classes;
    cr = 100 * (nc / ng.clamp_min(1)).masked_select(has).sum().item<double>() / classes;
    cf1 = f1(cp, cr);
  };
  fill(predicted, out.cp, out.cr, out.cf1, out.op, out.orecall, out.of1);
  fill(predicted_top3, out.cp_top3, out.cr_top3, out.cf1_top3, out.op_top3, out.or_top3,
       out.of1_top3);
  return out;
}

}  // namespace cpsd::engine
