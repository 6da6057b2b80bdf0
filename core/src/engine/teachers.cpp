// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/teachers.h"

#include <ATen/ATen.h>

#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/distributed.h"
#include "cpsd/core/progress.h"

namespace cpsd::engine {

at::Tensor merge_teacher_logits(const std::vector<at::Tensor>& outputs,
                                const std::vector<std::vector<int64_t>>& groups, int64_t num_classes) {
  TORCH_CHECK(!outputs.empty() && outputs.size() == groups.size(), "merge_teacher_logits: ", outputs.size(),
              " outputs for ", groups.size(), " groups");
  at::Tensor merged = at::empty({outputs[0].size(0), num_classes}, outputs[0].options());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    merged.index_copy_(1, at::tensor(groups[g], at::kLong).to(merged.device()), outputs[g]);
  }
  return merged;
}

namespace {

// The merged logits of a branch's teachers, on the CPU.
at::Tensor run_branch(const TeacherBranch& branch, const at::Tensor& images, int64_t num_classes) {
  std::vector<at::Tensor> outputs;
  for (const auto& model : branch.models) {
    const c10::Device device = model->parameters().front().device();
    outputs.push_back(model->forward(images.to(device)).to(at::kCPU, at::kFloat));
  }
  return merge_teacher_logits(outputs, branch.groups, num_classes);
}

}  // namespace

TeacherProvider online_teachers(std::vector<TeacherBranch> branches, bool train_mode, int64_t num_classes) {
  return [branches = std::move(branches), train_mode, num_classes](const data::Batch& batch) {
    at::NoGradGuard no_grad;
    std::vector<TeacherLogits> out;
    for (const TeacherBranch& b : branches) {
      for (const auto& m : b.models) m->train(train_mode);
      out.push_back({b.name, run_branch(b, batch.images, num_classes)});
    }
    return out;
  };
}

std::vector<at::Tensor> compute_teacher_logits(const std::vector<TeacherBranch>& branches,
                                               const RunConfig& config,
                                               std::shared_ptr<const data::Dataset> train, int64_t num_classes) {
  at::NoGradGuard no_grad;
  const int64_t n = static_cast<int64_t>(train->samples.size());
  std::vector<at::Tensor> out;
  for (std::size_t b = 0; b < branches.size(); ++b) out.push_back(at::zeros({n, num_classes}));
  for (const TeacherBranch& b : branches) {
    for (const auto& m : b.models) m->eval();
  }
  auto loader = data::make_loader(config, train, false, config.section("train").get_int("batch_size"));
  loader->start_epoch(0);
  Progress progress("teacher logits", loader->num_batches(), config.section("train").get_double("log_seconds"));
  int64_t done = 0;
  std::vector<int64_t> seen;
  while (auto batch = loader->next()) {
    const at::Tensor rows = at::tensor(batch->indices, at::kLong);
    seen.insert(seen.end(), batch->indices.begin(), batch->indices.end());
    for (std::size_t b = 0; b < branches.size(); ++b) {
      out[b].index_copy_(0, rows, run_branch(branches[b], batch->images, num_classes));
    }
    progress.update(++done);
  }
  progress.finish();
  if (Distributed* group = distributed()) {  // each rank scored its shard: share the rows
    const at::Tensor mine = at::tensor(seen, at::kLong);
    const at::Tensor rows = group->gather_rows(mine);
    for (std::size_t b = 0; b < branches.size(); ++b) {
      out[b] = out[b].index_select(0, mine);
      at::Tensor all = at::zeros({n, num_classes});
      all.index_copy_(0, rows, group->gather_rows(out[b]));
      out[b] = all;
    }
  }
  return out;
}

TeacherProvider cached_teachers(std::vector<std::string> names, std::vector<at::Tensor> logits) {
  return [names = std::move(names), logits = std::move(logits)](const data::Batch& batch) {
    const at::Tensor rows = at::tensor(batch.indices, at::kLong);
    std::vector<TeacherLogits> out;
    for (std::size_t b = 0; b < names.size(); ++b) out.push_back({names[b], logits[b].index_select(0, rows)});
    return out;
  };
}

}  // namespace cpsd::engine
