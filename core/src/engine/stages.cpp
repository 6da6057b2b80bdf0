// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/stages.h"

#include <ATen/ATen.h>

#include "../json_file.h"
#include "cpsd/core/affinity_picture.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/decompose.h"
#include "cpsd/core/distributed.h"
#include "cpsd/core/engine/class_subset.h"
#include "cpsd/core/file_lock.h"
#include "cpsd/core/label_statistics_io.h"
#include "cpsd/core/log.h"
#include "cpsd/core/partition_file.h"
#include "cpsd/sdk/error.h"
#include "training_parts.h"

namespace fs = std::filesystem;

namespace cpsd::engine {
namespace {

// 0..m-1: the classes of a full-label model.
std::vector<int64_t> all_classes(int64_t m) {
  std::vector<int64_t> c(static_cast<std::size_t>(m));
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = static_cast<int64_t>(i);
  return c;
}

// Seeds the generator that initialises weights: with runtime.seed alone for a full-label
// model (`role` empty; the state apply_runtime leaves), mixed with the role's name otherwise.
void seed_initialisation(const RunConfig& config, const std::string& role) {
  const auto seed = static_cast<uint64_t>(config.section("runtime").get_int("seed"));
  at::manual_seed(role.empty() ? seed : mix_seed(seed, role));
}

std::string sizes_of(const Groups& groups) {
  std::string sizes;
  for (const auto& g : groups) sizes += (sizes.empty() ? "" : ", ") + std::to_string(g.size());
  return sizes;
}

// The best weights of the run's baseline in a full-label model.
std::shared_ptr<MultiLabelModel> trained_baseline(const RunPlan& plan, const RunConfig& config,
                                                  const Registry& registry,
                                                  const data::Dataset& train,
                                                  CheckpointMeta* meta_out = nullptr) {
  const fs::path best = RunLayout::best(plan.layout.baseline());
  if (!fs::exists(best)) {
    throw ConfigError(
        "the teachers start from (or are weighed against) the trained baseline, and " +
        best.string() +
        " does not exist: the run needs the trained baseline (train it first with `cpsd train` "
        "without --part)");
  }
  const CheckpointMeta meta = read_checkpoint_meta(best);
  auto model = build_model(config, registry, train.class_names);
  load_checkpoint_weights(best, meta.best.source, *model);
  if (meta_out != nullptr) *meta_out = meta;
  return model;
}

}  // namespace

RunData load_run_data(const RunPlan& plan, const RunConfig& config) {
  RunData d;
  d.train = std::make_shared<const data::Dataset>(data::load_dataset(config, data::Split::train));
  d.val = std::make_shared<const data::Dataset>(data::load_dataset(config, data::Split::val));
  if (d.val->class_names != d.train->class_names) {
    throw ConfigError(
        "the validation split's classes differ from the training split's (check data.val)");
  }
  d.stats = data::dataset_statistics(*d.train);
  fs::create_directories(plan.layout.root());
  write_statistics(d.stats, plan.layout.statistics());
  return d;
}

Groups branch_groups(const BranchSpec& branch, const RunPlan& plan, const Registry& registry,
                     const LabelStatistics& stats) {
  const fs::path file = plan.layout.partition(branch.name, branch.k);
  const std::string hash = statistics_hash(stats);
  // Jobs of one run directory (a Slurm array of --part jobs) partition one at a time: the
  // first writes the file, the others read it whole.
  const FileLock lock(fs::path(file).replace_extension(".lock"), true);
  if (fs::exists(file)) {
    const LabelPartition p = read_partition(file, stats.class_names);
    if (p.statistics_hash == hash && p.seed == plan.seed && p.decomposer == branch.decomposer &&
        Json::parse(p.options_json) == Json::parse(options_json(branch.options))) {
      return p.groups;
    }
    log::info("{} was made from other statistics or settings: partitioning again", file.string());
  }
  const DecomposeResult r =
      decompose_labels(registry, branch.decomposer, branch.options, stats, branch.k, plan.seed);
  write_partition(r.partition, file, PartitionFormat::cpsd);
  write_affinity_picture(fs::path(file).replace_extension(".png"), r.affinity, r.partition.groups);
  log::info("partition {}: {} groups of sizes {}", file.string(), branch.k,
            sizes_of(r.partition.groups));
  return r.partition.groups;
}

Job make_model_job(const RunConfig& config, const Registry& registry, const data::Dataset& train,
                   const std::string& name, const std::vector<int64_t>& classes,
                   const fs::path& dir, double ema, bool positives_only) {
  std::vector<std::string> names;
  for (int64_t c : classes) names.push_back(train.class_names[static_cast<std::size_t>(c)]);
  Job job;
  job.name = name;
  seed_initialisation(config, classes.size() == train.class_names.size() ? "" : name);
  job.model = build_model(config, registry, names);
  if (ema > 0) job.ema_model = build_model(config, registry, names);
  job.classes = classes;
  job.objective = std::make_shared<Supervised>(
      make_classification_loss(config, registry, static_cast<int64_t>(classes.size())),
      positives_only);
  job.dir = dir;
  return job;
}

std::shared_ptr<Loss> make_classification_loss(const RunConfig& config, const Registry& registry,
                                               int64_t classes) {
  const std::string loss = config.selected(Kind::loss);
  if (loss.empty())
    config.section("train").fail("loss",
                                 "not set: name a classification loss (see `cpsd plugins`)");
  return registry.create_loss(loss, LossArgs{config.plugin_options(Kind::loss, loss), classes});
}

Job baseline_job(const RunPlan& plan, const RunConfig& config, const Registry& registry,
                 const data::Dataset& train) {
  return make_model_job(config, registry, train, "baseline", all_classes(train.num_classes()),
                        plan.layout.baseline(), plan.train.ema);
}

Job teacher_job(const RunPlan& plan, const RunConfig& config, const Registry& registry,
                const data::Dataset& train, const BranchSpec& branch, int64_t index,
                const std::vector<int64_t>& classes) {
  const std::string name = branch.teacher(index);
  return make_model_job(config, registry, train, name, classes, plan.layout.teacher(name),
                        plan.teachers.ema, branch.images == TeacherImages::positive);
}

void start_from_baseline(std::vector<Job>& teachers, const RunPlan& plan, const RunConfig& config,
                         const Registry& registry, const data::Dataset& train) {
  CheckpointMeta meta;
  const auto full = trained_baseline(plan, config, registry, train, &meta);
  for (Job& job : teachers) copy_class_subset(*full, *job.model, train.num_classes(), job.classes);
  log::info("teachers start from the baseline's epoch {} ({} weights, mAP {:.2f})", meta.best.epoch,
            meta.best.source, meta.best.map);
}

JobResult train_one(const RunPlan& plan, const RunConfig& config, const Registry& registry,
                    const std::string& branch, int64_t index, bool resume) {
  const RunData d = load_run_data(plan, config);
  if (branch.empty()) {
    std::vector<Job> jobs = {baseline_job(plan, config, registry, *d.train)};
    return Trainer(plan.train, config, d.train, d.val).run(jobs, resume).front();
  }
  const BranchSpec& spec = plan.branch(branch);
  if (index < 0 || index >= spec.k) {
    throw ConfigError("teacher " + std::to_string(index) + " of branch " + branch +
                      ": index must be 0.." + std::to_string(spec.k - 1) +
                      " (its k = " + std::to_string(spec.k) + ")");
  }
  const Groups groups = branch_groups(spec, plan, registry, d.stats);
  std::vector<Job> jobs = {teacher_job(plan, config, registry, *d.train, spec, index,
                                       groups[static_cast<std::size_t>(index)])};
  if (plan.teacher_init == TeacherInit::baseline)
    start_from_baseline(jobs, plan, config, registry, *d.train);
  return Trainer(plan.teachers, config, d.train, d.val).run(jobs, resume).front();
}

namespace {

// Per-class AP (percent, over all classes; NaN outside `classes` or without positives) of a
// model on the held-out training images. Every rank scores the whole part.
std::vector<double> holdout_ap(MultiLabelModel& model, const std::vector<int64_t>& classes,
                               int64_t num_classes, const RunConfig& config,
                               std::shared_ptr<const data::Dataset> holdout) {
  data::LoaderOptions o =
      data::loader_options(config, false, config.section("train").get_int("batch_size"));
  o.rank = 0;
  o.world_size = 1;
  data::DataLoader loader(std::move(holdout),
                          data::ImagePipeline(data::pipeline_options(config, false)), o);
  const Predictions p = predict(model, loader, classes);
  const std::vector<double> ap = average_precision(p.logits, p.targets, p.mask);
  std::vector<double> full(static_cast<std::size_t>(num_classes), NAN);
  for (std::size_t i = 0; i < classes.size(); ++i)
    full[static_cast<std::size_t>(classes[i])] = ap[i] * 100;
  return full;
}

}  // namespace

std::map<std::string, at::Tensor> holdout_weights(
    const RunPlan& plan, const RunConfig& config, const Registry& registry,
    const data::Dataset& train, const std::map<std::string, std::vector<Job>>& teachers,
    const std::map<std::string, Groups>& groups) {
  auto holdout =
      std::make_shared<const data::Dataset>(data::load_dataset(config, data::Split::holdout));
  const int64_t m = train.num_classes();
  const auto baseline = trained_baseline(plan, config, registry, train);
  const std::vector<double> baseline_ap = holdout_ap(*baseline, all_classes(m), m, config, holdout);
  std::map<std::string, at::Tensor> out;
  const double scale = plan.distill.weight_scale;
  Json record = {{"holdout_images", holdout->samples.size()},
                 {"scale", scale},
                 {"classes", train.class_names},
                 {"baseline_ap", baseline_ap},
                 {"branches", Json::object()}};
  for (const auto& [branch, jobs] : teachers) {
    std::vector<double> merged(static_cast<std::size_t>(m), NAN);
    for (const Job& job : jobs) {
      const std::vector<double> ap = holdout_ap(*job.model, job.classes, m, config, holdout);
      for (int64_t c : job.classes)
        merged[static_cast<std::size_t>(c)] = ap[static_cast<std::size_t>(c)];
    }
    out[branch] =
        distill_weights(plan.distill.weighting, baseline_ap, merged, groups.at(branch), scale);
    const at::Tensor& w = out[branch];
    record["branches"][branch] = {
        {"teacher_ap", merged},
        {"weights", std::vector<float>(w.data_ptr<float>(), w.data_ptr<float>() + m)}};
    log::info(
        "branch {}: distillation weights from {} held-out images: mean {:.2f}, {} of {} classes "
        "taught fully",
        branch, holdout->samples.size(), w.mean().item<double>(), (w == 1).sum().item<int64_t>(),
        m);
  }
  if (distributed() == nullptr || distributed()->is_main()) {
    write_file_atomically(plan.layout.distill_weights(), json_text(record));
  }
  return out;
}

}  // namespace cpsd::engine
