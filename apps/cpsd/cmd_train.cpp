// SPDX-License-Identifier: Apache-2.0
// `cpsd train`: one model: the baseline, or one teacher (--part CGP:i), e.g. per cluster job.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "cli.h"
#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/engine/plan.h"
#include "cpsd/core/engine/stages.h"
#include "cpsd/core/runtime.h"
#include "cpsd/core/text.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {
namespace {

struct Part {
  std::string branch;  // "" = the baseline
  int64_t index = 0;
};

// The branch of the plan named `text`, case-insensitively.
std::string branch_named(const std::string& text, const engine::RunPlan& plan) {
  for (const engine::BranchSpec& b : plan.branches) {
    if (lower_case(b.name) == lower_case(text)) return b.name;
  }
  return plan.branch(text).name;  // throws, listing the branches
}

// "CGP:3", "dgp:0", "full" (a one-group branch), or "auto" (SLURM_ARRAY_TASK_ID over the
// teachers of the run's branches in name order).
Part parse_part(const std::string& text, const engine::RunPlan& plan) {
  if (text.empty()) return {};
  if (lower_case(text) == "auto") {
    const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
    if (task == nullptr)
      throw ConfigError("--part auto needs SLURM_ARRAY_TASK_ID (a Slurm job array)");
    std::vector<const engine::BranchSpec*> branches;
    for (const engine::BranchSpec& b : plan.branches) branches.push_back(&b);
    std::sort(branches.begin(), branches.end(),
              [](const auto* a, const auto* b) { return a->name < b->name; });
    std::vector<Part> parts;
    for (const engine::BranchSpec* b : branches) {
      for (int64_t i = 0; i < b->k; ++i) parts.push_back({b->name, i});
    }
    const long id = std::strtol(task, nullptr, 10);
    if (id < 0 || id >= static_cast<long>(parts.size())) {
      throw ConfigError("SLURM_ARRAY_TASK_ID " + std::string(task) + " is outside the run's " +
                        std::to_string(parts.size()) + " teachers (use --array=0-" +
                        std::to_string(parts.size() - 1) + ")");
    }
    return parts[static_cast<std::size_t>(id)];
  }
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    const engine::BranchSpec& b = plan.branch(branch_named(text, plan));
    if (b.k != 1)
      throw ConfigError("--part '" + text + "': expected BRANCH:INDEX, e.g. " + b.name + ":0");
    return {b.name, 0};
  }
  Part p{branch_named(text.substr(0, colon), plan), 0};
  try {
    p.index = std::stoll(text.substr(colon + 1));
  } catch (const std::exception&) {
    throw ConfigError("--part '" + text + "': the index after ':' must be a number");
  }
  const int64_t k = plan.branch(p.branch).k;
  if (p.index < 0 || p.index >= k) {
    throw ConfigError("--part '" + text + "': index must be 0.." + std::to_string(k - 1) +
                      " (branch " + p.branch + " has k = " + std::to_string(k) + ")");
  }
  return p;
}

}  // namespace

int run_train(const std::vector<std::string>& args, Context& context) {
  std::string file, part_text;
  std::vector<std::string> overrides;
  bool fresh = false;
  CommandLine cli("train", "--config RUN.toml [--part CGP:i] [options]");
  cli.add()("config", po::value(&file), "run config (TOML)")(
      "part", po::value(&part_text),
      "train one teacher: BRANCH:i (e.g. CGP:0), a one-group BRANCH (FULL), or auto "
      "(SLURM_ARRAY_TASK_ID)")("set", po::value(&overrides)->composing(),
                               "override a config key (repeatable)")(
      "fresh", po::bool_switch(&fresh), "start over instead of resuming from last.ckpt");
  if (!cli.parse(args)) return 0;
  if (file.empty()) throw ConfigError("cpsd train: missing --config FILE");
  const Registry& registry = context.plugins(cli.common).registry();
  const RunConfig config = RunConfig::load(file, overrides, registry);
  apply_runtime(config);
  const engine::RunPlan plan = engine::make_plan(config, registry);
  const Part part = parse_part(part_text, plan);
  const engine::JobResult r =
      engine::train_one(plan, config, registry, part.branch, part.index, !fresh);
  const std::filesystem::path dir =
      part.branch.empty() ? plan.layout.baseline()
                          : plan.layout.teacher(plan.branch(part.branch).teacher(part.index));
  std::printf("%s: best mAP %.2f at epoch %lld (%s weights): %s\n", r.name.c_str(), r.best.map,
              static_cast<long long>(r.best.epoch), r.best.source.c_str(),
              engine::RunLayout::best(dir).c_str());
  return 0;
}

}  // namespace cpsd::cli
