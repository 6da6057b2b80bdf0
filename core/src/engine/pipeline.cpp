// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/pipeline.h"

#include <chrono>
#include <map>
#include <set>
#include <sstream>

#include <ATen/ATen.h>

#include "../json_file.h"
#include "cpsd/core/affinity_picture.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/decompose.h"
#include "cpsd/core/distributed.h"
#include "cpsd/core/engine/checkpoint.h"
#include "cpsd/core/engine/class_subset.h"
#include "cpsd/core/engine/distill_weights.h"
#include "cpsd/core/engine/teacher_check.h"
#include "cpsd/core/engine/teachers.h"
#include "cpsd/core/engine/trainer.h"
#include "cpsd/core/label_statistics_io.h"
#include "cpsd/core/log.h"
#include "cpsd/core/model.h"
#include "cpsd/core/partition_file.h"
#include "cpsd/core/progress.h"
#include "cpsd/sdk/error.h"

namespace fs = std::filesystem;

namespace cpsd::engine {

std::vector<std::string> branches_of(const std::string& method) {
  if (method == "baseline") return {};
  if (method == "sd") return {"full"};
  if (method == "cgpd") return {"cgp"};
  if (method == "dgpd") return {"dgp"};
  if (method == "cpsd") return {"cgp", "dgp"};
  if (method == "random") return {"random"};
  throw ConfigError("unknown method '" + method + "' in run.methods: use baseline, sd, cgpd, dgpd, cpsd or random");
}

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// 0..m-1: the classes of a full-label model.
std::vector<int64_t> first_classes(int64_t m) {
  std::vector<int64_t> c(static_cast<std::size_t>(m));
  for (std::size_t i = 0; i < c.size(); ++i) c[i] = static_cast<int64_t>(i);
  return c;
}

// Seeds the generator that initialises weights: with runtime.seed alone for a full-label
// model (`role` empty; the state apply_runtime leaves), mixed with the role's name otherwise.
void seed_initialisation(const RunConfig& config, const std::string& role) {
  uint64_t seed = static_cast<uint64_t>(config.section("runtime").get_int("seed"));
  if (!role.empty()) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a of the name, then a splitmix64 finaliser
    for (unsigned char c : role) h = (h ^ c) * 1099511628211ull;
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (h | 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    seed = z ^ (z >> 31);
  }
  at::manual_seed(seed);
}

}  // namespace

Job make_job(const RunConfig& config, const Registry& registry, const data::Dataset& train,
             const std::string& name, const std::vector<int64_t>& classes, const fs::path& dir, double ema) {
  std::vector<std::string> names;
  for (int64_t c : classes) names.push_back(train.class_names[c]);
  Job job;
  job.name = name;
  seed_initialisation(config, classes.size() == train.class_names.size() ? "" : name);
  job.model = build_model(config, registry, names);
  if (ema > 0) job.ema_model = build_model(config, registry, names);
  job.classes = classes;
  const std::string loss = config.selected(Kind::loss);
  job.loss = registry.create_loss(loss, LossArgs{config.plugin_options(Kind::loss, loss),
                                                 static_cast<int64_t>(classes.size())});
  job.dir = dir;
  return job;
}

void start_from_baseline(std::vector<Job>& teachers, const RunConfig& config, const Registry& registry,
                         const data::Dataset& train, const fs::path& baseline_dir) {
  const fs::path best = baseline_dir / "best.ckpt";
  if (!fs::exists(best)) {
    throw ConfigError("teachers.init = \"baseline\" needs the trained baseline, and " + best.string() +
                      " does not exist: train the baseline first (cpsd train without --part)");
  }
  const CheckpointMeta meta = read_checkpoint_meta(best);
  const auto full = build_model(config, registry, train.class_names);
  load_checkpoint_weights(best, meta.best_source, *full);
  for (Job& job : teachers) copy_class_subset(*full, *job.model, train.num_classes(), job.classes);
  log::info("teachers start from the baseline's epoch {} ({} weights, mAP {:.2f})", meta.best_epoch,
            meta.best_source, meta.best_map);
}

std::vector<std::vector<int64_t>> partition_groups(const std::string& branch, const RunConfig& config,
                                                const Registry& registry, const LabelStatistics& stats,
                                                const fs::path& dir) {
  if (branch == "full") return {first_classes(stats.num_classes())};
  const int64_t k = config.section("partition").get_int("k");
  const uint64_t seed = static_cast<uint64_t>(config.section("runtime").get_int("seed"));
  const fs::path file = dir / (branch + std::to_string(k) + ".json");
  const std::string hash = statistics_hash(stats);
  if (fs::exists(file)) {
    const LabelPartition p = read_partition(file, stats.class_names);
    if (p.statistics_hash == hash && p.seed == seed && p.decomposer == branch &&
        Json::parse(p.options_json) == Json::parse(options_json(config.plugin_options(Kind::decomposer, branch)))) {
      return p.groups;
    }
    log::info("{} was made from other statistics or settings: partitioning again", file.string());
  }
  const DecomposeResult r = decompose_labels(registry, branch, config.plugin_options(Kind::decomposer, branch),
                                             stats, k, seed);
  write_partition(r.partition, file, PartitionFormat::cpsd);
  write_affinity_picture(fs::path(file).replace_extension(".png"), r.affinity, r.partition.groups);
  log::info("partition {}: {} groups of sizes {}", file.string(), k, [&] {
    std::string sizes;
    for (const auto& g : r.partition.groups) sizes += (sizes.empty() ? "" : ", ") + std::to_string(g.size());
    return sizes;
  }());
  return r.partition.groups;
}

fs::path run_directory(const RunConfig& config) {
  const Options run = config.section("run");
  return fs::path(run.get_string("output")) / run.get_string("name");
}

namespace {

MethodResult to_result(const std::string& method, const JobResult& r, const fs::path& dir) {
  MethodResult m;
  m.method = method;
  m.metrics = r.best_metrics;
  m.best_epoch = r.best_epoch;
  m.best_source = r.best_source;
  m.checkpoint = dir / "best.ckpt";
  return m;
}

void write_manifest(const fs::path& path, const std::map<std::string, std::vector<Job>>& teachers,
                    const std::map<std::string, std::vector<JobResult>>& results, const data::Dataset& train,
                    const std::string& hash) {
  // Teachers of branches this run did not use stay listed when made from the same statistics
  // (a run that trained `sd` earlier and now `cpsd` keeps its full-label teacher).
  Json list = Json::array();
  if (fs::exists(path)) {
    for (const Json& entry : read_json_file(path)) {
      if (entry.value("statistics_hash", "") == hash && teachers.count(entry.value("branch", "")) == 0) {
        list.push_back(entry);
      }
    }
  }
  for (const auto& [branch, jobs] : teachers) {
    for (std::size_t t = 0; t < jobs.size(); ++t) {
      std::vector<std::string> names;
      for (int64_t c : jobs[t].classes) names.push_back(train.class_names[c]);
      list.push_back({{"branch", branch},
                      {"index", t},
                      {"classes", names},
                      {"class_indices", jobs[t].classes},
                      {"statistics_hash", hash},
                      {"best_map", results.at(branch)[t].best_map},
                      {"best_epoch", results.at(branch)[t].best_epoch},
                      {"checkpoint", (jobs[t].dir / "best.ckpt").string()}});
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
  for (std::size_t j = 0; j < all.size(); ++j) {
    if (r < mine.size() && mine[r].name == all[j].name) {
      rows[static_cast<int64_t>(r)][0] = static_cast<double>(j);
      for (std::size_t i = 0; i < all[j].classes.size(); ++i) {
        rows[static_cast<int64_t>(r)][all[j].classes[i] + 1] = mine[r].best_metrics.ap.at(i);
      }
      ++r;
    }
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

// Per-class AP (percent, over all classes; NaN outside `classes` or without positives) of a
// model on the held-out training images. Every rank scores the whole part.
std::vector<double> holdout_ap(MultiLabelModel& model, const std::vector<int64_t>& classes, int64_t num_classes,
                               const RunConfig& config, std::shared_ptr<const data::Dataset> holdout) {
  data::LoaderOptions o = data::loader_options(config, false, config.section("train").get_int("batch_size"));
  o.rank = 0;
  o.world_size = 1;
  data::DataLoader loader(std::move(holdout), data::ImagePipeline(data::pipeline_options(config, false)), o);
  const Predictions p = predict(model, loader, classes);
  const std::vector<double> ap = average_precision(p.logits, p.targets, p.mask);
  std::vector<double> full(static_cast<std::size_t>(num_classes), NAN);
  for (std::size_t i = 0; i < classes.size(); ++i) full[static_cast<std::size_t>(classes[i])] = ap[i] * 100;
  return full;
}

// distill.weighting: each branch's merged teachers against the baseline on the held-out
// images, turned into per-class weights; recorded in distill_weights.json.
std::map<std::string, at::Tensor> holdout_weights(Weighting weighting, double scale,
                                                  const std::map<std::string, std::vector<Job>>& teachers,
                                                  std::map<std::string, std::vector<std::vector<int64_t>>>& groups,
                                                  const RunConfig& config, const Registry& registry,
                                                  const data::Dataset& train, const fs::path& run_dir) {
  if (!(scale > 0)) config.section("distill").fail("weight_scale", "must be > 0");
  const fs::path best = run_dir / "baseline" / "best.ckpt";
  if (!fs::exists(best)) {
    config.section("distill").fail("weighting", "compares the teachers with the baseline: add \"baseline\" to run.methods");
  }
  auto holdout = std::make_shared<const data::Dataset>(data::load_dataset(config, data::Split::holdout));
  const int64_t m = train.num_classes();
  const auto baseline = build_model(config, registry, train.class_names);
  load_checkpoint_weights(best, read_checkpoint_meta(best).best_source, *baseline);
  const std::vector<double> baseline_ap = holdout_ap(*baseline, first_classes(m), m, config, holdout);
  std::map<std::string, at::Tensor> out;
  Json record = {{"holdout_images", holdout->samples.size()}, {"scale", scale}, {"classes", train.class_names},
                 {"baseline_ap", baseline_ap}, {"branches", Json::object()}};
  for (const auto& [branch, jobs] : teachers) {
    std::vector<double> merged(static_cast<std::size_t>(m), NAN);
    for (const Job& job : jobs) {
      const std::vector<double> ap = holdout_ap(*job.model, job.classes, m, config, holdout);
      for (int64_t c : job.classes) merged[static_cast<std::size_t>(c)] = ap[static_cast<std::size_t>(c)];
    }
    out[branch] = distill_weights(weighting, baseline_ap, merged, groups[branch], scale);
    const at::Tensor& w = out[branch];
    record["branches"][branch] = {{"teacher_ap", merged},
                                  {"weights", std::vector<float>(w.data_ptr<float>(), w.data_ptr<float>() + m)}};
    log::info("branch {}: distillation weights from {} held-out images: mean {:.2f}, {} of {} classes taught fully",
              branch, holdout->samples.size(), w.mean().item<double>(), (w == 1).sum().item<int64_t>(), m);
  }
  if (distributed() == nullptr || distributed()->is_main()) {
    write_file_atomically(run_dir / "distill_weights.json", json_text(record));
  }
  return out;
}

Json teacher_check_json(const TeacherCheck& check) {
  Json branches = Json::array(), teachers = Json::array();
  for (const BranchVsBaseline& b : check.branches) {
    branches.push_back({{"branch", b.branch}, {"merged_map", b.merged_map}, {"baseline_map", b.baseline_map},
                        {"teachers", b.teachers}, {"teachers_behind", b.teachers_behind}});
  }
  for (const TeacherVsBaseline& t : check.teachers) {
    teachers.push_back({{"branch", t.branch}, {"teacher", t.teacher}, {"classes", t.classes},
                        {"map", t.teacher_map}, {"baseline_map", t.baseline_map}});
  }
  return {{"branches", branches}, {"teachers", teachers}};
}

void report_teacher_check(const TeacherCheck& check) {
  log::info("teachers against the baseline on the validation set:\n{}", teacher_check_table(check));
  for (const BranchVsBaseline& b : check.branches) {
    if (b.merged_map > b.baseline_map) continue;
    log::warn("branch {}: its merged teachers ({:.2f} mAP) do not beat the baseline ({:.2f}; {} of {} teachers "
              "behind it on their classes): a student can only learn from it what the baseline already knows. "
              "Train the teachers longer (teachers.epochs, teachers.patience) or from the baseline "
              "(teachers.init = \"baseline\")",
              b.branch, b.merged_map, b.baseline_map, b.teachers_behind, b.teachers);
  }
}

}  // namespace

PipelineReport run_pipeline(const RunConfig& config, const Registry& registry) {
  const Options run = config.section("run");
  const fs::path run_dir = run_directory(config);
  const std::vector<std::string> methods = run.get_string_list("methods");
  if (methods.empty()) run.fail("methods", "name at least one method");
  std::set<std::string> branches;
  for (const std::string& m : methods) {
    for (const std::string& b : branches_of(m)) branches.insert(b);
  }
  fs::create_directories(run_dir);
  write_file_atomically(run_dir / "config.toml", config.to_toml());
  PipelineReport report;

  auto start = Clock::now();
  auto train = std::make_shared<const data::Dataset>(data::load_dataset(config, data::Split::train));
  auto val = std::make_shared<const data::Dataset>(data::load_dataset(config, data::Split::val));
  if (val->class_names != train->class_names) {
    throw ConfigError("the validation split's classes differ from the training split's (check data.val)");
  }
  const LabelStatistics stats = data::dataset_statistics(*train);
  write_statistics(stats, run_dir / "statistics.json");
  std::map<std::string, std::vector<std::vector<int64_t>>> groups;
  for (const std::string& b : branches) groups[b] = partition_groups(b, config, registry, stats, run_dir / "partitions");
  report.stages.push_back({"data + partitions", since(start)});

  const double threshold = config.section("train").get_double("threshold");
  std::map<std::string, JobResult> method_results;

  const std::string teacher_init = config.section("teachers").get_string("init");
  if (teacher_init != "pretrained" && teacher_init != "baseline") {
    config.section("teachers").fail("init", "must be \"pretrained\" or \"baseline\"");
  }
  const bool from_baseline = teacher_init == "baseline" && !branches.empty();
  if (from_baseline || std::find(methods.begin(), methods.end(), "baseline") != methods.end()) {
    start = Clock::now();
    const TrainSettings settings = read_train_settings(config, "train");
    std::vector<Job> jobs = {make_job(config, registry, *train, "baseline", first_classes(train->num_classes()),
                                      run_dir / "baseline", settings.ema)};
    log::info("stage baseline: 1 model, {} epochs", settings.epochs);
    report.results.push_back(
        to_result("baseline", train_jobs(jobs, settings, config, train, val, true).front(), run_dir / "baseline"));
    report.stages.push_back({"baseline", since(start)});
  }
  std::optional<std::vector<double>> baseline_ap;  // what the teachers are checked against
  if (!report.results.empty()) baseline_ap = report.results.front().metrics.ap;

  // Teachers: every branch's sub-task models, trained together on one decoded stream.
  std::map<std::string, std::vector<Job>> teachers;
  std::map<std::string, std::vector<JobResult>> teacher_results;
  if (!branches.empty()) {
    start = Clock::now();
    const TrainSettings settings = read_train_settings(config, "teachers");
    const std::string images = config.section("teachers").get_string("images");
    if (images != "all" && images != "positive") {
      config.section("teachers").fail("images", "must be \"all\" or \"positive\"");
    }
    std::vector<Job> all;
    for (const std::string& b : branches) {
      for (std::size_t t = 0; t < groups[b].size(); ++t) {
        Job job = make_job(config, registry, *train, b + "_" + std::to_string(t), groups[b][t],
                           run_dir / "teachers" / (b + "_" + std::to_string(t)), settings.ema);
        job.positives_only = images == "positive";
        all.push_back(std::move(job));
      }
    }
    if (from_baseline) start_from_baseline(all, config, registry, *train, run_dir / "baseline");
    log::info("stage teachers: {} models ({}), {} epochs", all.size(), [&] {
      std::string s;
      for (const std::string& b : branches) s += (s.empty() ? "" : ", ") + b + " " + std::to_string(groups[b].size());
      return s;
    }(), settings.epochs);
    // With several processes each trains its share of the teachers on all the data.
    TrainSettings local = settings;
    local.data_parallel = false;
    Distributed* group = distributed();
    std::vector<Job> mine;
    for (std::size_t j = 0; j < all.size(); ++j) {
      if (group == nullptr || static_cast<int64_t>(j) % group->world_size() == group->rank()) mine.push_back(all[j]);
    }
    const std::vector<JobResult> mine_results = train_jobs(mine, local, config, train, val, true);
    if (group != nullptr) group->barrier();
    if (baseline_ap) {
      report.teacher_check = check_teachers(all, mine_results, *baseline_ap, group);
      report_teacher_check(*report.teacher_check);
    }
    std::size_t next = 0;
    for (const std::string& b : branches) {
      for (std::size_t t = 0; t < groups[b].size(); ++t, ++next) {
        // Teach with the best weights (model or EMA) of each teacher.
        const CheckpointMeta meta = read_checkpoint_meta(all[next].dir / "best.ckpt");
        load_checkpoint_weights(all[next].dir / "best.ckpt", meta.best_source, *all[next].model);
        teachers[b].push_back(all[next]);
        JobResult r;
        r.name = all[next].name;
        r.best_map = meta.best_map;
        r.best_epoch = meta.best_epoch;
        r.best_source = meta.best_source;
        teacher_results[b].push_back(r);
      }
    }
    write_manifest(run_dir / "teachers" / "manifest.json", teachers, teacher_results, *train, statistics_hash(stats));
    report.stages.push_back({"teachers", since(start)});
  }

  // Students.
  const Options distill = config.section("distill");
  const std::string mode = distill.get_string("mode");
  if (mode != "online" && mode != "cached") distill.fail("mode", "must be \"online\" or \"cached\"");
  const std::string teacher_mode = distill.get_string("teacher_mode");
  if (teacher_mode != "eval" && teacher_mode != "train") distill.fail("teacher_mode", "must be \"eval\" or \"train\"");
  const Weighting weighting = read_weighting(distill);
  std::map<std::string, at::Tensor> weights;  // per branch; none without weighting
  if (weighting != Weighting::none && !teachers.empty()) {
    start = Clock::now();
    weights = holdout_weights(weighting, distill.get_double("weight_scale"), teachers, groups, config, registry,
                              *train, run_dir);
    report.stages.push_back({"held-out weights", since(start)});
  }
  std::map<std::string, at::Tensor> cache;
  if (mode == "cached" && !teachers.empty()) {
    start = Clock::now();
    std::vector<TeacherBranch> tb;
    for (const auto& [b, jobs] : teachers) {
      TeacherBranch branch{b, groups[b], {}};
      for (const Job& j : jobs) branch.models.push_back(j.model);
      tb.push_back(branch);
    }
    const std::vector<at::Tensor> logits = compute_teacher_logits(tb, config, train, train->num_classes());
    for (std::size_t i = 0; i < tb.size(); ++i) cache[tb[i].name] = logits[i];
    report.stages.push_back({"teacher logits", since(start)});
  }
  // Every student in lockstep on one batch stream; a branch's online teachers run once per
  // batch for all the students that learn from it.
  std::vector<TeacherBranch> all_branches;
  for (const auto& [b, jobs] : teachers) {
    TeacherBranch branch{b, groups[b], {}, weights.count(b) ? weights[b] : at::Tensor()};
    for (const Job& j : jobs) branch.models.push_back(j.model);
    all_branches.push_back(branch);
  }
  const SharedTeachers shared(all_branches, teacher_mode == "train", train->num_classes());
  const TrainSettings student_settings = read_train_settings(config, "distill");
  std::vector<Job> students;
  std::vector<std::string> student_methods;
  for (const std::string& method : methods) {
    if (method == "baseline") continue;
    Job job = make_job(config, registry, *train, "student_" + method, first_classes(train->num_classes()),
                       run_dir / method, student_settings.ema);
    const std::string loss = distill.get_string("loss");
    job.distill_loss = registry.create_loss(loss, LossArgs{config.plugin_options(Kind::loss, loss),
                                                           train->num_classes()});
    job.cls_weight = distill.get_double("cls_weight");
    std::vector<TeacherBranch> tb;
    std::vector<std::string> names;
    std::vector<at::Tensor> cached;
    for (const std::string& b : branches_of(method)) {
      for (const TeacherBranch& branch : all_branches) {
        if (branch.name == b) tb.push_back(branch);
      }
      names.push_back(b);
      if (mode == "cached") cached.push_back(cache[b]);
    }
    job.teachers = mode == "cached" ? cached_teachers(tb, cached) : shared.provider(names);
    log::info("student {}: teachers {}, {} epochs, {} logits", method, [&] {
      std::string s;
      for (const std::string& n : names) s += (s.empty() ? "" : " + ") + n;
      return s;
    }(), student_settings.epochs, mode);
    students.push_back(std::move(job));
    student_methods.push_back(method);
  }
  if (!students.empty()) {
    start = Clock::now();
    std::string names;
    for (const std::string& m : student_methods) names += (names.empty() ? "" : ", ") + m;
    log::info("stage students: {} models ({}), {} epochs", students.size(), names, student_settings.epochs);
    const std::vector<JobResult> results = train_jobs(students, student_settings, config, train, val, true);
    for (std::size_t i = 0; i < students.size(); ++i) {
      report.results.push_back(to_result(student_methods[i], results[i], run_dir / student_methods[i]));
    }
    report.stages.push_back({students.size() == 1 ? "student " + names : "students (" + names + ")", since(start)});
  }

  const std::string table = results_table(report, threshold);
  write_file_atomically(run_dir / "results.md", table);
  Json rows = Json::array();
  for (const MethodResult& r : report.results) {
    rows.push_back({{"method", r.method}, {"map", r.metrics.map}, {"cf1", r.metrics.cf1}, {"of1", r.metrics.of1},
                    {"cp", r.metrics.cp}, {"cr", r.metrics.cr}, {"op", r.metrics.op}, {"or", r.metrics.orecall},
                    {"best_epoch", r.best_epoch}, {"best_source", r.best_source},
                    {"checkpoint", r.checkpoint.string()}, {"ap", r.metrics.ap}});
  }
  Json stages = Json::array();
  for (const StageTime& s : report.stages) stages.push_back({{"stage", s.stage}, {"seconds", s.seconds}});
  Json results = {{"threshold", threshold}, {"results", rows}, {"stages", stages}};
  if (report.teacher_check) results["teacher_check"] = teacher_check_json(*report.teacher_check);
  write_file_atomically(run_dir / "results.json", json_text(results));
  return report;
}

std::string results_table(const PipelineReport& report, double threshold) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(2);
  const MethodResult* baseline = nullptr;
  for (const MethodResult& r : report.results) {
    if (r.method == "baseline") baseline = &r;
  }
  out << "| method | mAP | " << (baseline ? "vs baseline | " : "") << "CF1 | OF1 | CP | CR | OP | OR | best epoch |\n"
      << "|---|---:|" << (baseline ? "---:|" : "") << "---:|---:|---:|---:|---:|---:|---:|\n";
  for (const MethodResult& r : report.results) {
    const Metrics& m = r.metrics;
    out << "| " << r.method << " | " << m.map << " | ";
    if (baseline) {
      if (&r == baseline) {
        out << " | ";
      } else {
        out << std::showpos << m.map - baseline->metrics.map << std::noshowpos << " | ";
      }
    }
    out << m.cf1 << " | " << m.of1 << " | " << m.cp << " | " << m.cr << " | " << m.op << " | " << m.orecall << " | "
        << r.best_epoch << " (" << r.best_source << ") |\n";
  }
  if (report.teacher_check) {
    out << "\nteachers against the baseline (validation mAP on the teachers' classes):\n\n"
        << teacher_check_table(*report.teacher_check);
  }
  out << "\nthresholded metrics at sigmoid >= " << threshold << "; mAP over classes with validation positives\n\n"
      << "| stage | wall time |\n|---|---:|\n";
  for (const StageTime& s : report.stages) out << "| " << s.stage << " | " << format_duration(s.seconds) << " |\n";
  return out.str();
}

}  // namespace cpsd::engine
