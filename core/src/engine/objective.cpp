// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/objective.h"

#include <ATen/ATen.h>

namespace cpsd::engine {

Objective::~Objective() = default;

Supervised::Supervised(std::shared_ptr<Loss> loss, bool positives_only)
    : loss_(std::move(loss)), positives_only_(positives_only) {}

at::Tensor Supervised::loss(const at::Tensor& logits, const at::Tensor& targets,
                            const at::Tensor& mask, const StepBatch& /*batch*/) {
  at::Tensor m = mask;
  if (positives_only_) {
    const at::Tensor rows = (targets.sum(1, true) > 0).to(at::kFloat).expand_as(targets);
    m = m.defined() ? m * rows : rows.contiguous();
  }
  return loss_->forward(LossInput{logits.to(at::kFloat), targets, m, {}}).total;
}

Distilled::Distilled(std::shared_ptr<Loss> classification, std::shared_ptr<Loss> distillation,
                     double cls_weight, TeacherProvider teachers)
    : classification_(std::move(classification)),
      distillation_(std::move(distillation)),
      cls_weight_(cls_weight),
      teachers_(std::move(teachers)) {}

at::Tensor Distilled::loss(const at::Tensor& logits, const at::Tensor& targets,
                           const at::Tensor& mask, const StepBatch& batch) {
  LossInput input{logits.to(at::kFloat), targets, mask, teachers_(batch)};
  for (TeacherLogits& t : input.teachers) {
    t.logits = batch.compute.other(t.logits);  // no-ops for teachers on the device
    t.weights = batch.compute.other(t.weights);
  }
  return cls_weight_ * classification_->forward(input).total + distillation_->forward(input).total;
}

}  // namespace cpsd::engine
