// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/teachers.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <ATen/ATen.h>

#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/distributed.h"
#include "cpsd/core/progress.h"
#include "training_parts.h"

namespace cpsd::engine {

at::Tensor merge_teacher_logits(const std::vector<at::Tensor>& outputs,
                                const std::vector<std::vector<int64_t>>& groups,
                                int64_t num_classes) {
  TORCH_CHECK(!outputs.empty() && outputs.size() == groups.size(),
              "merge_teacher_logits: ", outputs.size(), " outputs for ", groups.size(), " groups");
  // Host-side checks only (no device sync): a class no group covers would keep garbage.
  std::vector<bool> seen(static_cast<std::size_t>(num_classes), false);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    TORCH_CHECK(
        outputs[g].dim() == 2 && outputs[g].size(1) == static_cast<int64_t>(groups[g].size()),
        "merge_teacher_logits: teacher ", g, " gives ", outputs[g].sizes(), " for ",
        groups[g].size(), " classes");
    for (int64_t c : groups[g]) {
      TORCH_CHECK(c >= 0 && c < num_classes && !seen[static_cast<std::size_t>(c)],
                  "merge_teacher_logits: class ", c, " is outside 0..", num_classes - 1,
                  " or in two groups");
      seen[static_cast<std::size_t>(c)] = true;
    }
  }
  TORCH_CHECK(std::find(seen.begin(), seen.end(), false) == seen.end(),
              "merge_teacher_logits: the groups leave a class out");
  at::Tensor merged = at::empty({outputs[0].size(0), num_classes}, outputs[0].options());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    merged.index_copy_(1, at::tensor(groups[g], at::kLong).to(merged.device()), outputs[g]);
  }
  return merged;
}

namespace {

// The merged logits of a branch's teachers, float, on the device of `images`: the teachers
// (created on the run's device) take the batch already there, under the step's autocast.
at::Tensor run_branch(const TeacherBranch& branch, const at::Tensor& images, Precision precision,
                      int64_t num_classes) {
  std::vector<at::Tensor> outputs;
  AutocastScope autocast(precision);
  for (const auto& model : branch.models) outputs.push_back(model->forward(images).to(at::kFloat));
  return merge_teacher_logits(outputs, branch.groups, num_classes);
}

// `t` on `device`, moved there once: constant per-class weights and cached logits.
const at::Tensor& on_device(at::Tensor& t, const c10::Device& device) {
  if (t.defined() && t.device() != device) t = t.to(device);
  return t;
}

uint64_t batch_seed(const std::string& key, const std::vector<int64_t>& indices) {
  std::string text = key;
  for (int64_t i : indices) text += "," + std::to_string(i);
  return mix_seed(0x7465616368657273ull, text);  // "teachers"
}

}  // namespace

struct SharedTeachers::State {
  std::map<std::string, TeacherBranch> branches;
  bool train_mode = false;
  int64_t num_classes = 0;
  at::Tensor images;  // the batch the logits below belong to; held so its identity stays unique
  std::map<std::string, at::Tensor> logits;

  const at::Tensor& branch_logits(const std::string& name, const StepBatch& batch) {
    const at::Tensor& batch_images = batch.host.images;
    if (!images.defined() || images.unsafeGetTensorImpl() != batch_images.unsafeGetTensorImpl()) {
      images = batch_images;
      logits.clear();
    }
    const TeacherBranch& b = branches.at(name);
    const std::string& key = b.teachers.empty() ? b.name : b.teachers;
    auto cached = logits.find(key);
    if (cached != logits.end()) return cached->second;
    at::NoGradGuard no_grad;
    for (const auto& m : b.models) m->train(train_mode);
    const Precision precision = batch.compute.precision;
    if (!train_mode) return logits[key] = run_branch(b, batch.images, precision, num_classes);
    // Train-mode teachers draw dropout from a stream of their own, seeded by the batch: the
    // same whichever student asks first, and in a resumed run.
    const at::Tensor outer = cpu_generator_state();
    at::manual_seed(batch_seed(key, batch.host.indices));
    logits[key] = run_branch(b, batch.images, precision, num_classes);
    set_cpu_generator_state(outer);
    return logits[key];
  }
};

SharedTeachers::SharedTeachers(std::vector<TeacherBranch> branches, bool train_mode,
                               int64_t num_classes)
    : state_(std::make_shared<State>()) {
  for (TeacherBranch& b : branches) {
    const std::string name = b.name;
    state_->branches.emplace(name, std::move(b));
  }
  state_->train_mode = train_mode;
  state_->num_classes = num_classes;
}

TeacherProvider SharedTeachers::provider(const std::vector<std::string>& branch_names) const {
  for (const std::string& name : branch_names) {
    if (!state_->branches.count(name))
      throw std::out_of_range("SharedTeachers: no branch '" + name + "'");
  }
  return [state = state_, branch_names](const StepBatch& batch) {
    std::vector<TeacherLogits> out;
    for (const std::string& name : branch_names) {
      at::Tensor& weights = state->branches.at(name).weights;
      out.push_back(
          {name, state->branch_logits(name, batch), on_device(weights, batch.compute.device)});
    }
    return out;
  };
}

TeacherProvider online_teachers(std::vector<TeacherBranch> branches, bool train_mode,
                                int64_t num_classes) {
  std::vector<std::string> names;
  for (const TeacherBranch& b : branches) names.push_back(b.name);
  return SharedTeachers(std::move(branches), train_mode, num_classes).provider(names);
}

std::vector<at::Tensor> compute_teacher_logits(const std::vector<TeacherBranch>& branches,
                                               const RunConfig& config,
                                               std::shared_ptr<const data::Dataset> train,
                                               int64_t num_classes) {
  at::NoGradGuard no_grad;
  const Compute compute = Compute::of(config);
  const int64_t n = static_cast<int64_t>(train->samples.size());
  std::vector<at::Tensor> out;
  for (std::size_t b = 0; b < branches.size(); ++b) out.push_back(at::zeros({n, num_classes}));
  for (const TeacherBranch& b : branches) {
    for (const auto& m : b.models) m->eval();
  }
  auto loader =
      data::make_loader(config, train, false, config.section("train").get_int("batch_size"));
  loader->start_epoch(0);
  Progress progress("teacher logits", loader->num_batches(),
                    config.section("train").get_double("log_seconds"));
  int64_t done = 0;
  std::vector<int64_t> seen;
  while (auto batch = loader->next()) {
    const at::Tensor rows = at::tensor(batch->indices, at::kLong);
    seen.insert(seen.end(), batch->indices.begin(), batch->indices.end());
    for (std::size_t b = 0; b < branches.size(); ++b) {
      const at::Tensor images = compute.images(batch->images);
      out[b].index_copy_(
          0, rows, run_branch(branches[b], images, compute.precision, num_classes).to(at::kCPU));
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

TeacherProvider cached_teachers(std::vector<TeacherBranch> branches,
                                std::vector<at::Tensor> logits) {
  // Moved to the device at the first batch, so a step reads its rows there.
  return
      [branches = std::move(branches), logits = std::move(logits)](const StepBatch& batch) mutable {
        const c10::Device device = batch.compute.device;
        const at::Tensor rows = at::tensor(batch.host.indices, at::kLong).to(device);
        std::vector<TeacherLogits> out;
        for (std::size_t b = 0; b < branches.size(); ++b) {
          out.push_back({branches[b].name, on_device(logits[b], device).index_select(0, rows),
                         on_device(branches[b].weights, device)});
        }
        return out;
      };
}

}  // namespace cpsd::engine
