// SPDX-License-Identifier: Apache-2.0
// Running a sweep's grid: each run an ordinary `cpsd run`, identical stages trained once.
#pragma once

#include <cstdint>
#include <string>

#include "cpsd/core/export.h"
#include "cpsd/core/registry.h"
#include "cpsd/core/sweep/spec.h"
#include "cpsd/core/sweep/summary.h"

namespace cpsd::sweep {

/// What one call of run_sweep did with the grid's runs.
struct Outcome {
  int64_t ran = 0;        ///< finished by this process
  int64_t done = 0;       ///< finished before (skipped)
  int64_t elsewhere = 0;  ///< being run by another process (left to it)
  Summary summary;        ///< of every run finished by the end of the call
};

/// Checks the config and plan of every run first (a ConfigError before anything trains),
/// then runs the runs not finished yet, in grid order, each in its directory with its
/// baseline/, teachers/ and partitions/ linked to root/stages/<key> (stage_keys). A run
/// another process holds (root/cells/<cell>/seed<s>.lock) is left to it; a stage is
/// trained by one process at a time (its lock), and a process that finds it trained
/// resumes it as finished. `only` >= 0 runs that index of cells(spec) alone (a Slurm array
/// task). Writes root/sweep.json (the spec) first and the summary (write_summary) last.
/// A run whose directory holds results of another config is a ConfigError.
CPSD_CORE_API Outcome run_sweep(const Spec& spec, const Registry& registry, int64_t only = -1);

/// The grid as a Markdown table: index, cell, seed, state (done, running elsewhere, to
/// run) and the stage keys each run uses (equal keys are trained once).
CPSD_CORE_API std::string grid_table(const Spec& spec, const Registry& registry);

/// Reads the sweep's runs again, rewrites its summary (results.md/.json/.png), returns it.
CPSD_CORE_API Summary summarize_sweep(const Spec& spec);

}  // namespace cpsd::sweep
