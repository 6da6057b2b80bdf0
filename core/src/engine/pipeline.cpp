// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/pipeline.h"

#include <chrono>
#include <map>

#include <ATen/ATen.h>

#include "../json_file.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/distributed.h"
#include "cpsd/core/engine/stages.h"
#include "cpsd/core/engine/teachers.h"
#include "cpsd/core/label_statistics_io.h"
#include "cpsd/core/log.h"
#include "cpsd/core/text.h"
#include "cpsd/sdk/error.h"
#include "training_parts.h"

namespace fs = std::filesystem;

namespace cpsd::engine {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<int64_t> first_n(int64_t m) {
  std::vector<int64_t> c(static_cast<std::size_t>(m));
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = static_cast<int64_t>(i);
  return c;
}

MethodResult to_result(const MethodSpec& method, const JobResult& r, const fs::path& dir) {
  return {method.name, method.branches.empty(), method.branches, r.metrics,
          r.best,      RunLayout::best(dir)};
}

// The teachers of each branch, trained, with their best weights loaded; branches in name order.
struct TeacherStage {
  std::map<std::string, std::vector<Job>> jobs;
  std::map<std::string, std::vector<JobResult>> results;
};

void write_manifest(const RunPlan& plan, const TeacherStage& t, const data::Dataset& train,
                    const std::string& hash) {
  // Teachers of branches this run did not use stay listed when made from the same statistics
  // (a run that trained `sd` earlier and now `cpsd` keeps its full-label teacher).
  Json list = Json::array();
  const fs::path path = plan.layout.manifest();
  if (fs::exists(path)) {
    for (const Json& entry : read_json_file(path)) {
      if (entry.value("statistics_hash", "") == hash &&
          t.jobs.count(entry.value("branch", "")) == 0) {
        list.push_back(entry);
      }
    }
  }
  for (const auto& [branch, jobs] : t.jobs) {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      std::vector<std::string> names;
      for (int64_t c : jobs[i].classes)
        names.push_back(train.class_names[static_cast<std::size_t>(c)]);
      const Best& best = t.results.at(branch)[i].best;
      list.push_back({{"branch", branch},
                      {"index", i},
                      {"classes", names},
                      {"class_indices", jobs[i].classes},
                      {"statistics_hash", hash},
                      {"best_map", best.map},
                      {"best_epoch", best.epoch},
                      {"checkpoint", RunLayout::best(jobs[i].dir).string()}});
    }
  }
  write_file_atomically(path, json_text(list));
}

// Every teacher's per-class validation AP (this rank's from `mine`, the others' gathered
// from their ranks) compared with the baseline's.
TeacherCheck check_teachers(const std::vector<Job>& all, const std::vector<JobResult>& mine,
                            const std::vector<double>& baseline_ap, Distributed* group) {
  const int64_t m = static_cast<int64_t>(baseline_ap.size());
  // One row per teacher of this rank: its index in `all`, then its AP in full-label columns.
  at::Tensor rows = at::full({static_cast<int64_t>(mine.size()), m + 1}, NAN, at::kDouble);
  std::size_t r = 0;
  for (std::size_t j = 0; j < all.size() && r < mine.size(); ++j) {
    if (mine[r].name != all[j].name) continue;
    rows[static_cast<int64_t>(r)][0] = static_cast<double>(j);
    for (std::size_t i = 0; i < all[j].classes.size(); ++i) {
      rows[static_cast<int64_t>(r)][all[j].classes[i] + 1] = mine[r].metrics.ap.at(i);
    }
    ++r;
  }
  if (group != nullptr) rows = group->gather_rows(rows);
  std::vector<TeacherAp> teachers(all.size());
  for (int64_t row = 0; row < rows.size(0); ++row) {
    const auto j = static_cast<std::size_t>(rows[row][0].item<double>());
    const std::string& name = all[j].name;
    teachers[j] = {name.substr(0, name.rfind('_')), name, all[j].classes, {}};
    for (int64_t c : all[j].classes) teachers[j].ap.push_back(rows[row][c + 1].item<double>());
  }
  return compare_teachers(baseline_ap, teachers);
}

void report_teacher_check(const TeacherCheck& check) {
  log::info("teachers against the baseline on the validation set:\n{}", teacher_check_table(check));
  for (const BranchVsBaseline& b : check.branches) {
    if (b.merged_map > b.baseline_map) continue;
    log::warn(
        "branch {}: its merged teachers ({:.2f} mAP) do not beat the baseline ({:.2f}; {} of {} "
        "teachers "
        "behind it on their classes): a student can only learn from it what the baseline already "
        "knows. "
        "Train the teachers longer (teachers.epochs, teachers.patience) or from the baseline "
        "(teachers.init = \"baseline\")",
        b.branch, b.merged_map, b.baseline_map, b.teachers_behind, b.teachers);
  }
}

MethodResult train_baseline(const RunPlan& plan, const RunConfig& config, const Registry& registry,
                            const RunData& d) {
  MethodSpec method{"baseline", {}};  // the row of the method without branches, if one is run
  for (const MethodSpec& m : plan.methods) {
    if (m.branches.empty()) method = m;
  }
  std::vector<Job> jobs = {baseline_job(plan, config, registry, *d.train)};
  log::info("stage baseline: 1 model, {} epochs", plan.train.epochs);
  return to_result(method, Trainer(plan.train, config, d.train, d.val).run(jobs, true).front(),
                   plan.layout.baseline());
}

// Every branch's teachers trained together on one decoded stream (with several processes,
// each trains its share on all the data), then loaded with their best weights.
TeacherStage train_teachers(const RunPlan& plan, const RunConfig& config, const Registry& registry,
                            const RunData& d, const std::map<std::string, Groups>& groups,
                            PipelineReport& report) {
  std::vector<Job> all;
  std::vector<std::string> counts;
  for (const auto& [branch, g] : groups) {
    for (std::size_t t = 0; t < g.size(); ++t) {
      all.push_back(teacher_job(plan, config, registry, *d.train, plan.branch(branch),
                                static_cast<int64_t>(t), g[t]));
    }
    counts.push_back(branch + " " + std::to_string(g.size()));
  }
  if (plan.teacher_init == TeacherInit::baseline)
    start_from_baseline(all, plan, config, registry, *d.train);
  log::info("stage teachers: {} models ({}), {} epochs", all.size(), join(counts, ", ", ""),
            plan.teachers.epochs);
  TrainSettings local = plan.teachers;
  local.data_parallel = false;
  Distributed* group = distributed();
  std::vector<Job> mine;
  for (std::size_t j = 0; j < all.size(); ++j) {
    if (group == nullptr || static_cast<int64_t>(j) % group->world_size() == group->rank())
      mine.push_back(all[j]);
  }
  const std::vector<JobResult> mine_results =
      Trainer(local, config, d.train, d.val).run(mine, true);
  if (group != nullptr) group->barrier();
  for (const MethodResult& r : report.results) {
    if (!r.baseline) continue;
    report.teacher_check = check_teachers(all, mine_results, r.metrics.ap, group);
    report_teacher_check(*report.teacher_check);
  }
  TeacherStage stage;
  for (Job& job : all) {
    // Teach with the best weights (model or EMA) of each teacher.
    const fs::path best = RunLayout::best(job.dir);
    const CheckpointMeta meta = read_checkpoint_meta(best);
    load_checkpoint_weights(best, meta.best.source, *job.model);
    const std::string branch = job.name.substr(0, job.name.rfind('_'));
    stage.results[branch].push_back({job.name, meta.best, {}, 0});
    stage.jobs[branch].push_back(std::move(job));
  }
  write_manifest(plan, stage, *d.train, statistics_hash(d.stats));
  return stage;
}

// The branches as the students see them: models, groups and per-class weights (the held-out
// weights times the branch's relative weight; none when both are 1).
std::map<std::string, TeacherBranch> teacher_branches(
    const RunPlan& plan, const TeacherStage& t, const std::map<std::string, Groups>& groups,
    const std::map<std::string, at::Tensor>& weights, int64_t num_classes) {
  std::map<std::string, TeacherBranch> out;
  for (const BranchSpec& b : plan.branches) {
    const std::string& source = b.teachers_of;  // a branch may use another's teachers
    at::Tensor w = weights.count(source) ? weights.at(source) : at::Tensor();
    if (b.weight != 1.0)
      w = w.defined() ? w * b.weight : at::full({num_classes}, b.weight, at::kFloat);
    TeacherBranch branch{b.name, groups.at(source), {}, w, source};
    for (const Job& j : t.jobs.at(source)) branch.models.push_back(j.model);
    out[b.name] = branch;
  }
  return out;
}

// Every student in lockstep on one batch stream; a branch's online teachers run once per
// batch for all the students that learn from it.
void train_students(const RunPlan& plan, const RunConfig& config, const Registry& registry,
                    const RunData& d, const std::map<std::string, TeacherBranch>& branches,
                    PipelineReport& report) {
  const int64_t m = d.train->num_classes();
  std::map<std::string, at::Tensor> cache;
  if (plan.distill.mode == DistillMode::cached) {
    const auto start = Clock::now();
    std::vector<TeacherBranch> all;
    for (const auto& [b, branch] : branches) {
      if (branch.teachers == b) all.push_back(branch);  // each set of teachers once
    }
    const std::vector<at::Tensor> logits = compute_teacher_logits(all, config, d.train, m);
    for (std::size_t i = 0; i < all.size(); ++i) cache[all[i].teachers] = logits[i];
    report.stages.push_back({"teacher logits", since(start)});
  }
  std::vector<TeacherBranch> all;
  for (const auto& [b, branch] : branches) all.push_back(branch);
  const SharedTeachers shared(all, plan.distill.teacher_mode == TeacherMode::train, m);
  std::vector<Job> students;
  std::vector<std::string> names;
  std::vector<const MethodSpec*> methods = plan.students_methods();
  for (const MethodSpec* method : methods) {
    Job job = make_model_job(config, registry, *d.train, "student_" + method->name, first_n(m),
                             plan.layout.student(method->name), plan.students.ema);
    std::vector<TeacherBranch> mine;
    std::vector<at::Tensor> cached;
    for (const std::string& b : method->branches) {
      mine.push_back(branches.at(b));
      if (plan.distill.mode == DistillMode::cached)
        cached.push_back(cache.at(branches.at(b).teachers));
    }
    TeacherProvider teachers = plan.distill.mode == DistillMode::cached
                                   ? cached_teachers(mine, cached)
                                   : shared.provider(method->branches);
    job.objective = std::make_shared<Distilled>(
        make_classification_loss(config, registry, m),
        registry.create_loss(plan.distill.loss,
                             LossArgs{config.plugin_options(Kind::loss, plan.distill.loss), m}),
        plan.distill.cls_weight, std::move(teachers));
    log::info("student {}: teachers {}, {} epochs, {} logits", method->name,
              join(method->branches, " + ", ""), plan.students.epochs,
              plan.distill.mode == DistillMode::cached ? "cached" : "online");
    students.push_back(std::move(job));
    names.push_back(method->name);
  }
  if (students.empty()) return;
  const auto start = Clock::now();
  log::info("stage students: {} models ({}), {} epochs", students.size(), join(names, ", ", ""),
            plan.students.epochs);
  const std::vector<JobResult> results =
      Trainer(plan.students, config, d.train, d.val).run(students, true);
  for (std::size_t i = 0; i < students.size(); ++i) {
    report.results.push_back(to_result(*methods[i], results[i], plan.layout.student(names[i])));
  }
  report.stages.push_back(
      {students.size() == 1 ? "student " + names[0] : "students (" + join(names, ", ", "") + ")",
       since(start)});
}

}  // namespace

PipelineReport run_pipeline(const RunPlan& plan, const RunConfig& config,
                            const Registry& registry) {
  fs::create_directories(plan.layout.root());
  write_file_atomically(plan.layout.config(), config.to_toml());
  PipelineReport report;
  auto start = Clock::now();
  const RunData d = load_run_data(plan, config);
  std::map<std::string, Groups> groups;  // by branch name: the teachers' order everywhere
  // A decomposer never moves the generator models are initialised from, so the baseline
  // is the same model whatever the branches are (a sweep shares it across them).
  const at::Tensor generator = cpu_generator_state();
  for (const BranchSpec& b : plan.branches) {
    if (b.owns_teachers()) groups[b.name] = branch_groups(b, plan, registry, d.stats);
  }
  set_cpu_generator_state(generator);
  report.stages.push_back({"data + partitions", since(start)});
  if (plan.baseline) {
    start = Clock::now();
    report.results.push_back(train_baseline(plan, config, registry, d));
    report.stages.push_back({"baseline", since(start)});
  }
  if (!plan.branches.empty()) {
    start = Clock::now();
    const TeacherStage teachers = train_teachers(plan, config, registry, d, groups, report);
    report.stages.push_back({"teachers", since(start)});
    std::map<std::string, at::Tensor> weights;
    if (plan.distill.weighting != Weighting::none) {
      start = Clock::now();
      weights = holdout_weights(plan, config, registry, *d.train, teachers.jobs, groups);
      report.stages.push_back({"held-out weights", since(start)});
    }
    train_students(plan, config, registry, d,
                   teacher_branches(plan, teachers, groups, weights, d.train->num_classes()),
                   report);
  }
  write_results(report, plan);
  return report;
}

}  // namespace cpsd::engine
