// SPDX-License-Identifier: Apache-2.0
// `cpsd config check FILE` and `cpsd config show FILE`.
#include <iostream>

#include "cli.h"
#include "cpsd/core/run_config.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {

int run_config(const std::vector<std::string>& args, Context& context) {
  CommonOptions common;
  std::string action;
  std::string file;
  std::vector<std::string> overrides;
  bool defaults = false;
  po::options_description hidden;
  hidden.add_options()
      ("action", po::value(&action), "check | show")
      ("file", po::value(&file), "run config (TOML)");
  po::options_description options("Options");
  options.add_options()
      ("set", po::value(&overrides)->composing(),
       "override a key, e.g. --set runtime.threads=2 (repeatable; value is TOML or a bare word)")
      ("defaults", po::bool_switch(&defaults), "show: print the host's sections with their defaults");
  add_common_options(options, common);
  po::positional_options_description positional;
  positional.add("action", 1).add("file", 1);
  po::variables_map values;
  if (!parse("config", "check|show FILE [--set KEY=VALUE ...] [options]", args, options, hidden,
             positional, values)) {
    return 0;
  }
  if (action != "check" && action != "show") {
    throw ConfigError("cpsd config: expected `check FILE` or `show FILE`" +
                      (action.empty() ? std::string() : ", got '" + action + "'"));
  }
  if (action == "show" && defaults && file.empty()) {
    std::cout << host_defaults_toml();
    return 0;
  }
  if (file.empty()) throw ConfigError("cpsd config " + action + ": missing the config FILE");
  const RunConfig config = RunConfig::load(file, overrides, context.plugins(common).registry());
  if (action == "show") {
    std::cout << config.to_toml();
    return 0;
  }
  std::cout << file << ": ok";
  std::string sep = " (";
  for (Kind kind : kAllKinds) {
    const std::string name = config.selected(kind);
    if (name.empty()) continue;
    std::cout << sep << kind_name(kind) << '/' << name;
    sep = ", ";
  }
  std::cout << (sep == ", " ? ")" : "") << '\n';
  return 0;
}

}  // namespace cpsd::cli
