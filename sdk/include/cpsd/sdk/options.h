// SPDX-License-Identifier: Apache-2.0
// Options: the read-only view of one plugin's config table that crosses the plugin boundary.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cpsd/sdk/export.h"

namespace cpsd {

/// Read-only view of the options of one implementation, e.g. the table
/// `[backbone.resnet101]` merged over the defaults TOML of `backbone/resnet101`.
///
/// The host has already checked the user's table against the defaults: every key exists
/// and has the default's type. A getter therefore only fails on a programming error in the
/// plugin (asking for a key its defaults do not declare, or with another type), which
/// throws ConfigError naming the key.
///
/// Keys may be dotted to reach nested tables (`"glove.file"`). Copies are cheap and share
/// the same immutable data; an Options may outlive the config it came from.
///
/// Example:
///   int64_t depth = args.options.get_int("depth");
///   if (depth != 18 && depth != 50) args.options.fail("depth", "must be 18 or 50");
class CPSD_SDK_API Options {
 public:
  /// An empty table with scope "" (no options).
  Options();
  ~Options();
  Options(const Options&);
  Options& operator=(const Options&);

  /// Parses TOML text; `scope` names the table in messages (e.g. "backbone.resnet101").
  /// Throws ConfigError with line:column on a syntax error.
  static Options parse(std::string_view toml_text, std::string scope);

  /// Dotted path of this table in the run config, e.g. "head.linear".
  const std::string& scope() const;

  bool has(std::string_view key) const;
  /// Top-level keys, sorted.
  std::vector<std::string> keys() const;

  int64_t get_int(std::string_view key) const;
  /// Accepts integers and floats.
  double get_double(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::string get_string(std::string_view key) const;
  std::vector<int64_t> get_int_list(std::string_view key) const;
  /// Accepts integer and float elements.
  std::vector<double> get_double_list(std::string_view key) const;
  std::vector<std::string> get_string_list(std::string_view key) const;
  /// The nested table at `key` as its own Options (scope extended by the key).
  Options get_table(std::string_view key) const;

  /// "file:line:column" where the value of `key` was written, or the scope if unknown
  /// (a default, or built in code).
  std::string where(std::string_view key) const;

  /// Throws ConfigError "<where>: <scope>.<key>: <message>". Use it for values that have
  /// the right type but are not acceptable (out of range, unknown choice, missing file).
  [[noreturn]] void fail(std::string_view key, std::string_view message) const;

  /// The table as TOML text (sorted keys).
  std::string to_toml() const;

  struct Impl;
  /// For the host: wraps data built by libcpsd_sdk's TOML layer.
  explicit Options(std::shared_ptr<const Impl> impl);
  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace cpsd
