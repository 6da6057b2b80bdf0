// SPDX-License-Identifier: Apache-2.0
// What a job minimises: the two roles of the pipeline's models.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "cpsd/core/data/loader.h"
#include "cpsd/core/engine/compute.h"
#include "cpsd/core/export.h"
#include "cpsd/sdk/loss.h"

namespace cpsd::engine {

/// One training batch as a step sees it. References stay valid for the call only.
struct StepBatch {
  const data::Batch& host;  ///< the loader's batch: sample indices and host tensors
  at::Tensor images;        ///< host.images on compute.device, in its memory format
  const Compute& compute;   ///< where and in which precision the step computes
};

/// Teacher logits for a batch, merged into the student's class order: float [N, C] on
/// batch.compute.device (no copy through host memory).
using TeacherProvider = std::function<std::vector<TeacherLogits>(const StepBatch& batch)>;

/// The loss of one job on one batch. `logits` float [N, C_job] on the compute device;
/// `targets` and `mask` (mask may be undefined) already restricted to the job's classes and
/// on that device; `batch` is the whole batch (for what else the role needs).
class CPSD_CORE_API Objective {
 public:
  virtual ~Objective();
  virtual at::Tensor loss(const at::Tensor& logits, const at::Tensor& targets,
                          const at::Tensor& mask, const StepBatch& batch) = 0;
};

/// A model learning from labels alone: the baseline, or a teacher of a sub-task. With
/// `positives_only` (teachers.images = "positive"), images without a positive among the
/// job's classes are left out of the loss.
class CPSD_CORE_API Supervised final : public Objective {
 public:
  Supervised(std::shared_ptr<Loss> loss, bool positives_only);
  at::Tensor loss(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& mask,
                  const StepBatch& batch) override;

 private:
  std::shared_ptr<Loss> loss_;
  bool positives_only_;
};

/// A student: cls_weight x classification loss + the distillation loss to its teachers'
/// merged logits (one term per branch).
class CPSD_CORE_API Distilled final : public Objective {
 public:
  Distilled(std::shared_ptr<Loss> classification, std::shared_ptr<Loss> distillation,
            double cls_weight, TeacherProvider teachers);
  at::Tensor loss(const at::Tensor& logits, const at::Tensor& targets, const at::Tensor& mask,
                  const StepBatch& batch) override;

 private:
  std::shared_ptr<Loss> classification_, distillation_;
  double cls_weight_;
  TeacherProvider teachers_;
};

}  // namespace cpsd::engine
