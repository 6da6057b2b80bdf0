// SPDX-License-Identifier: Apache-2.0
// `cpsd run CONFIG` and `cpsd distill`: the whole pipeline, or one student method of it.
#include <iostream>

#include "cli.h"
#include "cpsd/core/engine/pipeline.h"
#include "cpsd/core/runtime.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {
namespace {

int run_with(const std::string& command, const std::vector<std::string>& args, Context& context,
             bool single_method) {
  CommonOptions common;
  std::string file, method;
  std::vector<std::string> overrides;
  po::options_description hidden;
  hidden.add_options()("file", po::value(&file), "run config");
  po::options_description options("Options");
  options.add_options()
      ("config", po::value(&file), "run config (TOML)")
      ("set", po::value(&overrides)->composing(), "override a config key (repeatable)");
  if (single_method) {
    options.add_options()("method", po::value(&method)->default_value("cpsd"),
                          "student to train: sd | cgpd | dgpd | cpsd | random");
  }
  add_common_options(options, common);
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map values;
  const std::string usage = single_method ? "--config RUN.toml [--method cpsd] [options]" : "CONFIG [options]";
  if (!parse(command, usage, args, options, hidden, positional, values)) return 0;
  if (file.empty()) throw ConfigError("cpsd " + command + ": missing the run config");
  if (single_method) {
    if (method == "baseline") throw ConfigError("cpsd distill: baseline has no teachers; use `cpsd train`");
    overrides.push_back("run.methods=[\"" + method + "\"]");
  }
  const Registry& registry = context.plugins(common).registry();
  const RunConfig config = RunConfig::load(file, overrides, registry);
  apply_runtime(config);
  const engine::PipelineReport report = engine::run_pipeline(config, registry);
  std::cout << engine::results_table(report, config.section("train").get_double("threshold"));
  return 0;
}

}  // namespace

int run_run(const std::vector<std::string>& args, Context& context) {
  return run_with("run", args, context, false);
}

int run_distill(const std::vector<std::string>& args, Context& context) {
  return run_with("distill", args, context, true);
}

}  // namespace cpsd::cli
