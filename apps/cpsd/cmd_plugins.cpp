// SPDX-License-Identifier: Apache-2.0
// `cpsd plugins [list]` and `cpsd plugins show KIND/NAME`.
#include <algorithm>
#include <iomanip>
#include <iostream>

#include "cli.h"
#include "cpsd/core/text.h"
#include "cpsd/sdk/error.h"
#include "cpsd/sdk/plugin_abi.h"
#include "cpsd/sdk/version.h"

namespace cpsd::cli {
namespace {

void print_inventory(const PluginManager& manager) {
  std::cout << "cpsd " << CPSD_VERSION << " (plugin ABI " << CPSD_PLUGIN_ABI_MAJOR << '.'
            << CPSD_PLUGIN_API_MINOR << ", " << describe_fingerprint(host_fingerprint()) << ")\n";
  std::cout << "search path:\n";
  for (const SearchEntry& s : manager.searched()) {
    std::cout << "  " << s.path.string() << "  [" << s.origin << "]\n";
  }
  std::size_t loaded = 0;
  std::size_t names = 0;
  for (const PluginReport& r : manager.reports()) {
    if (!r.loaded) continue;
    ++loaded;
    std::cout << '\n' << r.plugin_name << ' ' << r.plugin_version << "  " << r.file << '\n';
    std::cout << "  ABI " << r.abi_major << '.' << r.api_minor << ", SDK " << r.sdk_version << ", "
              << r.fingerprint << '\n';
    for (const std::string& w : r.warnings) std::cout << "  warning: " << w << '\n';
    std::vector<std::string> keys = r.keys;
    std::sort(keys.begin(), keys.end());
    for (const std::string& key : keys) {
      const auto slash = key.find('/');
      const Kind kind = *parse_kind(key.substr(0, slash));
      const std::string name = key.substr(slash + 1);
      const Registry& reg = manager.registry();
      // A key lost to --allow-override belongs to another file.
      const bool owner = reg.contains(kind, name) && reg.info(kind, name).file == r.file;
      std::cout << "  " << std::left << std::setw(28) << key
                << (owner ? reg.info(kind, name).summary : "(overridden by an earlier plugin)")
                << '\n';
      names += owner ? 1 : 0;
    }
  }
  std::vector<const PluginReport*> skipped;
  for (const PluginReport& r : manager.reports()) {
    if (!r.loaded) skipped.push_back(&r);
  }
  if (!skipped.empty()) {
    std::cout << "\nskipped " << skipped.size() << (skipped.size() == 1 ? " file" : " files")
              << ":\n";
    for (const PluginReport* r : skipped) std::cout << "  " << r->file << ": " << r->reason << '\n';
  }
  std::cout << '\n' << names << " implementations from " << loaded << " plugins";
  if (loaded == 0) std::cout << " (add a directory with --plugin-path or CPSD_PLUGIN_PATH)";
  std::cout << '\n';
}

void print_defaults(const PluginManager& manager, const std::string& target) {
  const auto slash = target.find('/');
  const std::optional<Kind> kind = parse_kind(target.substr(0, std::min(slash, target.size())));
  if (slash == std::string::npos || !kind) {
    throw ConfigError(
        "cpsd plugins show: '" + target +
        "' is not KIND/NAME (kinds: backbone, head, loss, decomposer), e.g. head/linear");
  }
  const FactoryInfo& info = manager.registry().info(*kind, target.substr(slash + 1));
  std::cout << "# " << info.key() << ": " << info.summary << '\n'
            << "# provided by plugin '" << info.plugin_name << "' (" << info.file << ")\n"
            << "# set these in a run config under [" << kind_name(info.kind) << '.' << info.name
            << "]\n\n"
            << info.defaults_toml;
  if (!info.defaults_toml.empty() && info.defaults_toml.back() != '\n') std::cout << '\n';
}

}  // namespace

int run_plugins(const std::vector<std::string>& args, Context& context) {
  std::string action = "list";
  std::string target;
  CommandLine cli("plugins", "[list | show KIND/NAME] [options]");
  cli.positional("action", &action, "list (default) | show", 1);
  cli.positional("target", &target, "KIND/NAME for show, e.g. backbone/resnet101", 1);
  if (!cli.parse(args)) return 0;
  if (action == "list") {
    if (!target.empty())
      throw ConfigError("cpsd plugins list: takes no argument, got '" + target + "'");
    print_inventory(context.plugins(cli.common));
  } else if (action == "show") {
    if (target.empty()) throw ConfigError("cpsd plugins show: missing KIND/NAME, e.g. head/linear");
    print_defaults(context.plugins(cli.common), target);
  } else {
    throw ConfigError("cpsd plugins: unknown action '" + action + "' (use list or show)");
  }
  return 0;
}

}  // namespace cpsd::cli
