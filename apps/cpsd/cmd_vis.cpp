// SPDX-License-Identifier: Apache-2.0
// `cpsd cam`, `cpsd plot`, `cpsd report`: seeing what the models learned.
#include <algorithm>
#include <cstdio>

#include "cli.h"
#include "cpsd/core/text.h"
#include "cpsd/core/vis/run_views.h"
#include "cpsd/sdk/error.h"

namespace fs = std::filesystem;

namespace cpsd::cli {
namespace {

std::vector<std::string> images_in(const std::vector<std::string>& inputs) {
  static const std::vector<std::string> kExtensions = {".jpg", ".jpeg", ".png", ".bmp", ".webp"};
  std::vector<std::string> out;
  for (const std::string& in : inputs) {
    if (fs::is_directory(in)) {
      std::vector<std::string> found;
      for (const auto& e : fs::directory_iterator(in)) {
        const std::string ext = lower_case(e.path().extension().string());
        if (std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end())
          found.push_back(e.path().string());
      }
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(in)) {
      out.push_back(in);
    } else {
      throw ConfigError("cpsd cam: " + in + ": no such image or directory");
    }
  }
  if (out.empty()) throw ConfigError("cpsd cam: no images given");
  return out;
}

// RUN_DIR of `cpsd plot` / `cpsd report`; empty when --help was printed.
std::string run_dir_argument(const std::string& command, const std::vector<std::string>& args,
                             CommonOptions& common) {
  std::string run;
  CommandLine cli(command, "RUN_DIR [options]");
  cli.positional("run", &run, "run directory");
  if (!cli.parse(args)) return "";
  common = cli.common;
  if (run.empty())
    throw ConfigError("cpsd " + command + ": missing RUN_DIR (a directory `cpsd run` wrote)");
  if (!fs::is_directory(run))
    throw ConfigError("cpsd " + command + ": " + run + ": no such directory");
  return run;
}

}  // namespace

int run_cam(const std::vector<std::string>& args, Context& context) {
  std::vector<std::string> checkpoints, titles, inputs;
  std::string class_name, out, run, maps;
  bool save_maps = false;
  CommandLine cli("cam",
                  "(--checkpoint CKPT ... | --run RUN_DIR) --class NAME --out DIR IMAGES...|DIR");
  cli.positional("inputs", &inputs, "images or directories", -1);
  cli.add()("checkpoint", po::value(&checkpoints)->composing(),
            "a model to show (repeatable: one column each)")(
      "run", po::value(&run),
      "instead: a run directory; shows each teacher of its best student holding the class, and the "
      "student")("class", po::value(&class_name), "class name to explain")(
      "out", po::value(&out), "directory for the picture (cam_<class>.png)")(
      "save-maps", po::bool_switch(&save_maps), "also write each raw map as a grey PNG");
  if (!cli.parse(args)) return 0;
  if (class_name.empty()) throw ConfigError("cpsd cam: missing --class NAME");
  if (out.empty()) throw ConfigError("cpsd cam: missing --out DIR");
  if (checkpoints.empty() == run.empty())
    throw ConfigError("cpsd cam: give --checkpoint FILE(s) or --run RUN_DIR");
  const Registry& registry = context.plugins(cli.common).registry();
  std::vector<vis::CamModel> models;
  if (!run.empty()) {
    models = vis::cam_models_of_run(run, class_name);
  } else {
    for (const std::string& c : checkpoints)
      models.push_back({fs::path(c).parent_path().filename().string(), c});
  }
  const std::vector<std::string> images = images_in(inputs);
  const fs::path png = fs::path(out) / ("cam_" + class_name + ".png");
  const std::vector<double> scores = vis::draw_activation_maps(
      models, class_name, images, png, registry, save_maps ? fs::path(out) : fs::path());
  for (std::size_t i = 0; i < images.size(); ++i) {
    std::printf("%s", images[i].c_str());
    for (std::size_t m = 0; m < models.size(); ++m) {
      std::printf("  %s %.3f", models[m].title.c_str(), scores[i * models.size() + m]);
    }
    std::printf("\n");
  }
  std::printf("wrote %s\n", png.c_str());
  return 0;
}

int run_plot(const std::vector<std::string>& args, Context&) {
  CommonOptions common;
  const std::string run = run_dir_argument("plot", args, common);
  if (run.empty()) return 0;
  for (const fs::path& p : vis::plot_run(run)) std::printf("wrote %s\n", p.c_str());
  return 0;
}

int run_report(const std::vector<std::string>& args, Context& context) {
  CommonOptions common;
  const std::string run = run_dir_argument("report", args, common);
  if (run.empty()) return 0;
  // A sweep directory (cpsd sweep) gets the sweep's page; a run directory the run's.
  const fs::path page = fs::exists(fs::path(run) / "sweep.json")
                            ? vis::write_sweep_report(run)
                            : vis::write_report(run, context.plugins(common).registry());
  std::printf("wrote %s\n", page.c_str());
  return 0;
}

}  // namespace cpsd::cli
