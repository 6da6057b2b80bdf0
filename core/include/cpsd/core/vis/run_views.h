// SPDX-License-Identifier: Apache-2.0
// Pictures of a run directory: learning curves, activation maps, the HTML report.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cpsd/core/export.h"
#include "cpsd/core/registry.h"

namespace cpsd::vis {

namespace fs = std::filesystem;

/// Draws RUN_DIR/plots/<stage>.png for every stage that has metrics.json files (baseline,
/// teachers, each student): train loss, validation mAP of the model and its EMA, learning
/// rate, per epoch. Returns the files written. ConfigError if the directory holds no run.
CPSD_CORE_API std::vector<fs::path> plot_run(const fs::path& run_dir);

/// A checkpoint to show, and its column title.
struct CamModel {
  std::string title;
  fs::path checkpoint;
};

/// The paper's Fig. 4 columns for `class_name`: the CGP teacher and the DGP teacher that
/// hold the class (from teachers/manifest.json) and the CPSD student (cpsd/best.ckpt, else
/// another student's). ConfigError when the run has none of them or the class is unknown.
CPSD_CORE_API std::vector<CamModel> cam_models_of_run(const fs::path& run_dir,
                                                      const std::string& class_name);

/// Draws one row per image and one column per model: each checkpoint's activation map of
/// `class_name` over the image, its score under it. With `maps_dir`, also writes each map
/// as a grey PNG named <image stem>_<column>.png. Returns the panels' scores (row-major).
CPSD_CORE_API std::vector<double> draw_activation_maps(const std::vector<CamModel>& models,
                                                       const std::string& class_name,
                                                       const std::vector<std::string>& images,
                                                       const fs::path& png,
                                                       const Registry& registry,
                                                       const fs::path& maps_dir = {});

/// Writes RUN_DIR/report/index.html: the config, partitions with their affinity pictures,
/// the teachers, the results table, per-class AP sorted, the curves and a few activation-map
/// panels; every picture is a file under RUN_DIR referred to by a relative path, so the page
/// opens with no network. Returns the page's path.
CPSD_CORE_API fs::path write_report(const fs::path& run_dir, const Registry& registry);

/// Writes SWEEP_DIR/report/index.html from the summary `cpsd sweep` wrote (results.md,
/// results.json, results.png): its tables, its chart and a link to each run. ConfigError
/// when there is no summary. Returns the page's path.
CPSD_CORE_API fs::path write_sweep_report(const fs::path& sweep_dir);

}  // namespace cpsd::vis
