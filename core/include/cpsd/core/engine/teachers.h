// SPDX-License-Identifier: Apache-2.0
// Teachers of the sub-tasks and their logits merged back into the full label order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "cpsd/core/data/dataset.h"
#include "cpsd/core/engine/objective.h"
#include "cpsd/core/export.h"
#include "cpsd/core/model.h"
#include "cpsd/core/run_config.h"

namespace cpsd::engine {

/// The teachers of one branch (a partition, e.g. "cgp"): model t predicts groups[t].
struct TeacherBranch {
  std::string name;
  std::vector<std::vector<int64_t>> groups;
  std::vector<std::shared_ptr<MultiLabelModel>> models;
  at::Tensor
      weights;  ///< undefined, or float [num_classes]: per-class weight of its distillation term
  /// Names the teacher models: branches with the same `teachers` share one forward per batch.
  std::string teachers;
};

/// The paper's rho: scatters each teacher's [N, |group|] outputs to its classes' columns
/// of an [N, num_classes] tensor. The groups must cover every class once.
CPSD_CORE_API at::Tensor merge_teacher_logits(const std::vector<at::Tensor>& outputs,
                                              const std::vector<std::vector<int64_t>>& groups,
                                              int64_t num_classes);

/// Runs every branch's teachers on each training batch (no gradients) and merges them.
/// train_mode = true reproduces the reference code (BatchNorm on batch statistics,
/// dropout active); false is the paper's eval mode.
CPSD_CORE_API TeacherProvider online_teachers(std::vector<TeacherBranch> branches, bool train_mode,
                                              int64_t num_classes);

/// Online teachers for several students trained in lockstep on one batch stream: a branch's
/// teachers run once per batch, however many students learn from it (their outputs depend on
/// the batch and weights only, in either mode). Providers stay valid as long as they live.
class CPSD_CORE_API SharedTeachers {
 public:
  SharedTeachers(std::vector<TeacherBranch> branches, bool train_mode, int64_t num_classes);
  /// The merged logits of the named branches, in that order. std::out_of_range for a name
  /// that is not one of the branches.
  TeacherProvider provider(const std::vector<std::string>& branch_names) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

/// Each branch's merged logits on every training image, without augmentation: [N, C] per
/// branch, row = sample index. Computed once with the config's evaluation pipeline.
CPSD_CORE_API std::vector<at::Tensor> compute_teacher_logits(
    const std::vector<TeacherBranch>& branches, const RunConfig& config,
    std::shared_ptr<const data::Dataset> train, int64_t num_classes);

/// Serves precomputed logits by the batch's sample indices (no teacher runs), with each
/// branch's weights.
CPSD_CORE_API TeacherProvider cached_teachers(std::vector<TeacherBranch> branches,
                                              std::vector<at::Tensor> logits);

}  // namespace cpsd::engine
