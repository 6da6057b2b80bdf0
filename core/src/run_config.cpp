// SPDX-License-Identifier: Apache-2.0
// Checking a run config against the host schema and the plugins' defaults, and resolving it.
#include "cpsd/core/run_config.h"

#include <map>
#include <sstream>

#include "config_tree.h"
#include "cpsd/core/text.h"
#include "cpsd/sdk/error.h"
#include "host_schema.h"
#include "options_impl.h"

namespace fs = std::filesystem;

namespace cpsd {

struct RunConfig::Impl {
  std::shared_ptr<const toml::table> resolved;
  std::string source_name;
};

namespace {

std::string where_of(const toml::node& node, const std::string& fallback) {
  std::string w = describe_source(node.source());
  return w.empty() ? fallback : w;
}

std::vector<std::string> keys_of(const toml::table& t) {
  std::vector<std::string> out;
  for (const auto& [k, v] : t) out.emplace_back(k.str());
  return out;
}

toml::table parse_defaults(std::string_view text, const std::string& name) {
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << name << ':' << e.source().begin.line << ':' << e.source().begin.column
        << ": invalid defaults TOML (a bug in the plugin): " << e.description();
    throw ConfigError(out.str());
  }
}

bool compatible(const toml::node& def, const toml::node& user) {
  if (def.type() == user.type()) return true;
  return def.is_floating_point() && user.is_integer();  // 2 where 2.0 is expected is fine
}

// Checks `user` against `defaults`, the schema of the table at `scope`.
void check_table(const toml::table& user, const toml::table& defaults, const std::string& scope,
                 const std::string& fallback_where, bool open) {
  for (const auto& [key, value] : user) {
    const std::string path = scope + "." + std::string(key.str());
    const toml::node* def = defaults.get(key);
    if (def == nullptr) {
      if (open) continue;
      const std::vector<std::string> known = keys_of(defaults);
      throw ConfigError(where_of(value, fallback_where) + ": unknown option '" + path +
                        "' (known: " + join(known) + ")" + did_you_mean(key.str(), known));
    }
    if (!compatible(*def, value)) {
      throw ConfigError(where_of(value, fallback_where) + ": " + path + ": expected " +
                        describe_type(def->type()) + ", found " + describe_type(value.type()));
    }
    if (const toml::array* user_array = value.as_array()) {
      const toml::array& def_array = *def->as_array();
      if (def_array.empty()) continue;
      for (const toml::node& element : *user_array) {
        if (!compatible(def_array[0], element)) {
          throw ConfigError(where_of(element, fallback_where) + ": " + path +
                            ": expected array of " + describe_type(def_array[0].type()) +
                            ", found an element of type " + describe_type(element.type()));
        }
      }
    }
    if (const toml::table* user_table = value.as_table()) {
      const toml::table& def_table = *def->as_table();
      check_table(*user_table, def_table, path, fallback_where, def_table.empty());
    }
  }
}

class Resolver {
 public:
  Resolver(const Registry& registry, std::string source_name)
      : registry_(registry), source_name_(std::move(source_name)) {}

  std::shared_ptr<const toml::table> resolve(toml::table&& user) {
    check(user);
    auto resolved =
        std::make_shared<toml::table>(parse_defaults(host_defaults_toml(), "host defaults"));
    // Plugin tables: the user's options over each plugin's defaults.
    std::map<std::pair<Kind, std::string>, toml::table> plugin_tables;
    for (Kind kind : kAllKinds) {
      if (toml::table* tables = user[kind_name(kind)].as_table()) {
        for (auto&& [name, table] : *tables) {
          plugin_tables[{kind, std::string(name.str())}] = std::move(*table.as_table());
        }
        user.erase(kind_name(kind));
      }
    }
    merge_into(*resolved, std::move(user));
    for (const Selector& s : selectors()) {
      const std::string name = (*resolved)[s.section][s.key].value_or(std::string());
      if (!name.empty()) plugin_tables.try_emplace({s.kind, name});
    }
    // A run may use several decomposers (CPSD needs cgp and dgp): all get their options.
    for (const std::string& name : registry_.names(Kind::decomposer)) {
      plugin_tables.try_emplace({Kind::decomposer, name});
    }
    absolutize_paths(*resolved);
    for (auto& [id, table] : plugin_tables) {
      const FactoryInfo& info = registry_.info(id.first, id.second);
      toml::table full = parse_defaults(info.defaults_toml, "defaults of " + info.key());
      merge_into(full, std::move(table));
      toml::node* kind_table = resolved->get(kind_name(id.first));
      if (kind_table == nullptr) {
        kind_table = &resolved->insert(kind_name(id.first), toml::table{}).first->second;
      }
      kind_table->as_table()->insert_or_assign(id.second, std::move(full));
    }
    return resolved;
  }

 private:
  // Relative paths become absolute against the directory of the file that wrote them, so the
  // resolved config (saved with runs and checkpoints) works from anywhere.
  static void absolutize_paths(toml::table& resolved) {
    const bool has_root = !resolved.at_path("data.root").value_or(std::string()).empty();
    for (const PathKey& p : path_keys()) {
      toml::node* node = resolved.at_path(p.key).node();
      if (node == nullptr || (p.under_data_root && has_root)) continue;
      const std::string value = node->value_or(std::string());
      const auto& source = node->source().path;
      if (value.empty() || fs::path(value).is_absolute() || !source ||
          !fs::is_regular_file(*source))
        continue;
      const std::string absolute =
          fs::weakly_canonical(fs::path(*source).parent_path() / value).string();
      const auto dot = p.key.rfind('.');
      resolved.at_path(p.key.substr(0, dot))
          .as_table()
          ->insert_or_assign(p.key.substr(dot + 1), absolute);
    }
  }

  void check(const toml::table& user) {
    const toml::table host = parse_defaults(host_defaults_toml(), "host defaults");
    for (const auto& [key, value] : user) {
      const std::string section(key.str());
      const std::string where = where_of(value, source_name_);
      if (const toml::node* schema = host.get(section)) {
        if (!value.is_table()) {
          throw ConfigError(where + ": '" + section + "' must be a table ([" + section + "])");
        }
        check_table(*value.as_table(), *schema->as_table(), section, source_name_,
                    schema->as_table()->empty());
      } else if (std::optional<Kind> kind = parse_kind(section)) {
        check_plugin_tables(*kind, value, where);
      } else {
        std::vector<std::string> known = keys_of(host);
        for (Kind k : kAllKinds) known.emplace_back(kind_name(k));
        throw ConfigError(where + ": unknown section '" + section + "' (known: " + join(known) +
                          ")" + did_you_mean(section, known));
      }
    }
    for (const Selector& s : selectors()) {
      const toml::node* node =
          user.at_path(std::string(s.section) + "." + std::string(s.key)).node();
      if (node == nullptr)
        node = host.at_path(std::string(s.section) + "." + std::string(s.key)).node();
      const std::string name = node->value_or(std::string());
      if (!name.empty() && !registry_.contains(s.kind, name)) {
        throw ConfigError(where_of(*node, source_name_) + ": " + std::string(s.section) + "." +
                          std::string(s.key) + ": " + registry_.unknown_message(s.kind, name));
      }
    }
  }

  void check_plugin_tables(Kind kind, const toml::node& value, const std::string& where) {
    const toml::table* tables = value.as_table();
    if (tables == nullptr) {
      throw ConfigError(where + ": '" + std::string(kind_name(kind)) +
                        "' must hold one table per implementation, e.g. [" +
                        std::string(kind_name(kind)) + ".<name>]");
    }
    for (const auto& [name, table] : *tables) {
      const std::string scope = std::string(kind_name(kind)) + "." + std::string(name.str());
      const std::string table_where = where_of(table, where);
      if (!registry_.contains(kind, name.str())) {
        throw ConfigError(table_where + ": [" + scope +
                          "]: " + registry_.unknown_message(kind, name.str()));
      }
      if (!table.is_table()) {
        throw ConfigError(table_where + ": '" + scope + "' must be a table of options");
      }
      const FactoryInfo& info = registry_.info(kind, name.str());
      const toml::table defaults = parse_defaults(info.defaults_toml, "defaults of " + info.key());
      check_table(*table.as_table(), defaults, scope, table_where, false);
    }
  }

  const Registry& registry_;
  std::string source_name_;
};

}  // namespace

RunConfig::RunConfig(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
RunConfig::RunConfig(const RunConfig&) = default;
RunConfig& RunConfig::operator=(const RunConfig&) = default;
RunConfig::~RunConfig() = default;

RunConfig RunConfig::load(const fs::path& path, const std::vector<std::string>& overrides,
                          const Registry& registry) {
  toml::table tree = load_config_tree(path);
  for (const std::string& o : overrides) apply_override(tree, o);
  auto impl = std::make_shared<Impl>();
  impl->source_name = path.string();
  impl->resolved = Resolver(registry, impl->source_name).resolve(std::move(tree));
  return RunConfig(std::move(impl));
}

RunConfig RunConfig::parse(std::string_view toml_text, const std::string& name,
                           const std::vector<std::string>& overrides, const Registry& registry) {
  toml::table tree = parse_config_tree(toml_text, name, fs::current_path());
  for (const std::string& o : overrides) apply_override(tree, o);
  auto impl = std::make_shared<Impl>();
  impl->source_name = name;
  impl->resolved = Resolver(registry, name).resolve(std::move(tree));
  return RunConfig(std::move(impl));
}

Options RunConfig::section(std::string_view name) const {
  const toml::table* table = (*impl_->resolved)[name].as_table();
  if (table == nullptr) throw ConfigError("no config section '" + std::string(name) + "'");
  return make_options_view(impl_->resolved, table, std::string(name));
}

std::string RunConfig::selected(Kind kind) const {
  for (const Selector& s : selectors()) {
    if (s.kind == kind) return (*impl_->resolved)[s.section][s.key].value_or(std::string());
  }
  return "";
}

Options RunConfig::plugin_options(Kind kind, std::string_view name) const {
  const toml::table* table = (*impl_->resolved)[kind_name(kind)][name].as_table();
  const std::string scope = std::string(kind_name(kind)) + "." + std::string(name);
  if (table == nullptr) {
    throw ConfigError(impl_->source_name + ": no options for " + scope +
                      "; it is not selected in this config");
  }
  return make_options_view(impl_->resolved, table, scope);
}

bool RunConfig::given(std::string_view dotted_key) const {
  const toml::node* node = impl_->resolved->at_path(dotted_key).node();
  if (node == nullptr) return false;
  const auto& source = node->source().path;
  return source && *source != "host defaults" && source->rfind("defaults of ", 0) != 0;
}

std::string RunConfig::to_toml() const {
  std::ostringstream out;
  out << "# Resolved config of " << impl_->source_name << '\n'
      << toml::toml_formatter(*impl_->resolved) << '\n';
  return out.str();
}

const std::string& RunConfig::source_name() const { return impl_->source_name; }

fs::path path_option(const Options& options, std::string_view key) {
  const fs::path p(options.get_string(key));
  if (p.empty() || p.is_absolute()) return p;
  const toml::node* node = options.impl().table->at_path(key).node();
  const auto& source = node->source().path;
  // Only values read from a file have a directory to be relative to.
  if (!source || source->rfind("--set", 0) == 0 || source->rfind("defaults", 0) == 0 ||
      *source == "host defaults" || !fs::exists(*source)) {
    return p;
  }
  return fs::path(*source).parent_path() / p;
}

std::string options_json(const Options& options) {
  std::ostringstream out;
  out << toml::json_formatter(*options.impl().table);
  return out.str();
}

Options plugin_options(const Registry& registry, Kind kind, std::string_view name,
                       std::string_view toml_text) {
  const FactoryInfo& info = registry.info(kind, name);
  const std::string scope = std::string(kind_name(kind)) + "." + std::string(name);
  toml::table user;
  try {
    user = toml::parse(toml_text, scope);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << scope << ':' << e.source().begin.line << ':' << e.source().begin.column
        << ": invalid TOML: " << e.description();
    throw ConfigError(out.str());
  }
  toml::table full = parse_defaults(info.defaults_toml, "defaults of " + info.key());
  check_table(user, full, scope, scope, false);
  merge_into(full, std::move(user));
  return make_options(std::move(full), scope);
}

}  // namespace cpsd
