// SPDX-License-Identifier: Apache-2.0
// cpsd::Options over a toml++ table.
#include <optional>
#include <sstream>
#include <utility>

#include "cpsd/sdk/error.h"
#include "options_impl.h"

namespace cpsd {

std::string describe_source(const toml::source_region& source) {
  if (!source.path || source.path->empty()) return "";
  const std::string& path = *source.path;
  // Command-line overrides carry their own text ("--set a.b=1") as the path.
  if (path.rfind("--set", 0) == 0) return path;
  std::ostringstream out;
  out << path << ':' << source.begin.line << ':' << source.begin.column;
  return out.str();
}

const char* describe_type(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    default:
      return "nothing";
  }
}

namespace {

std::shared_ptr<const Options::Impl> empty_impl() {
  static const std::shared_ptr<const Options::Impl> impl = [] {
    auto i = std::make_shared<Options::Impl>();
    i->root = std::make_shared<const toml::table>();
    i->table = i->root.get();
    return i;
  }();
  return impl;
}

const toml::node* lookup(const toml::table& table, std::string_view key) {
  return table.at_path(key).node();
}

}  // namespace

Options::Options() : impl_(empty_impl()) {}
Options::~Options() = default;
Options::Options(const Options&) = default;
Options& Options::operator=(const Options&) = default;
Options::Options(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Options make_options(toml::table&& table, std::string scope) {
  auto impl = std::make_shared<Options::Impl>();
  auto root = std::make_shared<toml::table>(std::move(table));
  impl->table = root.get();
  impl->root = std::move(root);
  impl->scope = std::move(scope);
  return Options(std::move(impl));
}

Options make_options_view(std::shared_ptr<const toml::table> root, const toml::table* table,
                          std::string scope) {
  auto impl = std::make_shared<Options::Impl>();
  impl->root = std::move(root);
  impl->table = table;
  impl->scope = std::move(scope);
  return Options(std::move(impl));
}

Options Options::parse(std::string_view toml_text, std::string scope) {
  try {
    return make_options(toml::parse(toml_text, scope), scope);
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << scope << ':' << e.source().begin.line << ':' << e.source().begin.column
        << ": invalid TOML: " << e.description();
    throw ConfigError(out.str());
  }
}

const std::string& Options::scope() const { return impl_->scope; }

bool Options::has(std::string_view key) const { return lookup(*impl_->table, key) != nullptr; }

std::vector<std::string> Options::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : *impl_->table) out.emplace_back(k.str());
  return out;
}

std::string Options::where(std::string_view key) const {
  if (const toml::node* n = lookup(*impl_->table, key)) {
    std::string w = describe_source(n->source());
    if (!w.empty()) return w;
  }
  return impl_->scope.empty() ? std::string("options") : impl_->scope;
}

void Options::fail(std::string_view key, std::string_view message) const {
  std::ostringstream out;
  out << where(key) << ": ";
  if (!impl_->scope.empty()) out << impl_->scope << '.';
  out << key << ": " << message;
  throw ConfigError(out.str());
}

namespace {

// Finds `key` or fails with a message naming what was expected.
const toml::node& require(const Options& o, const toml::table& t, std::string_view key,
                          const char* expected) {
  const toml::node* n = lookup(t, key);
  if (n == nullptr) {
    o.fail(key, std::string("missing option (expected ") + expected +
                    "); the plugin's defaults must declare it");
  }
  return *n;
}

[[noreturn]] void wrong_type(const Options& o, std::string_view key, const toml::node& n,
                             const char* expected) {
  o.fail(key, std::string("expected ") + expected + ", found " + describe_type(n.type()));
}

template <class T, class Get>
std::vector<T> get_list(const Options& o, const toml::table& t, std::string_view key,
                        const char* expected, Get get) {
  const toml::node& n = require(o, t, key, expected);
  const toml::array* arr = n.as_array();
  if (arr == nullptr) wrong_type(o, key, n, expected);
  std::vector<T> out;
  out.reserve(arr->size());
  for (const toml::node& e : *arr) {
    std::optional<T> v = get(e);
    if (!v) wrong_type(o, key, e, expected);
    out.push_back(*v);
  }
  return out;
}

std::optional<double> as_number(const toml::node& n) {
  if (auto i = n.value_exact<int64_t>()) return static_cast<double>(*i);
  return n.value_exact<double>();
}

}  // namespace

int64_t Options::get_int(std::string_view key) const {
  const toml::node& n = require(*this, *impl_->table, key, "integer");
  if (auto v = n.value_exact<int64_t>()) return *v;
  wrong_type(*this, key, n, "integer");
}

double Options::get_double(std::string_view key) const {
  const toml::node& n = require(*this, *impl_->table, key, "number");
  if (auto v = as_number(n)) return *v;
  wrong_type(*this, key, n, "number");
}

bool Options::get_bool(std::string_view key) const {
  const toml::node& n = require(*this, *impl_->table, key, "boolean");
  if (auto v = n.value_exact<bool>()) return *v;
  wrong_type(*this, key, n, "boolean");
}

std::string Options::get_string(std::string_view key) const {
  const toml::node& n = require(*this, *impl_->table, key, "string");
  if (auto v = n.value_exact<std::string>()) return *v;
  wrong_type(*this, key, n, "string");
}

std::vector<int64_t> Options::get_int_list(std::string_view key) const {
  return get_list<int64_t>(*this, *impl_->table, key, "array of integers",
                           [](const toml::node& e) { return e.value_exact<int64_t>(); });
}

std::vector<double> Options::get_double_list(std::string_view key) const {
  return get_list<double>(*this, *impl_->table, key, "array of numbers", as_number);
}

std::vector<std::string> Options::get_string_list(std::string_view key) const {
  return get_list<std::string>(*this, *impl_->table, key, "array of strings",
                               [](const toml::node& e) { return e.value_exact<std::string>(); });
}

Options Options::get_table(std::string_view key) const {
  const toml::node& n = require(*this, *impl_->table, key, "table");
  const toml::table* t = n.as_table();
  if (t == nullptr) wrong_type(*this, key, n, "table");
  auto impl = std::make_shared<Impl>();
  impl->root = impl_->root;
  impl->table = t;
  impl->scope = impl_->scope.empty() ? std::string(key) : impl_->scope + "." + std::string(key);
  return Options(std::move(impl));
}

std::string Options::to_toml() const {
  std::ostringstream out;
  out << toml::toml_formatter(*impl_->table);
  return out.str();
}

}  // namespace cpsd
