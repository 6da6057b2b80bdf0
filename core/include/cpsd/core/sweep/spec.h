// SPDX-License-Identifier: Apache-2.0
// A sweep: one run config, axes of overrides and seeds; its grid of cells.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cpsd/core/export.h"

namespace cpsd::sweep {

/// One axis: a config key and the values it takes, each as TOML text (`3`, `"kl"`,
/// `["baseline", "cpsd"]`); or, without a key, named settings, each a list of overrides
/// (`{name = "early stop", set = ["teachers.epochs=12", "teachers.patience=2"]}`).
struct Axis {
  std::string key;                  ///< any --set key, e.g. "partition.k"; "" for named settings
  std::string label;                ///< how cell names show it ("k"); default: the key's last part
  std::vector<std::string> values;  ///< TOML text of each value (names of settings)
  std::vector<std::string> shown;   ///< each value as cell names show it (strings unquoted)
  std::vector<std::vector<std::string>> overrides;  ///< the "key=value"s of each value
  bool numeric = false;                             ///< every value is an integer or a float
};

/// What `cpsd sweep` runs. Paths are absolute once loaded.
struct Spec {
  std::filesystem::path file;        ///< the sweep file ("" when given on the command line only)
  std::filesystem::path config;      ///< the run config every cell starts from
  std::filesystem::path root;        ///< the sweep directory: output/name
  std::vector<std::string> sets;     ///< "key=value" overrides of every cell
  std::vector<std::string> methods;  ///< run.methods of every cell; empty = the config's
  std::vector<int64_t> seeds;        ///< runtime.seed of each run of a cell
  std::vector<Axis> axes;            ///< in order; the grid is their product
};

/// The parts of a spec a command line gives; each replaces the file's (axes add to them).
struct SpecOverrides {
  std::filesystem::path config;
  std::string name, output;
  std::vector<std::string> sets, methods, axes;  ///< axes as "key=[v1, v2, ...]"
  std::vector<int64_t> seeds;
};

/// Reads a sweep file (`[sweep]` with config, name, output, seeds, methods, set and
/// `[[sweep.axis]]` tables of key, values, label) and applies `cli`; `file` may be empty
/// when `cli` names the config. Relative paths in the file are relative to it; those of
/// the command line to the working directory. Defaults: name = the file's stem, output =
/// "runs/sweeps", seeds = [0, 1, 2]. Throws ConfigError naming the key and file:line.
CPSD_CORE_API Spec load_spec(const std::filesystem::path& file, const SpecOverrides& cli);

/// One run of the grid: a point of the axes and a seed.
struct Cell {
  std::string name;                    ///< "k=3" or "k=3,metric=kl" ("base" without axes)
  std::vector<std::string> overrides;  ///< the axes' "key=value" at this point
  std::vector<std::string> values;     ///< the axes' values as shown, one per axis
  int64_t seed = 0;
  std::filesystem::path dir;  ///< root/cells/<name>/seed<seed>: an ordinary run directory
};

/// The grid in order: points in the axes' order (the last axis varying fastest), then the
/// seeds of each point.
CPSD_CORE_API std::vector<Cell> cells(const Spec& spec);

/// Every override of a cell's run: the spec's sets, the cell's axes, methods, seed and the
/// run directory (run.output, run.name).
CPSD_CORE_API std::vector<std::string> run_overrides(const Spec& spec, const Cell& cell);

}  // namespace cpsd::sweep
