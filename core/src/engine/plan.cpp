// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/plan.h"

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <sstream>

#include "config_tree.h"
#include "cpsd/core/text.h"
#include "cpsd/sdk/error.h"

namespace cpsd::engine {
namespace {

// A string option that must be one of `choices`, as its enum.
template <typename E>
E choose(const Options& o, std::string_view key,
         std::initializer_list<std::pair<const char*, E>> choices) {
  const std::string value = o.get_string(key);
  std::vector<std::string> names;
  for (const auto& [name, e] : choices) {
    if (value == name) return e;
    names.push_back(std::string("\"") + name + "\"");
  }
  std::string list = names.front();
  for (std::size_t i = 1; i < names.size(); ++i)
    list += (i + 1 == names.size() ? " or " : ", ") + names[i];
  o.fail(key, "must be " + list + ", not \"" + value + "\"");
}

void read_one_cycle(const Options& t, TrainSettings& s) {
  s.one_cycle.pct_start = t.get_double("pct_start");
  s.one_cycle.div_factor = t.get_double("div_factor");
  s.one_cycle.final_div_factor = t.get_double("final_div_factor");
  s.one_cycle.cycle_momentum = t.get_bool("cycle_momentum");
  s.one_cycle.base_momentum = t.get_double("base_momentum");
  s.one_cycle.max_momentum = t.get_double("max_momentum");
  if (s.one_cycle.pct_start <= 0 || s.one_cycle.pct_start >= 1)
    t.fail("pct_start", "must be in (0, 1)");
  if (s.one_cycle.div_factor <= 0) t.fail("div_factor", "must be > 0");
  if (s.one_cycle.final_div_factor <= 0) t.fail("final_div_factor", "must be > 0");
}

// "file:line:col: [branches.<b>.options]: " of a branch's own options, for messages.
std::string b_where(const Options& branch) {
  if (!branch.has("options")) return "";
  return branch.where("options") + ": [" + branch.scope() + ".options]: ";
}

// A branch's decomposer options: [decomposer.<name>], then its own [branches.<b>.options].
Options branch_options(const RunConfig& config, const Registry& registry, const Options& branch,
                       const std::string& decomposer) {
  toml::table merged = toml::parse(config.plugin_options(Kind::decomposer, decomposer).to_toml());
  if (branch.has("options")) merge_into(merged, toml::parse(branch.get_table("options").to_toml()));
  std::ostringstream text;
  text << toml::toml_formatter(merged);
  try {
    return plugin_options(registry, Kind::decomposer, decomposer, text.str());
  } catch (const ConfigError& e) {
    throw ConfigError(b_where(branch) + e.what());
  }
}

BranchSpec read_branch(const RunConfig& config, const Registry& registry, const std::string& name) {
  const Options b = config.section("branches").get_table(name);
  static const std::vector<std::string> known = {"decomposer", "k", "weight", "images", "options"};
  for (const std::string& key : b.keys()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      b.fail(key, "unknown branch option (known: " + join(known) + ")" + did_you_mean(key, known));
    }
  }
  BranchSpec spec;
  spec.name = name;
  if (!b.has("decomposer") || b.get_string("decomposer").empty())
    b.fail("decomposer", "not set: name a decomposer");
  spec.decomposer = b.get_string("decomposer");
  if (!registry.contains(Kind::decomposer, spec.decomposer)) {
    b.fail("decomposer", registry.unknown_message(Kind::decomposer, spec.decomposer));
  }
  spec.k = b.has("k") ? b.get_int("k") : 0;
  if (spec.k == 0) spec.k = config.section("partition").get_int("k");
  if (spec.k < 1) b.fail("k", "must be >= 1 (0 = partition.k)");
  spec.weight = b.has("weight") ? b.get_double("weight") : 1.0;
  if (spec.weight < 0) b.fail("weight", "must be >= 0");
  const bool own_images = b.has("images") && !b.get_string("images").empty();
  spec.images =
      choose<TeacherImages>(own_images ? b : config.section("teachers"), "images",
                            {{"all", TeacherImages::all}, {"positive", TeacherImages::positive}});
  spec.options = branch_options(config, registry, b, spec.decomposer);
  return spec;
}

// The first branch (in plan order) that defines the same teachers as `b`: b's own name
// unless an earlier one has its decomposer, k, images and options.
std::string same_teachers(const std::vector<BranchSpec>& branches, const BranchSpec& b) {
  for (const BranchSpec& other : branches) {
    if (other.decomposer == b.decomposer && other.k == b.k && other.images == b.images &&
        options_json(other.options) == options_json(b.options)) {
      return other.name;
    }
  }
  return b.name;
}

// [methods]: every method and its branches, checked against [branches].
std::vector<MethodSpec> read_methods(const RunConfig& config) {
  const Options methods = config.section("methods");
  const std::vector<std::string> branches = config.section("branches").keys();
  std::vector<MethodSpec> out;
  for (const std::string& name : methods.keys()) {
    MethodSpec m{name, methods.get_string_list(name)};
    for (const std::string& b : m.branches) {
      if (std::find(branches.begin(), branches.end(), b) == branches.end()) {
        methods.fail(name, "unknown branch '" + b + "' (known: " + join(branches) + ")" +
                               did_you_mean(b, branches));
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

// run.methods picked out of [methods] (all of them when it is empty).
std::vector<MethodSpec> select_methods(const RunConfig& config, const std::vector<MethodSpec>& all,
                                       std::vector<std::string> wanted) {
  const Options run = config.section("run");
  if (wanted.empty()) wanted = run.get_string_list("methods");
  std::vector<std::string> known;
  for (const MethodSpec& m : all) known.push_back(m.name);
  if (wanted.empty()) wanted = known;
  std::vector<MethodSpec> out;
  for (const std::string& name : wanted) {
    const auto it = std::find(known.begin(), known.end(), name);
    if (it == known.end()) {
      run.fail("methods", "unknown method '" + name +
                              "' (known: " + (known.empty() ? "none" : join(known)) + ")" +
                              did_you_mean(name, known));
    }
    out.push_back(all[static_cast<std::size_t>(it - known.begin())]);
  }
  int64_t without = 0;
  for (const MethodSpec& m : out) without += m.branches.empty() ? 1 : 0;
  if (without > 1)
    run.fail("methods", "names more than one method without branches: they are all the baseline");
  return out;
}

DistillSettings read_distill(const RunConfig& config) {
  const Options d = config.section("distill");
  DistillSettings s;
  s.loss = d.get_string("loss");
  s.cls_weight = d.get_double("cls_weight");
  if (s.cls_weight < 0) d.fail("cls_weight", "must be >= 0");
  s.mode = choose<DistillMode>(d, "mode",
                               {{"online", DistillMode::online}, {"cached", DistillMode::cached}});
  s.teacher_mode = choose<TeacherMode>(
      d, "teacher_mode", {{"eval", TeacherMode::eval}, {"train", TeacherMode::train}});
  s.weighting = read_weighting(d);
  s.weight_scale = d.get_double("weight_scale");
  if (!(s.weight_scale > 0)) d.fail("weight_scale", "must be > 0");
  return s;
}

// Whether the run trains the baseline, and the checks that depend on the students.
void settle_baseline(RunPlan& plan, const RunConfig& config) {
  bool students = false;
  for (const MethodSpec& m : plan.methods) {
    plan.baseline = plan.baseline || m.branches.empty();
    students = students || !m.branches.empty();
  }
  if (!students) return;
  plan.baseline = plan.baseline || plan.teacher_init == TeacherInit::baseline ||
                  plan.distill.weighting != Weighting::none;
  const Options d = config.section("distill");
  if (plan.distill.loss.empty()) d.fail("loss", "not set: the students need a distillation loss");
  if (plan.distill.weighting != Weighting::none &&
      !(config.section("data").get_double("holdout") > 0)) {
    d.fail(
        "weighting",
        "compares teachers and baseline on held-out training images: set data.holdout (e.g. 0.1)");
  }
}

}  // namespace

RunLayout run_layout(const RunConfig& config) {
  const Options run = config.section("run");
  if (run.get_string("name").empty()) run.fail("name", "must not be empty");
  return RunLayout(std::filesystem::path(run.get_string("output")) / run.get_string("name"));
}

TrainSettings read_train_settings(const RunConfig& config, Stage stage) {
  const Options t = config.section("train");
  TrainSettings s;
  s.epochs = t.get_int("epochs");
  s.batch_size = t.get_int("batch_size");
  s.optimizer =
      choose<Optimizer>(t, "optimizer", {{"adam", Optimizer::adam}, {"adamw", Optimizer::adamw}});
  s.lr = t.get_double("lr");
  s.weight_decay = t.get_double("weight_decay");
  s.schedule = choose<Schedule>(
      t, "schedule", {{"onecycle", Schedule::onecycle}, {"constant", Schedule::constant}});
  read_one_cycle(t, s);
  s.ema = t.get_double("ema");
  s.grad_clip = t.get_double("grad_clip");
  s.threshold = t.get_double("threshold");
  s.log_seconds = t.get_double("log_seconds");
  s.checkpoint_minutes = t.get_double("checkpoint_minutes");
  s.checkpoint_steps = t.get_int("checkpoint_steps");
  s.val_begin = t.get_int("val_begin");
  s.val_interval = t.get_int("val_interval");
  if (stage != Stage::train) {
    const Options o = config.section(stage == Stage::teachers ? "teachers" : "distill");
    if (o.get_int("epochs") < 0) o.fail("epochs", "must be >= 0 (0 = train.epochs)");
    if (o.get_double("lr") < 0) o.fail("lr", "must be >= 0 (0 = train.lr)");
    if (o.get_int("epochs") > 0) s.epochs = o.get_int("epochs");
    if (o.get_double("lr") > 0) s.lr = o.get_double("lr");
  }
  if (stage == Stage::teachers) {
    const Options o = config.section("teachers");
    s.patience = o.get_int("patience");
    if (s.patience < 0) o.fail("patience", "must be >= 0 (0 = off)");
  }
  if (s.epochs < 1) t.fail("epochs", "must be >= 1");
  if (s.batch_size < 1) t.fail("batch_size", "must be >= 1");
  if (!(s.lr > 0)) t.fail("lr", "must be > 0");
  if (s.weight_decay < 0) t.fail("weight_decay", "must be >= 0");
  if (s.ema < 0 || s.ema >= 1) t.fail("ema", "must be in [0, 1) (0 = off)");
  if (s.grad_clip < 0) t.fail("grad_clip", "must be >= 0");
  if (!(s.checkpoint_minutes >= 0)) t.fail("checkpoint_minutes", "must be >= 0 (0 = off)");
  if (s.checkpoint_steps < 0) t.fail("checkpoint_steps", "must be >= 0 (0 = off)");
  if (s.val_begin < 1) t.fail("val_begin", "must be >= 1 (the first epoch is 1)");
  if (s.val_interval < 1) t.fail("val_interval", "must be >= 1 (1 = every epoch)");
  if (s.threshold <= 0 || s.threshold >= 1) t.fail("threshold", "must be in (0, 1)");
  return s;
}

RunPlan make_plan(const RunConfig& config, const Registry& registry,
                  const std::vector<std::string>& methods) {
  RunPlan plan;
  plan.layout = run_layout(config);
  const int64_t seed = config.section("runtime").get_int("seed");
  if (seed < 0) config.section("runtime").fail("seed", "must be >= 0");
  plan.seed = static_cast<uint64_t>(seed);
  if (config.section("partition").get_int("k") < 1)
    config.section("partition").fail("k", "must be >= 1");
  plan.methods = select_methods(config, read_methods(config), methods);
  for (const MethodSpec& m : plan.methods) {
    for (const std::string& b : m.branches) {
      const bool known = std::any_of(plan.branches.begin(), plan.branches.end(),
                                     [&](const BranchSpec& s) { return s.name == b; });
      if (!known) plan.branches.push_back(read_branch(config, registry, b));
    }
  }
  for (BranchSpec& b : plan.branches) b.teachers_of = same_teachers(plan.branches, b);
  plan.train = read_train_settings(config, Stage::train);
  plan.teachers = read_train_settings(config, Stage::teachers);
  plan.students = read_train_settings(config, Stage::distill);
  plan.teacher_init = choose<TeacherInit>(
      config.section("teachers"), "init",
      {{"pretrained", TeacherInit::pretrained}, {"baseline", TeacherInit::baseline}});
  plan.distill = read_distill(config);
  settle_baseline(plan, config);
  return plan;
}

const BranchSpec& RunPlan::branch(const std::string& name) const {
  std::vector<std::string> names;
  for (const BranchSpec& b : branches) {
    if (b.name == name) return b;
    names.push_back(b.name);
  }
  throw ConfigError("no branch '" + name + "' in this run (its branches: " +
                    (names.empty() ? "none" : join(names)) + ")" + did_you_mean(name, names));
}

std::vector<const MethodSpec*> RunPlan::students_methods() const {
  std::vector<const MethodSpec*> out;
  for (const MethodSpec& m : methods) {
    if (!m.branches.empty()) out.push_back(&m);
  }
  return out;
}

}  // namespace cpsd::engine
