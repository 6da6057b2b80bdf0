// SPDX-License-Identifier: Apache-2.0
// PluginManager: finds plugin files, checks their handshake, fills the Registry.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cpsd/core/export.h"
#include "cpsd/core/registry.h"
#include "cpsd/sdk/plugin_abi.h"

namespace cpsd {

/// One place to look for plugins and where it came from ("--plugin-path",
/// "CPSD_PLUGIN_PATH", "default").
struct SearchEntry {
  std::filesystem::path path;  ///< a directory (scanned for *cpsd_plugin_*.so) or a file
  std::string origin;
};

/// What happened to one plugin file.
struct PluginReport {
  std::string file;
  bool loaded = false;
  std::string reason;  ///< why it was skipped (empty when loaded)
  std::string plugin_name;
  std::string plugin_version;
  std::string sdk_version;
  uint32_t abi_major = 0;
  uint32_t api_minor = 0;
  std::string fingerprint;        ///< e.g. "torch 1.13.0, cxx11-abi 1, gcc 12.2.0, cpu"
  std::vector<std::string> keys;  ///< "kind/name" it provides (or would have provided)
  std::vector<std::string> warnings;
};

/// "torch 1.13.0, cxx11-abi 1, gcc 12.2.0, cpu"
CPSD_CORE_API std::string describe_fingerprint(const cpsd_build_fingerprint& fingerprint);
/// The fingerprint of this host build (same fields a plugin reports).
CPSD_CORE_API cpsd_build_fingerprint host_fingerprint();

/// Loads plugins and owns the Registry. Construct it first in main() and destroy it
/// last: libraries are never unloaded before process exit (objects, deleters and
/// autograd nodes may point into their code), so destruction only runs the plugins'
/// shutdown hooks.
class CPSD_CORE_API PluginManager {
 public:
  PluginManager();
  ~PluginManager();
  PluginManager(const PluginManager&) = delete;
  PluginManager& operator=(const PluginManager&) = delete;

  /// The search path: `cli_paths` (--plugin-path), then CPSD_PLUGIN_PATH (':'-separated),
  /// then <directory of libcpsd_core.so>/cpsd/plugins (the install's plugin directory) unless
  /// `include_default` is false. Throws ConfigError for a --plugin-path that does not exist.
  static std::vector<SearchEntry> search_path(const std::vector<std::string>& cli_paths,
                                              bool include_default = true);

  /// Scans every entry in order (files in a directory sorted by name; the same file seen
  /// twice is read once), checks each plugin file and registers its factories. A bad file
  /// is skipped with a warning and recorded in reports(). Throws ConfigError on a duplicate
  /// kind/name unless allow_override.
  void load(const std::vector<SearchEntry>& search_path, bool allow_override = false);

  const Registry& registry() const { return registry_; }
  const std::vector<PluginReport>& reports() const { return reports_; }
  const std::vector<SearchEntry>& searched() const { return searched_; }

 private:
  void load_file(const std::filesystem::path& file, bool allow_override);

  Registry registry_;
  std::vector<PluginReport> reports_;
  std::vector<SearchEntry> searched_;
  std::vector<std::string> seen_;  // canonical paths already read
  std::vector<void (*)()> shutdown_hooks_;
};

}  // namespace cpsd
