// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/vis/run_views.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <ATen/ATen.h>

#include "../json_file.h"
#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/data/image_pipeline.h"
#include "cpsd/core/engine/run_layout.h"
#include "cpsd/core/engine/saved_model.h"
#include "cpsd/core/log.h"
#include "cpsd/core/text.h"
#include "cpsd/core/vis/cam.h"
#include "cpsd/core/vis/chart.h"
#include "cpsd/sdk/error.h"

namespace cpsd::vis {
namespace {

// Stage name -> (job name, metrics.json) for every job directory of the run.
std::map<std::string, std::vector<std::pair<std::string, fs::path>>> stages_of(
    const fs::path& run_dir) {
  std::map<std::string, std::vector<std::pair<std::string, fs::path>>> stages;
  std::error_code ec;
  const engine::RunLayout layout(run_dir);
  // Stages may be links to another run's (runs that share a baseline or teachers).
  for (const auto& e : fs::recursive_directory_iterator(
           run_dir, fs::directory_options::follow_directory_symlink, ec)) {
    if (e.path().filename() != engine::RunLayout::metrics_json("").filename()) continue;
    const fs::path job = e.path().parent_path();
    const std::string stage = job.parent_path().filename() == layout.teachers().filename()
                                  ? "teachers"
                                  : (job.filename() == layout.baseline().filename()
                                         ? "baseline"
                                         : "student_" + job.filename().string());
    stages[stage].emplace_back(job.filename().string(), e.path());
  }
  for (auto& [stage, jobs] : stages) std::sort(jobs.begin(), jobs.end());
  return stages;
}

}  // namespace

std::vector<fs::path> plot_run(const fs::path& run_dir) {
  const auto stages = stages_of(run_dir);
  if (stages.empty())
    throw ConfigError(run_dir.string() +
                      ": no training metrics found (is it a cpsd run directory?)");
  std::vector<fs::path> written;
  for (const auto& [stage, jobs] : stages) {
    Chart loss{stage + ": training loss", "epoch", "loss", {}, false, {}};
    Chart map{stage + ": validation mAP", "epoch", "mAP (%)", {}, false, {}};
    Chart lr{stage + ": learning rate", "epoch", "lr (end of epoch)", {}, true, {}};
    for (const auto& [job, file] : jobs) {
      Series l{job, {}, {}, {}, true}, m{job, {}, {}, {}, true}, e{job + " EMA", {}, {}, {}, true},
          r{job, {}, {}, {}, true};
      for (const Json& row : read_json_file(file)) {
        const double epoch = row["epoch"].get<double>();
        l.x.push_back(epoch);
        l.y.push_back(row["train_loss"].get<double>());
        if (row.contains("map")) {  // validated epochs only (train.val_begin, val_interval)
          m.x.push_back(epoch);
          m.y.push_back(row["map"].get<double>());
          e.x.push_back(epoch);
          e.y.push_back(row["map_ema"].get<double>());
        }
        r.x.push_back(epoch);
        r.y.push_back(row["lr"].get<double>());
      }
      loss.series.push_back(l);
      map.series.push_back(m);
      if (jobs.size() == 1) map.series.push_back(e);  // with many teachers, one line each is enough
      if (lr.series.empty()) {                        // the schedule is shared within a stage
        if (jobs.size() > 1) r.name = "all jobs";
        lr.series.push_back(r);
      }
    }
    const fs::path png = engine::RunLayout(run_dir).plots() / (stage + ".png");
    write_charts(png, {loss, map, lr});
    written.push_back(png);
  }
  return written;
}

namespace {

// The best student of the run (by validation mAP in results.json) and the branches it
// learned from; the first student directory found when there are no results yet.
std::pair<std::string, std::vector<std::string>> best_student(const engine::RunLayout& layout) {
  std::string method;
  std::vector<std::string> branches;
  double best = -1;
  if (fs::exists(layout.results_json())) {
    // Named: a member of a temporary in the range-for would dangle.
    const Json results = read_json_file(layout.results_json());
    for (const Json& r : results["results"]) {
      if (r.value("baseline", false) || r["map"].get<double>() <= best) continue;
      best = r["map"].get<double>();
      method = r["method"].get<std::string>();
      branches = r.value("branches", std::vector<std::string>());
    }
  }
  return {method, branches};
}

}  // namespace

std::vector<CamModel> cam_models_of_run(const fs::path& run_dir, const std::string& class_name) {
  const engine::RunLayout layout(run_dir);
  const auto [student, student_branches] = best_student(layout);
  std::vector<CamModel> models;
  bool known = false;
  if (fs::exists(layout.manifest())) {
    const Json manifest = read_json_file(layout.manifest());
    std::vector<std::string> branches = student_branches;
    if (branches.empty()) {  // no results: every branch of the manifest, in its order
      for (const Json& t : manifest) {
        const std::string b = t["branch"];
        if (std::find(branches.begin(), branches.end(), b) == branches.end()) branches.push_back(b);
      }
    }
    for (const std::string& branch : branches) {
      for (const Json& t : manifest) {
        const auto classes = t["classes"].get<std::vector<std::string>>();
        const bool holds = std::find(classes.begin(), classes.end(), class_name) != classes.end();
        known = known || holds;
        if (holds && t["branch"] == branch)
          models.push_back({upper_case(branch) + " teacher", t["checkpoint"].get<std::string>()});
      }
    }
  }
  if (!student.empty()) {
    models.push_back({student + " student", engine::RunLayout::best(layout.student(student))});
  } else if (fs::exists(engine::RunLayout::best(layout.baseline()))) {
    models.push_back({"baseline", engine::RunLayout::best(layout.baseline())});
  }
  if (models.empty())
    throw ConfigError(run_dir.string() +
                      ": no teachers or students to show (run `cpsd run` first)");
  if (fs::exists(layout.manifest()) && !known) {
    throw ConfigError("no teacher of " + run_dir.string() + " predicts '" + class_name + "'");
  }
  return models;
}

std::vector<double> draw_activation_maps(const std::vector<CamModel>& models,
                                         const std::string& class_name,
                                         const std::vector<std::string>& images,
                                         const fs::path& png, const Registry& registry,
                                         const fs::path& maps_dir) {
  std::vector<Panel> panels(images.size() * models.size());
  std::vector<double> scores(panels.size());
  for (std::size_t m = 0; m < models.size(); ++m) {
    engine::SavedModel saved =
        engine::load_saved_model(models[m].checkpoint, registry, "best", std::nullopt);
    const auto& names = saved.meta.class_names;
    const auto it = std::find(names.begin(), names.end(), class_name);
    if (it == names.end()) {
      throw ConfigError(models[m].checkpoint.string() + " does not predict '" + class_name +
                        "' (it has " + std::to_string(names.size()) + " classes)");
    }
    const int64_t index = it - names.begin();
    const data::ImagePipeline pipeline(data::pipeline_options(saved.config, false));
    const int64_t size = pipeline.options().image_size;
    const c10::Device device = saved.model->parameters().front().device();
    for (std::size_t i = 0; i < images.size(); ++i) {
      at::Tensor input = at::empty({1, 3, size, size});
      data::Rng rng(0);
      pipeline.load(images[i], rng, input.data_ptr<float>());
      ActivationMap map = activation_map(*saved.model, input.to(device), index);
      const std::size_t k = i * models.size() + m;
      char caption[96];
      std::snprintf(caption, sizeof(caption), "%s\n%s %.3f", models[m].title.c_str(),
                    class_name.c_str(), map.score);
      scores[k] = map.score;
      if (!maps_dir.empty()) {
        std::string column = models[m].title;
        std::replace(column.begin(), column.end(), ' ', '_');
        write_map_png(maps_dir / (fs::path(images[i]).stem().string() + "_" + column + ".png"),
                      map);
      }
      panels[k] = Panel{images[i], std::move(map), caption};
    }
  }
  write_panel_grid(png, panels, static_cast<int>(models.size()));
  return scores;
}

}  // namespace cpsd::vis
