// SPDX-License-Identifier: Apache-2.0
#include "cli.h"

#include <iostream>

#include "cpsd/core/log.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {

PluginManager& Context::plugins(const CommonOptions& common) {
  if (!manager_) {
    if (!common.log_level.empty()) log::force_level(common.log_level);
    manager_ = std::make_unique<PluginManager>();
    manager_->load(PluginManager::search_path(common.plugin_paths, !common.no_default_plugins),
                   common.allow_override);
  }
  return *manager_;
}

const std::vector<Command>& commands() {
  static const std::vector<Command> list = {
      {"plugins", "list the installed plugins, or show one implementation's options", run_plugins},
      {"config", "check a run config or print it fully resolved", run_config},
      {"run", "the whole pipeline: partitions, baseline, teachers, students, results table",
       run_run},
      {"sweep",
       "a grid of runs (axes of overrides x seeds) and its summary: mean, spread, paired gains",
       run_sweep},
      {"pretrain",
       "single-label pretraining of a backbone (ImageNet layout, fashion-items) for "
       "model.pretrained",
       run_pretrain},
      {"train", "train one model: the baseline, or one teacher (--part CGP:i)", run_train},
      {"distill",
       "train the student of one method (of the config's [methods]) from the run's teachers",
       run_distill},
      {"eval", "metrics of a checkpoint on the validation set, per-class AP", run_eval},
      {"predict", "scores and labels of images with a checkpoint", run_predict},
      {"cam", "class activation maps of checkpoints over images (the paper's Fig. 4)", run_cam},
      {"plot", "learning curves of a run as PNG charts", run_plot},
      {"report", "one HTML page of a run: results, curves, partitions, activation maps",
       run_report},
      {"launch", "start N local ranks of a command (multi-process training over c10d/Gloo)",
       run_launch},
      {"export", "write a checkpoint's weights for PyTorch (torch.load)", run_export},
      {"data", "check a dataset, count its label statistics, make the demo dataset, time loading",
       run_data},
      {"partition", "split the label set into k sub-tasks (CGP, DGP, random, ...)", run_partition},
      {"model", "build the configured model and describe it", run_model},
  };
  return list;
}

CommandLine::CommandLine(std::string command, std::string usage, bool common_options)
    : command_(std::move(command)), usage_(std::move(usage)) {
  if (!common_options) return;
  options_.add_options()(
      "plugin-path", po::value(&common.plugin_paths)->composing(),
      "directory or file to load plugins from, searched before CPSD_PLUGIN_PATH and the "
      "install's plugin directory (repeatable)")("no-default-plugins",
                                                 po::bool_switch(&common.no_default_plugins),
                                                 "do not search the install's plugin directory")(
      "allow-override", po::bool_switch(&common.allow_override),
      "a name provided twice keeps the first one found instead of failing")(
      "log-level", po::value(&common.log_level),
      "trace | debug | info | warn | error | off (default: runtime.log_level, info)");
}

CommandLine& CommandLine::config(std::string& file) {
  options_.add_options()("config", po::value(&file), "run config (TOML)");
  return *this;
}

CommandLine& CommandLine::overrides(std::vector<std::string>& sets) {
  options_.add_options()(
      "set", po::value(&sets)->composing(),
      "override a config key, e.g. --set runtime.threads=2 (repeatable; the value is TOML or "
      "a bare word)");
  return *this;
}

bool CommandLine::parse(const std::vector<std::string>& args) {
  options_.add_options()("help,h", "show this help");
  po::options_description all;
  all.add(options_).add(hidden_);
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional_).run(), values_);
    if (values_.count("help") != 0) {
      std::cout << "usage: cpsd " << command_ << ' ' << usage_ << "\n\n" << options_ << '\n';
      return false;
    }
    po::notify(values_);
  } catch (const po::error& e) {
    throw ConfigError("cpsd " + command_ + ": " + e.what() + " (see `cpsd " + command_ +
                      " --help`)");
  }
  return true;
}

}  // namespace cpsd::cli
