// SPDX-License-Identifier: Apache-2.0
// A sweep's results: each cell's runs read back and aggregated over the seeds.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "cpsd/core/export.h"
#include "cpsd/core/sweep/spec.h"

namespace cpsd::sweep {

/// Mean and sample standard deviation (n - 1); std is NaN below two values, both are NaN
/// for none.
struct Stat {
  double mean = 0, std = 0;
  int64_t n = 0;
};
CPSD_CORE_API Stat stat_of(const std::vector<double>& values);

/// A method in one cell over its seeds; vs_baseline is the paired difference of mAP to the
/// same seed's baseline (seeds with both only).
struct MethodSummary {
  std::string method;
  bool baseline = false;
  Stat map, cf1, of1, vs_baseline;
};

/// A branch's merged teachers against the baseline in one run (results.json teacher_check).
struct BranchCheck {
  std::string branch;
  double merged_map = 0, baseline_map = 0;
  int64_t teachers = 0, teachers_behind = 0;
};

/// One finished run of a cell.
struct SeedRow {
  int64_t seed = 0;
  std::vector<std::pair<std::string, double>> map;  ///< (method, mAP) in the run's order
  std::vector<BranchCheck> branches;
  std::vector<std::pair<std::string, double>> stage_seconds;  ///< (stage, wall seconds)
};

struct CellSummary {
  std::string name;
  std::vector<std::string> values;  ///< one per axis, as shown
  std::vector<MethodSummary> methods;
  std::vector<SeedRow> seeds;  ///< the seeds whose run finished, in the spec's order
  std::vector<std::pair<std::string, Stat>> stage_seconds;  ///< per stage over the seeds
};

struct Summary {
  std::string name;
  std::filesystem::path config;
  std::vector<Axis> axes;
  std::vector<int64_t> seeds;
  std::vector<std::string> methods;  ///< every method of any cell, in first-seen order
  std::vector<CellSummary> cells;    ///< one per point of the grid, in the grid's order
  int64_t runs = 0, runs_done = 0;
};

/// Reads root/cells/<cell>/seed<s>/results.json of each run of `runs` (cells(spec)); runs
/// not finished are left out of every number. Throws ConfigError naming a malformed file.
CPSD_CORE_API Summary summarize(const Spec& spec, const std::vector<Cell>& runs);

/// results.md: mAP, the paired difference, CF1 and OF1 per cell and method, the per-seed
/// table, the teachers against the baseline per seed, and stage wall times.
CPSD_CORE_API std::string summary_markdown(const Summary& summary);
/// results.json: the same numbers (NaN as null).
CPSD_CORE_API std::string summary_json(const Summary& summary);

/// Writes root/results.md, root/results.json and root/results.png (vis::write_sweep_chart),
/// each atomically.
CPSD_CORE_API void write_summary(const Summary& summary, const std::filesystem::path& root);

}  // namespace cpsd::sweep
