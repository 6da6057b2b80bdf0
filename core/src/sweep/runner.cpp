// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/sweep/runner.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "../json_file.h"
#include "../text_file.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/engine/pipeline.h"
#include "cpsd/core/log.h"
#include "cpsd/core/progress.h"
#include "cpsd/core/runtime.h"
#include "cpsd/core/sweep/stage_store.h"
#include "cpsd/core/sweep/summary.h"
#include "cpsd/sdk/error.h"

namespace fs = std::filesystem;

namespace cpsd::sweep {
namespace {

// One run of the grid, checked: its config, plan and stage keys.
struct PlannedRun {
  Cell cell;
  RunConfig config;
  engine::RunPlan plan;
  StageKeys keys;
};

std::vector<PlannedRun> plan_all(const Spec& spec, const Registry& registry) {
  std::vector<PlannedRun> out;
  for (Cell& cell : cells(spec)) {
    RunConfig config = RunConfig::load(spec.config, run_overrides(spec, cell), registry);
    engine::RunPlan plan = engine::make_plan(config, registry, {});
    if (plan.methods.empty())
      throw ConfigError(spec.config.string() + ": cell " + cell.name + " has no method to run");
    StageKeys keys = stage_keys(config, plan);
    out.push_back({std::move(cell), std::move(config), std::move(plan), std::move(keys)});
  }
  return out;
}

// A resolved config without its leading comment (which names the file it was read from, so
// the same config reached through another path would differ).
std::string settings_of(const std::string& toml) {
  std::size_t at = 0;
  while (at < toml.size() && toml[at] == '#') {
    at = toml.find('\n', at);
    if (at == std::string::npos) return "";
    ++at;
  }
  return toml.substr(at);
}

// Finished: results.json is there. A run started under another config is an error (its
// checkpoints would be resumed as if they were this config's).
bool finished(const PlannedRun& r) {
  const fs::path recorded = r.plan.layout.config();
  if (fs::exists(recorded) &&
      settings_of(read_text_file(recorded)) != settings_of(r.config.to_toml())) {
    throw ConfigError(r.cell.dir.string() + " holds the results of another config than cell " +
                      r.cell.name + " seed " + std::to_string(r.cell.seed) +
                      " has now (the sweep or its run config changed); remove that directory "
                      "or give the sweep another name");
  }
  return fs::exists(r.plan.layout.results_json());
}

fs::path run_lock(const Cell& c) {
  return c.dir.parent_path() / (c.dir.filename().string() + ".lock");
}

void run_one(const Spec& spec, const PlannedRun& r, const Registry& registry) {
  const fs::path store = spec.root / "stages";
  link_shared_stages(store, r.plan.layout, r.keys);
  const std::vector<FileLock> locks = lock_stages(store, r.keys);
  apply_runtime(r.config);
  engine::run_pipeline(r.plan, r.config, registry);
}

Json spec_json(const Spec& spec) {
  Json axes = Json::array();
  for (const Axis& a : spec.axes)
    axes.push_back({{"key", a.key}, {"label", a.label}, {"values", a.values}});
  return {{"file", spec.file.string()}, {"config", spec.config.string()},
          {"seeds", spec.seeds},        {"methods", spec.methods},
          {"set", spec.sets},           {"axes", axes}};
}

}  // namespace

Outcome run_sweep(const Spec& spec, const Registry& registry, int64_t only) {
  const std::vector<PlannedRun> runs = plan_all(spec, registry);
  if (only >= static_cast<int64_t>(runs.size())) {
    throw ConfigError("cpsd sweep: --cell " + std::to_string(only) + " is past the grid's " +
                      std::to_string(runs.size()) + " runs (0.." + std::to_string(runs.size() - 1) +
                      ")");
  }
  fs::create_directories(spec.root);
  write_file_atomically(spec.root / "sweep.json", json_text(spec_json(spec)));
  Outcome outcome;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const PlannedRun& r = runs[i];
    if (only >= 0 && static_cast<int64_t>(i) != only) continue;
    const std::string what = r.cell.name + " seed " + std::to_string(r.cell.seed);
    if (finished(r)) {
      ++outcome.done;
      continue;
    }
    FileLock mine(run_lock(r.cell), false);
    if (!mine.owns()) {
      log::info("sweep: {} is running in another process; left to it", what);
      ++outcome.elsewhere;
      continue;
    }
    if (finished(r)) {  // another process finished it between the two looks
      ++outcome.done;
      continue;
    }
    log::info("sweep {}: run {}/{}: {}", spec.root.filename().string(), i + 1, runs.size(), what);
    run_one(spec, r, registry);
    ++outcome.ran;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // At most this many runs are left (some may be done or taken by then).
    const int64_t todo = only >= 0 ? 0 : static_cast<int64_t>(runs.size() - i - 1);
    log::info("sweep: {} done; {} run(s) in {} ({} per run){}", what, outcome.ran,
              format_duration(seconds), format_duration(seconds / outcome.ran),
              todo > 0 ? ", ETA " + format_duration(seconds / outcome.ran * todo) : "");
  }
  outcome.summary = summarize_sweep(spec);
  return outcome;
}

std::string grid_table(const Spec& spec, const Registry& registry) {
  std::ostringstream out;
  out << "| # | cell | seed | state | baseline | teachers |\n|---:|---|---:|---|---|---|\n";
  const std::vector<PlannedRun> runs = plan_all(spec, registry);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const PlannedRun& r = runs[i];
    std::string state = "to run";
    if (finished(r)) {
      state = "done";
    } else if (fs::exists(run_lock(r.cell)) && !FileLock(run_lock(r.cell), false).owns()) {
      state = "running elsewhere";
    }
    out << "| " << i << " | " << r.cell.name << " | " << r.cell.seed << " | " << state << " | "
        << (r.keys.baseline.empty() ? "–" : r.keys.baseline) << " | "
        << (r.keys.teachers.empty() ? "–" : r.keys.teachers) << " |\n";
  }
  return out.str();
}

Summary summarize_sweep(const Spec& spec) {
  Summary summary = summarize(spec, cells(spec));
  write_summary(summary, spec.root);
  log::info("sweep: {} of {} runs done; summary in {}", summary.runs_done, summary.runs,
            (spec.root / "results.md").string());
  return summary;
}

}  // namespace cpsd::sweep
