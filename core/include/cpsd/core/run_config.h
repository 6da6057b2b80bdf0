// SPDX-License-Identifier: Apache-2.0
// RunConfig: a run's TOML config with its bases and overrides, checked and resolved.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cpsd/core/export.h"
#include "cpsd/core/kind.h"
#include "cpsd/core/registry.h"
#include "cpsd/sdk/options.h"

namespace cpsd {

/// A run config, fully resolved: host defaults, then the `base = [...]` files (in order),
/// then the file itself, then `--set` overrides; every selected implementation's table
/// filled from its plugin's defaults.
///
/// Layout: host sections (`[runtime]`, `[model]`, `[train]`, ...) hold host settings and
/// the selectors that name implementations (`model.backbone = "resnet101"`); each
/// implementation's options live in the table named by its registry key with '/' -> '.'
/// (`[backbone.resnet101]`). Unknown keys, wrong types and unknown implementation names
/// are ConfigErrors carrying file:line:column (or the --set text).
class CPSD_CORE_API RunConfig {
 public:
  /// Reads `path`. `overrides` are "a.b.c=value" (the value is TOML; a bare word is a
  /// string). Throws ConfigError on any mistake, before anything is built.
  static RunConfig load(const std::filesystem::path& path,
                        const std::vector<std::string>& overrides, const Registry& registry);
  /// Same from TOML text; `name` stands for the file in messages and bases resolve from
  /// the current directory.
  static RunConfig parse(std::string_view toml_text, const std::string& name,
                         const std::vector<std::string>& overrides, const Registry& registry);

  RunConfig(const RunConfig&);
  RunConfig& operator=(const RunConfig&);
  ~RunConfig();

  /// A host section merged over its defaults, e.g. section("runtime").
  Options section(std::string_view name) const;
  /// The implementation selected for `kind` ("" if none), e.g. "resnet101".
  std::string selected(Kind kind) const;
  /// The options table of kind/name merged over the plugin's defaults.
  Options plugin_options(Kind kind, std::string_view name) const;
  /// Whether a config file, a base or --set wrote `dotted_key` (e.g. "data.image_size"),
  /// rather than it holding a host or plugin default.
  bool given(std::string_view dotted_key) const;
  /// The whole resolved config as TOML; loading it again gives the same config.
  std::string to_toml() const;
  /// The file it was read from (or the name given to parse()).
  const std::string& source_name() const;

  struct Impl;

 private:
  explicit RunConfig(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

/// The options of kind/name outside a run config: the plugin's defaults with `toml_text`
/// merged over them, checked like a `[kind.name]` table (unknown keys and wrong types are
/// ConfigErrors). For programs and tests that build implementations directly.
CPSD_CORE_API Options plugin_options(const Registry& registry, Kind kind, std::string_view name,
                                     std::string_view toml_text = "");

/// The path in string option `key`, resolved against the directory of the config file
/// that wrote it (so a base file's paths are relative to the base file); values from
/// --set or defaults are relative to the working directory. "" stays "".
CPSD_CORE_API std::filesystem::path path_option(const Options& options, std::string_view key);

/// The table of `options` as a JSON object (for files that record how they were made).
CPSD_CORE_API std::string options_json(const Options& options);

/// The host's own sections with their defaults and comments, as TOML (what
/// `cpsd config show --defaults` prints).
CPSD_CORE_API std::string_view host_defaults_toml();

}  // namespace cpsd
