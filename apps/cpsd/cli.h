// SPDX-License-Identifier: Apache-2.0
// Shared pieces of the `cpsd` subcommands: the command table, common options, parsing.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "cpsd/core/plugin_manager.h"

namespace cpsd::cli {

namespace po = boost::program_options;

/// Options every subcommand accepts.
struct CommonOptions {
  std::vector<std::string> plugin_paths;
  bool allow_override = false;
  bool no_default_plugins = false;
  std::string log_level;  ///< "" = the config's runtime.log_level
};

/// State shared by the commands of one process. Owns the PluginManager, which must
/// outlive every object created through its registry.
class Context {
 public:
  /// Loads plugins once (search path from `common`) and returns the manager.
  PluginManager& plugins(const CommonOptions& common);

 private:
  std::unique_ptr<PluginManager> manager_;
};

/// A subcommand: `cpsd <name> ...`. `run` gets the arguments after the name and returns
/// the exit code; it throws ConfigError for usage mistakes.
struct Command {
  std::string name;
  std::string summary;
  std::function<int(const std::vector<std::string>& args, Context& context)> run;
};

/// All subcommands, in help order.
const std::vector<Command>& commands();

/// Adds --plugin-path, --allow-override, --no-default-plugins and --log-level.
void add_common_options(po::options_description& description, CommonOptions& common);

/// Parses `args` for `command` ("config check"); prints help (`options` only, not the
/// `positional` arguments declared in `hidden`) and returns false when --help was given.
/// Turns parse errors into ConfigError pointing at `--help`.
bool parse(const std::string& command, const std::string& usage, const std::vector<std::string>& args,
           po::options_description& options, const po::options_description& hidden,
           const po::positional_options_description& positional, po::variables_map& values);

// Subcommand entry points (one file each).
int run_plugins(const std::vector<std::string>& args, Context& context);
int run_config(const std::vector<std::string>& args, Context& context);
int run_model(const std::vector<std::string>& args, Context& context);
int run_partition(const std::vector<std::string>& args, Context& context);
int run_data(const std::vector<std::string>& args, Context& context);
int run_run(const std::vector<std::string>& args, Context& context);
int run_distill(const std::vector<std::string>& args, Context& context);
int run_pretrain(const std::vector<std::string>& args, Context& context);
int run_train(const std::vector<std::string>& args, Context& context);
int run_eval(const std::vector<std::string>& args, Context& context);
int run_predict(const std::vector<std::string>& args, Context& context);
int run_export(const std::vector<std::string>& args, Context& context);
int run_launch(const std::vector<std::string>& args, Context& context);
int run_cam(const std::vector<std::string>& args, Context& context);
int run_plot(const std::vector<std::string>& args, Context& context);
int run_report(const std::vector<std::string>& args, Context& context);

}  // namespace cpsd::cli
