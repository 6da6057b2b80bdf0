// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/predict.h"

#include <ATen/ATen.h>

namespace cpsd::engine {

Predictions predict(MultiLabelModel& model, data::DataLoader& loader,
                    const std::vector<int64_t>& classes) {
  const at::Tensor index = at::tensor(classes, at::kLong);
  model.eval();
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> logits, targets, masks;
  Predictions out;
  loader.start_epoch(0);
  const c10::Device device =
      model.parameters().empty() ? c10::Device(c10::kCPU) : model.parameters().front().device();
  while (auto batch = loader.next()) {
    logits.push_back(model.forward(batch->images.to(device)).to(at::kCPU, at::kFloat));
    targets.push_back(batch->targets.index_select(1, index));
    if (batch->mask.defined()) masks.push_back(batch->mask.index_select(1, index));
    out.indices.insert(out.indices.end(), batch->indices.begin(), batch->indices.end());
  }
  out.logits =
      logits.empty() ? at::zeros({0, static_cast<int64_t>(classes.size())}) : at::cat(logits);
  out.targets = targets.empty() ? out.logits.clone() : at::cat(targets);
  if (!masks.empty()) out.mask = at::cat(masks);
  return out;
}

}  // namespace cpsd::engine
