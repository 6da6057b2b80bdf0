// SPDX-License-Identifier: Apache-2.0
// `cpsd run CONFIG` and `cpsd distill`: the whole pipeline, or one student method of it.
#include <iostream>

#include "cli.h"
#include "cpsd/core/engine/pipeline.h"
#include "cpsd/core/engine/plan.h"
#include "cpsd/core/runtime.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {
namespace {

int run_with(const std::string& command, const std::vector<std::string>& args, Context& context,
             bool single_method) {
  std::string file, method;
  std::vector<std::string> overrides;
  const std::string usage =
      single_method ? "--config RUN.toml --method NAME [options]" : "CONFIG [options]";
  CommandLine cli(command, usage);
  cli.positional("file", &file, "run config", 1);
  cli.add()("config", po::value(&file), "run config (TOML)")(
      "set", po::value(&overrides)->composing(), "override a config key (repeatable)");
  if (single_method) {
    cli.add()("method", po::value(&method),
              "the method whose student to train (one of the config's [methods] with branches)");
  }
  if (!cli.parse(args)) return 0;
  if (file.empty()) throw ConfigError("cpsd " + command + ": missing the run config");
  const Registry& registry = context.plugins(cli.common).registry();
  const RunConfig config = RunConfig::load(file, overrides, registry);
  apply_runtime(config);
  if (single_method && method.empty())
    throw ConfigError("cpsd distill: missing --method NAME (one of [methods])");
  const engine::RunPlan plan = engine::make_plan(
      config, registry,
      single_method ? std::vector<std::string>{method} : std::vector<std::string>{});
  if (plan.methods.empty()) {
    throw ConfigError(
        file +
        ": no method to run: define [methods] (the paper's: base = "
        "[\".../configs/_base_/methods/paper.toml\"]) and choose them with run.methods");
  }
  if (single_method) {
    if (plan.methods.front().branches.empty()) {
      throw ConfigError("cpsd distill: method '" + method +
                        "' has no teachers (it is the baseline); use `cpsd train`");
    }
  }
  const engine::PipelineReport report = engine::run_pipeline(plan, config, registry);
  std::cout << engine::results_table(report, plan.train.threshold);
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
