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

/// The command line of one subcommand: its options, its positional arguments, the common
/// options and --help, parsed in one place.
///
///   CommandLine cli("train", "--config RUN.toml [--part CGP:i] [options]");
///   cli.config(file).overrides(sets);
///   cli.add()("fresh", po::bool_switch(&fresh), "start over");
///   if (!cli.parse(args)) return 0;  // --help was printed
class CommandLine {
 public:
  /// `common_options` adds --plugin-path, --no-default-plugins, --allow-override, --log-level.
  CommandLine(std::string command, std::string usage, bool common_options = true);

  /// Adds visible options: add()("name", po::value(&x), "help")...
  po::options_description_easy_init add() { return options_.add_options(); }
  po::options_description& options() { return options_; }
  /// A positional argument (not listed under Options); count -1 takes all the rest.
  template <typename T>
  CommandLine& positional(const char* name, T* target, const char* help, int count = 1) {
    hidden_.add_options()(name, po::value(target), help);
    positional_.add(name, count);
    return *this;
  }
  /// --config FILE.
  CommandLine& config(std::string& file);
  /// --set KEY=VALUE, repeatable.
  CommandLine& overrides(std::vector<std::string>& sets);

  /// Parses `args`; prints the help and returns false for --help. A mistake is a ConfigError
  /// pointing at `cpsd <command> --help`.
  bool parse(const std::vector<std::string>& args);
  /// Whether the option was given on the command line (not only defaulted).
  bool given(const char* name) const {
    return values_.count(name) != 0 && !values_[name].defaulted();
  }

  CommonOptions common;

 private:
  std::string command_, usage_;
  po::options_description options_{"Options"}, hidden_;
  po::positional_options_description positional_;
  po::variables_map values_;
};

// Subcommand entry points (one file each).
int run_plugins(const std::vector<std::string>& args, Context& context);
int run_config(const std::vector<std::string>& args, Context& context);
int run_model(const std::vector<std::string>& args, Context& context);
int run_partition(const std::vector<std::string>& args, Context& context);
int run_data(const std::vector<std::string>& args, Context& context);
int run_run(const std::vector<std::string>& args, Context& context);
int run_distill(const std::vector<std::string>& args, Context& context);
int run_sweep(const std::vector<std::string>& args, Context& context);
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
