// SPDX-License-Identifier: Apache-2.0
// Private: the TOML data behind cpsd::Options (shared by libcpsd_sdk and libcpsd_core only;
// toml++ types never reach plugins).
#pragma once

#include <memory>
#include <string>

#include <toml++/toml.h>

#include "cpsd/sdk/options.h"

namespace cpsd {

struct Options::Impl {
  std::shared_ptr<const toml::table> root;  // keeps `table` alive
  const toml::table* table = nullptr;       // root or a table nested in it
  std::string scope;
};

/// Wraps `table` (moved in; its source regions are kept for messages).
CPSD_SDK_API Options make_options(toml::table&& table, std::string scope);

/// A view of `table`, which lives inside `root` (shared, so no copy and sources kept).
CPSD_SDK_API Options make_options_view(std::shared_ptr<const toml::table> root,
                                       const toml::table* table, std::string scope);

/// "file:line:column" of a node's source, or "" when the node was built in code.
CPSD_SDK_API std::string describe_source(const toml::source_region& source);

/// Human name of a TOML node type: "integer", "string", "table", ...
CPSD_SDK_API const char* describe_type(toml::node_type type);

}  // namespace cpsd
