// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/sweep/summary.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "../json_file.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/engine/run_layout.h"
#include "cpsd/core/progress.h"
#include "cpsd/core/vis/sweep_chart.h"

namespace fs = std::filesystem;

namespace cpsd::sweep {
namespace {

struct Metrics {
  double map = 0, cf1 = 0, of1 = 0;
  bool baseline = false;
};

// One run's methods (in its order) and the other rows of the seed table.
SeedRow read_run(const fs::path& file, int64_t seed,
                 std::vector<std::pair<std::string, Metrics>>& m) {
  const Json results = read_json_file(file);
  const std::string f = file.string();
  SeedRow row;
  row.seed = seed;
  for (const Json& r : json_member(results, "results", f)) {
    Metrics x{json_member(r, "map", f).get<double>(), json_member(r, "cf1", f).get<double>(),
              json_member(r, "of1", f).get<double>(), r.value("baseline", false)};
    const std::string method = json_member(r, "method", f).get<std::string>();
    m.emplace_back(method, x);
    row.map.emplace_back(method, x.map);
  }
  for (const Json& s : results.value("stages", Json::array()))
    row.stage_seconds.emplace_back(s.at("stage").get<std::string>(), s.at("seconds").get<double>());
  if (results.contains("teacher_check")) {
    for (const Json& b : results["teacher_check"].value("branches", Json::array())) {
      row.branches.push_back({b.at("branch").get<std::string>(), b.at("merged_map").get<double>(),
                              b.at("baseline_map").get<double>(), b.at("teachers").get<int64_t>(),
                              b.at("teachers_behind").get<int64_t>()});
    }
  }
  return row;
}

template <class T>
std::vector<std::string> keys_in_order(const std::vector<std::pair<std::string, T>>& items,
                                       std::vector<std::string> into) {
  for (const auto& [k, v] : items) {
    if (std::find(into.begin(), into.end(), k) == into.end()) into.push_back(k);
  }
  return into;
}

// The methods of one point of the grid over the runs that finished.
void aggregate(CellSummary& cell,
               const std::vector<std::vector<std::pair<std::string, Metrics>>>& runs) {
  std::vector<std::string> order;
  for (const auto& run : runs) order = keys_in_order(run, order);
  for (const std::string& method : order) {
    MethodSummary s{method, false, {}, {}, {}, {}};
    std::vector<double> map, cf1, of1, diff;
    for (const auto& run : runs) {
      const Metrics* mine = nullptr;
      const Metrics* base = nullptr;
      for (const auto& [name, x] : run) {
        if (name == method) mine = &x;
        if (x.baseline) base = &x;
      }
      if (mine == nullptr) continue;
      s.baseline = mine->baseline;
      map.push_back(mine->map);
      cf1.push_back(mine->cf1);
      of1.push_back(mine->of1);
      if (base != nullptr && !mine->baseline) diff.push_back(mine->map - base->map);
    }
    s.map = stat_of(map);
    s.cf1 = stat_of(cf1);
    s.of1 = stat_of(of1);
    s.vs_baseline = stat_of(diff);
    cell.methods.push_back(s);
  }
  std::vector<std::pair<std::string, int>> stages;
  for (const SeedRow& r : cell.seeds) {
    for (const auto& [stage, seconds] : r.stage_seconds) stages.emplace_back(stage, 0);
  }
  for (const std::string& stage : keys_in_order(stages, {})) {
    std::vector<double> seconds;
    for (const SeedRow& r : cell.seeds) {
      for (const auto& [name, s] : r.stage_seconds) {
        if (name == stage) seconds.push_back(s);
      }
    }
    cell.stage_seconds.emplace_back(stage, stat_of(seconds));
  }
}

}  // namespace

Stat stat_of(const std::vector<double>& values) {
  Stat s;
  s.n = static_cast<int64_t>(values.size());
  if (values.empty()) return {NAN, NAN, 0};
  double sum = 0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(values.size());
  if (values.size() < 2) {
    s.std = NAN;
    return s;
  }
  double squares = 0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(squares / static_cast<double>(values.size() - 1));
  return s;
}

Summary summarize(const Spec& spec, const std::vector<Cell>& runs) {
  Summary out;
  out.name = spec.root.filename().string();
  out.config = spec.config;
  out.axes = spec.axes;
  out.seeds = spec.seeds;
  out.runs = static_cast<int64_t>(runs.size());
  std::map<std::string, std::vector<std::vector<std::pair<std::string, Metrics>>>> metrics;
  for (const Cell& run : runs) {
    if (out.cells.empty() || out.cells.back().name != run.name)
      out.cells.push_back({run.name, run.values, {}, {}, {}});
    const fs::path file = engine::RunLayout(run.dir).results_json();
    if (!fs::exists(file)) continue;
    std::vector<std::pair<std::string, Metrics>> m;
    out.cells.back().seeds.push_back(read_run(file, run.seed, m));
    metrics[run.name].push_back(std::move(m));
    ++out.runs_done;
  }
  for (CellSummary& cell : out.cells) {
    aggregate(cell, metrics[cell.name]);
    std::vector<std::pair<std::string, int>> names;
    for (const MethodSummary& m : cell.methods) names.emplace_back(m.method, 0);
    out.methods = keys_in_order(names, out.methods);
  }
  return out;
}

void write_summary(const Summary& summary, const fs::path& root) {
  fs::create_directories(root);
  write_file_atomically(root / "results.md", summary_markdown(summary));
  write_file_atomically(root / "results.json", summary_json(summary));
  if (summary.runs_done > 0) vis::write_sweep_chart(root / "results.png", summary);
}

}  // namespace cpsd::sweep
