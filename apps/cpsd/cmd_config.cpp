// SPDX-License-Identifier: Apache-2.0
// `cpsd config check FILE` and `cpsd config show FILE`.
#include <iostream>

#include "cli.h"
#include "cpsd/core/engine/plan.h"
#include "cpsd/core/run_config.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {

int run_config(const std::vector<std::string>& args, Context& context) {
  std::string action;
  std::string file;
  std::vector<std::string> overrides;
  bool defaults = false;
  CommandLine cli("config", "check|show FILE [--set KEY=VALUE ...] [options]");
  cli.positional("action", &action, "check | show").positional("file", &file, "run config (TOML)");
  cli.overrides(overrides);
  cli.add()("defaults", po::bool_switch(&defaults),
            "show: print the host's sections with their defaults");
  if (!cli.parse(args)) return 0;
  if (action != "check" && action != "show") {
    throw ConfigError("cpsd config: expected `check FILE` or `show FILE`" +
                      (action.empty() ? std::string() : ", got '" + action + "'"));
  }
  if (action == "show" && defaults && file.empty()) {
    std::cout << host_defaults_toml();
    return 0;
  }
  if (file.empty()) throw ConfigError("cpsd config " + action + ": missing the config FILE");
  const RunConfig config = RunConfig::load(file, overrides, context.plugins(cli.common).registry());
  if (action == "show") {
    std::cout << config.to_toml();
    return 0;
  }
  // Check builds the whole plan: every method, branch and stage choice, before any data.
  const engine::RunPlan plan = engine::make_plan(config, context.plugins(cli.common).registry());
  std::cout << file << ": ok";
  std::string sep = " (";
  for (Kind kind : kAllKinds) {
    const std::string name = config.selected(kind);
    if (name.empty()) continue;
    std::cout << sep << kind_name(kind) << '/' << name;
    sep = ", ";
  }
  std::cout << (sep == ", " ? ")" : "") << '\n';
  for (const engine::MethodSpec& m : plan.methods) {
    std::cout << "  method " << m.name << ": ";
    if (m.branches.empty()) std::cout << "the baseline";
    for (std::size_t i = 0; i < m.branches.size(); ++i) {
      const engine::BranchSpec& b = plan.branch(m.branches[i]);
      std::cout << (i ? " + " : "") << b.name << " (decomposer/" << b.decomposer << ", k = " << b.k
                << (b.owns_teachers() ? "" : ", the teachers of " + b.teachers_of) << ")";
    }
    std::cout << '\n';
  }
  return 0;
}

}  // namespace cpsd::cli
