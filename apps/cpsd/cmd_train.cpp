// SPDX-License-Identifier: Apache-2.0
// `cpsd train`: one model: the baseline, or one teacher (--part CGP:i), e.g. per cluster job.
#include <cstdio>
#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "cli.h"
#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/engine/pipeline.h"
#include "cpsd/core/engine/trainer.h"
#include "cpsd/core/runtime.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {
namespace {

struct Part {
  std::string branch;  // "" = the baseline
  int64_t index = 0;
};

// "CGP:3", "dgp:0", "random:1", "full", or "auto" (SLURM_ARRAY_TASK_ID over the run's branches).
Part parse_part(const std::string& text, const RunConfig& config) {
  if (text.empty()) return {};
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const int64_t k = config.section("partition").get_int("k");
  if (lower == "full") return {"full", 0};
  if (lower == "auto") {
    const char* task = std::getenv("SLURM_ARRAY_TASK_ID");
    if (task == nullptr) throw ConfigError("--part auto needs SLURM_ARRAY_TASK_ID (a Slurm job array)");
    std::vector<std::string> branches;
    for (const std::string& m : config.section("run").get_string_list("methods")) {
      for (const std::string& b : engine::branches_of(m)) {
        if (std::find(branches.begin(), branches.end(), b) == branches.end()) branches.push_back(b);
      }
    }
    std::sort(branches.begin(), branches.end());
    std::vector<Part> parts;
    for (const std::string& b : branches) {
      for (int64_t i = 0; i < (b == "full" ? 1 : k); ++i) parts.push_back({b, i});
    }
    const long id = std::strtol(task, nullptr, 10);
    if (id < 0 || id >= static_cast<long>(parts.size())) {
      throw ConfigError("SLURM_ARRAY_TASK_ID " + std::string(task) + " is outside the run's " +
                        std::to_string(parts.size()) + " teachers (use --array=0-" +
                        std::to_string(parts.size() - 1) + ")");
    }
    return parts[static_cast<std::size_t>(id)];
  }
  const auto colon = lower.find(':');
  if (colon == std::string::npos) throw ConfigError("--part '" + text + "': expected BRANCH:INDEX, e.g. CGP:0");
  Part p{lower.substr(0, colon), 0};
  try {
    p.index = std::stoll(lower.substr(colon + 1));
  } catch (const std::exception&) {
    throw ConfigError("--part '" + text + "': the index after ':' must be a number");
  }
  if (p.index < 0 || p.index >= k) {
    throw ConfigError("--part '" + text + "': index must be 0.." + std::to_string(k - 1) + " (partition.k = " +
                      std::to_string(k) + ")");
  }
  return p;
}

}  // namespace

int run_train(const std::vector<std::string>& args, Context& context) {
  CommonOptions common;
  std::string file, part_text;
  std::vector<std::string> overrides;
  bool fresh = false;
  po::options_description hidden;
  po::options_description options("Options");
  options.add_options()
      ("config", po::value(&file), "run config (TOML)")
      ("part", po::value(&part_text), "train one teacher: CGP:i, DGP:i, RANDOM:i, FULL, or auto (SLURM_ARRAY_TASK_ID)")
      ("set", po::value(&overrides)->composing(), "override a config key (repeatable)")
      ("fresh", po::bool_switch(&fresh), "start over instead of resuming from last.ckpt");
  add_common_options(options, common);
  po::positional_options_description positional;
  po::variables_map values;
  if (!parse("train", "--config RUN.toml [--part CGP:i] [options]", args, options, hidden, positional, values)) {
    return 0;
  }
  if (file.empty()) throw ConfigError("cpsd train: missing --config FILE");
  const Registry& registry = context.plugins(common).registry();
  const RunConfig config = RunConfig::load(file, overrides, registry);
  apply_runtime(config);
  const Part part = parse_part(part_text, config);
  const std::filesystem::path run_dir = engine::run_directory(config);
  auto train = std::make_shared<const data::Dataset>(data::load_dataset(config, data::Split::train));
  auto val = std::make_shared<const data::Dataset>(data::load_dataset(config, data::Split::val));
  if (val->class_names != train->class_names) throw ConfigError("the validation split's classes differ from the training split's");

  const engine::TrainSettings settings = engine::read_train_settings(config, part.branch.empty() ? "train" : "teachers");
  std::vector<int64_t> classes;
  std::string name = "baseline";
  std::filesystem::path dir = run_dir / "baseline";
  if (part.branch.empty()) {
    for (int64_t c = 0; c < train->num_classes(); ++c) classes.push_back(c);
  } else {
    const auto groups = engine::partition_groups(part.branch, config, registry, data::dataset_statistics(*train),
                                                 run_dir / "partitions");
    classes = groups[static_cast<std::size_t>(part.index)];
    name = part.branch + "_" + std::to_string(part.index);
    dir = run_dir / "teachers" / name;
  }
  std::vector<engine::Job> jobs = {engine::make_job(config, registry, *train, name, classes, dir, settings.ema)};
  jobs[0].positives_only = !part.branch.empty() && config.section("teachers").get_string("images") == "positive";
  if (!part.branch.empty() && config.section("teachers").get_string("init") == "baseline") {
    engine::start_from_baseline(jobs, config, registry, *train, run_dir / "baseline");
  }
  const engine::JobResult r = engine::train_jobs(jobs, settings, config, train, val, !fresh).front();
  std::printf("%s: best mAP %.2f at epoch %lld (%s weights): %s\n", name.c_str(), r.best_map,
              static_cast<long long>(r.best_epoch), r.best_source.c_str(), (dir / "best.ckpt").c_str());
  return 0;
}

}  // namespace cpsd::cli
