// SPDX-License-Identifier: Apache-2.0
// Private: reading TOML config files with `base = [...]` inheritance and --set overrides.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <toml++/toml.h>

namespace cpsd {

/// Deepest chain of `base` files followed (a file, its base, that base's base, ...).
inline constexpr int kMaxBaseDepth = 4;

/// Parses `path` and merges its bases under it: each base (relative to the including
/// file) is loaded recursively, later bases override earlier ones, the file overrides
/// them all. Tables merge key by key; other values replace. Nodes keep their source
/// (file:line:column). Throws ConfigError on I/O, syntax, cycles and depth.
toml::table load_config_tree(const std::filesystem::path& path);

/// Same for text; bases resolve against `base_dir`.
toml::table parse_config_tree(std::string_view text, const std::string& name,
                              const std::filesystem::path& base_dir);

/// Applies "a.b.c=value": value is parsed as a TOML value, or taken as a string when it
/// is not one (so `--set model.backbone=resnet101` needs no quotes). Intermediate tables
/// are created. Throws ConfigError naming the override.
void apply_override(toml::table& root, const std::string& assignment);

/// Moves every entry of `src` into `dst`, merging tables recursively.
void merge_into(toml::table& dst, toml::table&& src);

}  // namespace cpsd
