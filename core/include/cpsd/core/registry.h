// SPDX-License-Identifier: Apache-2.0
// Registry: "kind/name" -> factory of a loaded plugin, and typed creation through it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cpsd/core/export.h"
#include "cpsd/core/kind.h"
#include "cpsd/sdk/backbone.h"
#include "cpsd/sdk/decomposer.h"
#include "cpsd/sdk/head.h"
#include "cpsd/sdk/loss.h"
#include "cpsd/sdk/plugin_abi.h"

namespace boost::dll {
class shared_library;
}

namespace cpsd {

/// What the registry knows about one implementation.
struct CPSD_CORE_API FactoryInfo {
  Kind kind = Kind::backbone;
  std::string name;           ///< e.g. "resnet101"
  std::string summary;        ///< one line
  std::string defaults_toml;  ///< every option with its default
  std::string file;           ///< plugin file that provides it
  std::string plugin_name;    ///< that plugin's self-reported name
  std::string key() const;    ///< "kind/name"
};

/// Registered factories, keyed "kind/name". Filled by PluginManager after each plugin's
/// handshake; read-only afterwards. Objects it creates keep their plugin loaded.
class CPSD_CORE_API Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  bool contains(Kind kind, std::string_view name) const;
  /// Throws ConfigError with unknown_message() when absent. Follows aliases (with a warning).
  const FactoryInfo& info(Kind kind, std::string_view name) const;
  /// Sorted by name.
  std::vector<const FactoryInfo*> list(Kind kind) const;
  std::vector<std::string> names(Kind kind) const;

  /// "unknown backbone 'x' (available: a, b; did you mean 'y'?)", or, for a name only a
  /// skipped plugin provides, why that plugin was not loaded.
  std::string unknown_message(Kind kind, std::string_view name) const;

  /// Typed creation. Errors thrown inside the plugin come back as ConfigError (bad
  /// options) or RuntimeError, prefixed with "kind/name (file)".
  std::shared_ptr<Backbone> create_backbone(std::string_view name, const BackboneArgs& args) const;
  std::shared_ptr<Head> create_head(std::string_view name, const HeadArgs& args) const;
  std::shared_ptr<Loss> create_loss(std::string_view name, const LossArgs& args) const;
  std::shared_ptr<Decomposer> create_decomposer(std::string_view name,
                                                const DecomposerArgs& args) const;

  // For PluginManager.
  using Library = std::shared_ptr<boost::dll::shared_library>;
  /// Adds a factory; throws ConfigError naming both files on a duplicate key unless
  /// allow_override, in which case the first one stays and a warning is logged.
  void add(FactoryInfo info, const cpsd_factory_record* record, Library library,
           bool allow_override);
  /// Remembers that `name` exists in a plugin that was skipped, and why.
  void add_skipped(Kind kind, const std::string& name, const std::string& file,
                   const std::string& reason);
  void add_alias(Kind kind, const std::string& old_name, const std::string& new_name);

 private:
  struct Entry;
  const Entry& entry(Kind kind, std::string_view name) const;
  void* create_raw(Kind kind, std::string_view name, const void* args, Library* library,
                   void (**destroy)(void*)) const;
  template <class Interface, class Args>
  std::shared_ptr<Interface> create(Kind kind, std::string_view name, const Args& args) const;

  std::map<std::string, Entry, std::less<>> entries_;
  std::map<std::string, std::string, std::less<>> skipped_;  // key -> "file: reason"
  std::map<std::string, std::string, std::less<>> aliases_;  // old key -> new name
};

}  // namespace cpsd
