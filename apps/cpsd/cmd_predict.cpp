// SPDX-License-Identifier: Apache-2.0
// `cpsd predict --checkpoint CKPT IMAGES...|DIR --out FILE.csv|FILE.json`.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "cli.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/data/readers.h"
#include "cpsd/core/engine/saved_model.h"
#include "cpsd/core/engine/trainer.h"
#include "cpsd/core/log.h"
#include "cpsd/core/runtime.h"
#include "cpsd/core/text.h"
#include "cpsd/sdk/error.h"

namespace fs = std::filesystem;

namespace cpsd::cli {
namespace {

std::vector<std::string> image_paths(const std::vector<std::string>& inputs) {
  static const std::vector<std::string> kExtensions = {".jpg",  ".jpeg", ".png", ".bmp",
                                                       ".webp", ".tif",  ".tiff"};
  std::vector<std::string> paths;
  for (const std::string& in : inputs) {
    if (fs::is_directory(in)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(in)) {
        const std::string ext = lower_case(e.path().extension().string());
        if (e.is_regular_file() &&
            std::find(kExtensions.begin(), kExtensions.end(), ext) != kExtensions.end()) {
          found.push_back(e.path().string());
        }
      }
      std::sort(found.begin(), found.end());
      paths.insert(paths.end(), found.begin(), found.end());
    } else if (fs::exists(in)) {
      paths.push_back(in);
    } else {
      throw ConfigError("cpsd predict: " + in + ": no such image or directory");
    }
  }
  if (paths.empty()) throw ConfigError("cpsd predict: no images found in the given paths");
  return paths;
}

// Per-class thresholds: "name,threshold" lines (a header is allowed) or a JSON object.
std::vector<double> read_thresholds(const std::string& file,
                                    const std::vector<std::string>& classes, double fallback) {
  std::vector<double> t(classes.size(), fallback);
  std::map<std::string, double> given;
  if (fs::path(file).extension() == ".json") {
    std::ifstream in(file);
    if (!in) throw ConfigError(file + ": not found");
    try {
      for (const auto& [k, v] : nlohmann::json::parse(in).items()) given[k] = v.get<double>();
    } catch (const nlohmann::json::exception& e) {
      throw ConfigError(file + ": expected {\"class\": threshold, ...}: " + e.what());
    }
  } else {
    std::ifstream in(file);
    if (!in) throw ConfigError(file + ": not found");
    int line_number = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_number;
      const auto comma = line.find(',');
      if (line.empty() || comma == std::string::npos) continue;
      try {
        given[line.substr(0, comma)] = std::stod(line.substr(comma + 1));
      } catch (const std::exception&) {
        if (line_number > 1)
          throw ConfigError(file + ":" + std::to_string(line_number) + ": expected name,threshold");
      }
    }
  }
  for (const auto& [name, value] : given) {
    auto it = std::find(classes.begin(), classes.end(), name);
    if (it == classes.end()) throw ConfigError(file + ": unknown class '" + name + "'");
    if (value <= 0 || value >= 1)
      throw ConfigError(file + ": threshold of '" + name + "' must be in (0, 1)");
    t[it - classes.begin()] = value;
  }
  return t;
}

// As timm's resolve_data_config: what the config leaves open of the input follows what the
// backbone's weights expect (TResNet 448 pixels / 255, torchvision 224 with ImageNet's
// mean and std). Returns the --set overrides that say so.
std::vector<std::string> backbone_input(const RunConfig& config, const InputSpec& spec) {
  std::vector<std::string> out;
  if (!config.given("data.image_size"))
    out.push_back("data.image_size=" + std::to_string(spec.default_size));
  if (!config.given("data.normalize")) {
    const InputSpec imagenet{0, {0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}};
    if (spec.mean == imagenet.mean && spec.std == imagenet.std) {
      out.push_back("data.normalize=\"imagenet\"");
    } else if (spec.mean == InputSpec{}.mean && spec.std == InputSpec{}.std) {
      out.push_back("data.normalize=\"none\"");
    } else {
      log::warn(
          "cpsd predict: the backbone expects a mean and std data.normalize cannot "
          "express; the input is pixels / 255");
    }
  }
  return out;
}

// A model built from a config (and pretrained weights) rather than a checkpoint.
engine::SavedModel model_from_config(const std::string& file, std::vector<std::string> overrides,
                                     const std::string& pretrained, const std::string& classes_file,
                                     const Registry& registry) {
  if (!pretrained.empty()) {
    overrides.push_back("model.pretrained=\"" + std::filesystem::absolute(pretrained).string() +
                        "\"");
  }
  RunConfig config = RunConfig::load(file, overrides, registry);
  std::vector<std::string> names;
  const int64_t n = config.section("model").get_int("num_classes");
  if (!classes_file.empty()) {
    names = data::read_class_list(classes_file);
  } else if (n > 0) {
    for (int64_t i = 0; i < n; ++i) names.push_back("class_" + std::to_string(i));
  } else {
    names = data::load_dataset(config, data::Split::train).class_names;
  }
  engine::CheckpointMeta meta;
  meta.class_names = names;
  for (std::size_t i = 0; i < names.size(); ++i)
    meta.class_indices.push_back(static_cast<int64_t>(i));
  auto model = build_model(config, registry, names);
  model->eval();
  const std::vector<std::string> input = backbone_input(config, model->backbone().input_spec());
  if (!input.empty()) {
    overrides.insert(overrides.end(), input.begin(), input.end());
    config = RunConfig::load(file, overrides, registry);
  }
  const data::PipelineOptions p = data::pipeline_options(config, false);
  log::info(
      "cpsd predict: input {} px, {} (data.image_size, data.normalize)", p.image_size,
      p.normalization == data::Normalization::imagenet ? "ImageNet mean and std" : "pixels / 255");
  return engine::SavedModel{std::move(meta), std::move(config), std::move(model), "pretrained"};
}

}  // namespace

int run_predict(const std::vector<std::string>& args, Context& context) {
  std::string checkpoint, out, thresholds_file, weights = "best", config_file, pretrained,
                                                classes_file;
  std::vector<std::string> overrides;
  std::vector<std::string> inputs;
  double threshold = 0.5;
  CommandLine cli("predict",
                  "(--checkpoint CKPT | --config RUN.toml [--pretrained W]) --out "
                  "FILE.csv|FILE.json IMAGES...|DIR");
  cli.positional("inputs", &inputs, "images or directories", -1);
  cli.add()("checkpoint", po::value(&checkpoint), "a cpsd checkpoint")(
      "config", po::value(&config_file),
      "instead of a checkpoint: a run config whose model to build ...")(
      "pretrained", po::value(&pretrained),
      "... with these weights (e.g. a torchvision or timm classifier)")(
      "classes", po::value(&classes_file),
      "class names, one per line (default: the dataset's, or class_<i>)")(
      "set", po::value(&overrides)->composing(), "override a config key (repeatable)")(
      "out", po::value(&out), "FILE.csv or FILE.json")(
      "threshold", po::value(&threshold), "sigmoid threshold for the predicted labels (0.5)")(
      "thresholds", po::value(&thresholds_file),
      "per-class thresholds: CSV name,threshold or JSON object")("weights", po::value(&weights),
                                                                 "best (default) | model | ema");
  if (!cli.parse(args)) return 0;
  if (checkpoint.empty() == config_file.empty()) {
    throw ConfigError(
        "cpsd predict: give either --checkpoint FILE or --config RUN.toml [--pretrained WEIGHTS]");
  }
  if (out.empty()) throw ConfigError("cpsd predict: missing --out FILE.csv or FILE.json");
  const std::string ext = fs::path(out).extension().string();
  if (ext != ".csv" && ext != ".json")
    throw ConfigError("cpsd predict: --out must end in .csv or .json");
  if (inputs.empty()) throw ConfigError("cpsd predict: give images or directories to predict");
  if (threshold <= 0 || threshold >= 1)
    throw ConfigError("cpsd predict: --threshold must be in (0, 1)");
  const Registry& registry = context.plugins(cli.common).registry();
  engine::SavedModel saved =
      checkpoint.empty()
          ? model_from_config(config_file, overrides, pretrained, classes_file, registry)
          : engine::load_saved_model(checkpoint, registry, weights, std::nullopt);
  apply_runtime(saved.config);
  const std::vector<std::string>& classes = saved.meta.class_names;
  const std::vector<double> limits = thresholds_file.empty()
                                         ? std::vector<double>(classes.size(), threshold)
                                         : read_thresholds(thresholds_file, classes, threshold);

  auto images = std::make_shared<data::Dataset>();
  images->name = "images";
  images->class_names = classes;
  for (const std::string& p : image_paths(inputs)) images->samples.push_back({p, {}, {}});
  auto loader = data::make_loader(saved.config, images, false,
                                  saved.config.section("train").get_int("batch_size"));
  std::vector<int64_t> all(classes.size());
  for (std::size_t c = 0; c < all.size(); ++c) all[c] = static_cast<int64_t>(c);
  const engine::Predictions p = engine::predict(*saved.model, *loader, all);
  const at::Tensor scores = at::sigmoid(p.logits).to(at::kDouble).contiguous();
  const double* s = scores.data_ptr<double>();
  const std::size_t m = classes.size();

  std::string text;
  if (ext == ".csv") {
    text = "image";
    for (const std::string& c : classes) text += "," + c;
    text += ",labels\n";
  }
  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t i = 0; i < p.indices.size(); ++i) {
    const std::string& path = images->samples[p.indices[i]].path;
    std::vector<std::string> labels;
    nlohmann::json score_map = nlohmann::json::object();
    std::string line = path;
    for (std::size_t c = 0; c < m; ++c) {
      const double v = s[i * m + c];
      if (v >= limits[c]) labels.push_back(classes[c]);
      char buffer[32];
      std::snprintf(buffer, sizeof(buffer), ",%.6f", v);
      line += buffer;
      score_map[classes[c]] = v;
    }
    std::string joined;
    for (const std::string& l : labels) joined += (joined.empty() ? "" : ";") + l;
    text += line + "," + joined + "\n";
    rows.push_back({{"image", path}, {"scores", score_map}, {"labels", labels}});
  }
  write_file_atomically(out, ext == ".csv" ? text : rows.dump(2) + "\n");
  std::printf("predicted %zu images with %s: %s\n", p.indices.size(),
              checkpoint.empty() ? config_file.c_str() : checkpoint.c_str(), out.c_str());
  return 0;
}

}  // namespace cpsd::cli
