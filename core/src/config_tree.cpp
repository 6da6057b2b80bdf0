// SPDX-License-Identifier: Apache-2.0
#include "config_tree.h"

#include <sstream>
#include <vector>

#include "cpsd/sdk/error.h"
#include "options_impl.h"

namespace fs = std::filesystem;

namespace cpsd {
namespace {

std::string syntax_error(const toml::parse_error& e, const std::string& name) {
  std::ostringstream out;
  out << name << ':' << e.source().begin.line << ':' << e.source().begin.column
      << ": invalid TOML: " << e.description();
  return out.str();
}

toml::table resolve_bases(toml::table&& table, const fs::path& base_dir,
                          std::vector<std::string>& chain);

toml::table load_file(const fs::path& path, std::vector<std::string>& chain) {
  std::error_code ec;
  const std::string canonical = fs::weakly_canonical(path, ec).string();
  for (const std::string& c : chain) {
    if (c == canonical)
      throw ConfigError(path.string() + ": base files include each other in a cycle");
  }
  if (static_cast<int>(chain.size()) >= kMaxBaseDepth) {
    throw ConfigError(path.string() + ": base files nested deeper than " +
                      std::to_string(kMaxBaseDepth) + " levels");
  }
  if (!fs::is_regular_file(path, ec)) {
    throw ConfigError(path.string() + ": config file not found");
  }
  toml::table table;
  try {
    table = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    throw ConfigError(syntax_error(e, path.string()));
  }
  chain.push_back(canonical);
  toml::table merged = resolve_bases(std::move(table), path.parent_path(), chain);
  chain.pop_back();
  return merged;
}

toml::table resolve_bases(toml::table&& table, const fs::path& base_dir,
                          std::vector<std::string>& chain) {
  toml::node* base = table.get("base");
  if (base == nullptr) return std::move(table);
  std::vector<std::pair<std::string, std::string>> files;  // path, where
  auto add = [&](const toml::node& n) {
    auto s = n.value_exact<std::string>();
    if (!s) {
      throw ConfigError(describe_source(n.source()) +
                        ": base: expected a file name or an array of file names");
    }
    files.emplace_back(*s, describe_source(n.source()));
  };
  if (const toml::array* arr = base->as_array()) {
    for (const toml::node& n : *arr) add(n);
  } else {
    add(*base);
  }
  toml::table merged;
  for (const auto& [file, where] : files) {
    const fs::path path = fs::path(file).is_absolute() ? fs::path(file) : base_dir / file;
    if (!fs::exists(path)) {
      throw ConfigError(where + ": base '" + file + "' not found (looked for " + path.string() +
                        ")");
    }
    merge_into(merged, load_file(path, chain));
  }
  table.erase("base");
  merge_into(merged, std::move(table));
  return merged;
}

}  // namespace

void merge_into(toml::table& dst, toml::table&& src) {
  for (auto&& [key, node] : src) {
    toml::table* src_table = node.as_table();
    toml::node* existing = dst.get(key);
    if (src_table != nullptr && existing != nullptr && existing->is_table()) {
      merge_into(*existing->as_table(), std::move(*src_table));
      continue;
    }
    // Moving (not copying) keeps each node's source region for messages.
    node.visit([&dst, &key = key](auto&& n) { dst.insert_or_assign(key, std::move(n)); });
  }
}

toml::table load_config_tree(const fs::path& path) {
  std::vector<std::string> chain;
  return load_file(path, chain);
}

toml::table parse_config_tree(std::string_view text, const std::string& name,
                              const fs::path& base_dir) {
  toml::table table;
  try {
    table = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw ConfigError(syntax_error(e, name));
  }
  std::vector<std::string> chain{name};
  return resolve_bases(std::move(table), base_dir, chain);
}

namespace {

std::string toml_quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

void apply_override(toml::table& root, const std::string& assignment) {
  const std::string where = "--set " + assignment;
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(where + ": expected KEY=VALUE, e.g. --set runtime.threads=2");
  }
  const std::string key = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);

  toml::table parsed;
  try {
    parsed = toml::parse("v = " + value, where);
  } catch (const toml::parse_error&) {
    parsed = toml::parse("v = " + toml_quoted(value), where);
  }

  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string part; std::getline(ss, part, '.');) {
    if (part.empty()) throw ConfigError(where + ": empty part in key '" + key + "'");
    parts.push_back(part);
  }
  toml::table* table = &root;
  std::string path;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    path += (path.empty() ? "" : ".") + parts[i];
    toml::node* next = table->get(parts[i]);
    if (next == nullptr) {
      table = table->insert(parts[i], toml::table{}).first->second.as_table();
    } else if (next->is_table()) {
      table = next->as_table();
    } else {
      throw ConfigError(where + ": '" + path + "' is not a table (it is " +
                        describe_type(next->type()) + ")");
    }
  }
  parsed.get("v")->visit([&](auto&& n) { table->insert_or_assign(parts.back(), std::move(n)); });
}

}  // namespace cpsd
