// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/predict.h"

#include <ATen/ATen.h>

namespace cpsd::engine {

namespace {

// The memory format of the model's convolution weights (runtime.channels_last): the images
// are given the same, as the trainer gives them.
at::MemoryFormat weight_format(MultiLabelModel& model) {
  for (const at::Tensor& p : model.parameters()) {
    if (p.dim() == 4) return p.suggest_memory_format();
  }
  return at::MemoryFormat::Contiguous;
}

}  // namespace

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
  const at::MemoryFormat format = weight_format(model);
  while (auto batch = loader.next()) {
    const at::Tensor images = batch->images.to(device).contiguous(format);
    logits.push_back(model.forward(images).to(at::kCPU, at::kFloat));
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
