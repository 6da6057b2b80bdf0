// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/sweep/spec.h"

#include <cctype>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "cpsd/sdk/error.h"

namespace fs = std::filesystem;

namespace cpsd::sweep {
namespace {

std::string where(const toml::source_region& s, const std::string& file) {
  return file + ":" + std::to_string(s.begin.line) + ":" + std::to_string(s.begin.column);
}

std::string where(const toml::node& node, const std::string& file) {
  return where(node.source(), file);
}

[[noreturn]] void fail(const std::string& at, const std::string& what) {
  throw ConfigError(at + ": " + what);
}

// TOML text of one value: how it is written in an override.
std::string value_text(const toml::node& node) {
  std::ostringstream out;
  node.visit([&](const auto& v) { out << v; });
  return out.str();
}

std::vector<std::string> strings(const toml::node& node, const std::string& key,
                                 const std::string& file) {
  const toml::array* a = node.as_array();
  if (a == nullptr) fail(where(node, file), "sweep." + key + " must be an array of strings");
  std::vector<std::string> out;
  for (const toml::node& v : *a) {
    if (!v.is_string()) fail(where(v, file), "sweep." + key + " must hold strings");
    out.push_back(*v.value<std::string>());
  }
  return out;
}

std::vector<int64_t> integers(const toml::node& node, const std::string& file) {
  const toml::array* a = node.as_array();
  if (a == nullptr) fail(where(node, file), "sweep.seeds must be an array of integers");
  std::vector<int64_t> out;
  for (const toml::node& v : *a) {
    if (!v.is_integer() || *v.value<int64_t>() < 0)
      fail(where(v, file), "sweep.seeds must hold integers >= 0");
    out.push_back(*v.value<int64_t>());
  }
  return out;
}

std::string text_value(const toml::node& node, const std::string& key, const std::string& file) {
  if (!node.is_string()) fail(where(node, file), "sweep." + key + " must be a string");
  return *node.value<std::string>();
}

// How a cell's name shows a value: strings without quotes, arrays joined by '+'.
std::string display_value(const std::string& text) {
  const toml::table t = toml::parse("v = " + text);
  const toml::node& v = *t.get("v");
  if (v.is_string()) return *v.value<std::string>();
  if (const toml::array* a = v.as_array()) {
    std::string out;
    for (const toml::node& e : *a) out += (out.empty() ? "" : "+") + display_value(value_text(e));
    return out;
  }
  return text;
}

// The parts joined by ',' with what a file name should not hold replaced by '-'.
std::string directory_name(const std::vector<std::string>& parts) {
  std::string name;
  for (const std::string& p : parts) name += (name.empty() ? "" : ",") + p;
  for (char& c : name) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                       c == '+' || c == '=' || c == ',' || c == '-';
    if (!plain) c = '-';
  }
  return name;
}

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

Axis make_axis(std::string key, const toml::array& values, const std::string& at) {
  if (key.empty()) fail(at, "an axis needs a key (e.g. key = \"partition.k\")");
  if (values.empty()) fail(at, "axis '" + key + "' has no values");
  Axis axis;
  axis.key = std::move(key);
  axis.label = axis.key.substr(axis.key.rfind('.') + 1);
  axis.numeric = true;
  for (const toml::node& v : values) {
    axis.values.push_back(value_text(v));
    axis.shown.push_back(display_value(axis.values.back()));
    axis.overrides.push_back({axis.key + "=" + axis.values.back()});
    axis.numeric = axis.numeric && (v.is_integer() || v.is_floating_point());
  }
  return axis;
}

// An axis of named settings: values = [{name = "...", set = ["key=value", ...]}, ...].
Axis make_variant_axis(const std::string& label, const toml::array& values, const std::string& file,
                       const std::string& at) {
  if (values.empty()) fail(at, "axis '" + label + "' has no values");
  Axis axis;
  axis.label = label.empty() ? "setting" : label;
  for (const toml::node& v : values) {
    const toml::table* t = v.as_table();
    if (t == nullptr) {
      fail(where(v, file),
           "an axis without a key takes settings: {name = \"...\", set = "
           "[\"key=value\", ...]}");
    }
    std::string name;
    std::vector<std::string> sets;
    for (const auto& [k, node] : *t) {
      if (k == "name") {
        name = text_value(node, "axis.values.name", file);
      } else if (k == "set") {
        sets = strings(node, "axis.values.set", file);
      } else {
        fail(where(k.source(), file),
             "unknown key '" + std::string(k.str()) + "' in a setting (name, set)");
      }
    }
    if (name.empty()) fail(where(v, file), "a setting needs a name");
    axis.values.push_back(name);
    axis.shown.push_back(name);
    axis.overrides.push_back(sets);
  }
  return axis;
}

// "key=[v1, v2]" from the command line.
Axis parse_axis(const std::string& text) {
  const std::size_t eq = text.find('=');
  const std::string at = "--axis " + text;
  if (eq == std::string::npos) fail(at, "expected KEY=[V1, V2, ...]");
  toml::table t;
  try {
    t = toml::parse("values = " + text.substr(eq + 1));
  } catch (const toml::parse_error& e) {
    fail(at, "the values are not a TOML array: " + std::string(e.description()));
  }
  const toml::array* values = t["values"].as_array();
  if (values == nullptr) fail(at, "the values must be a TOML array, e.g. partition.k=[2, 3, 5]");
  return make_axis(text.substr(0, eq), *values, at);
}

void read_axes(const toml::node& node, const std::string& file, Spec& spec) {
  const toml::array* list = node.as_array();
  if (list == nullptr || !list->is_array_of_tables())
    fail(where(node, file), "sweep.axis must be [[sweep.axis]] tables");
  for (const toml::node& entry : *list) {
    const toml::table& t = *entry.as_table();
    std::string key, label;
    const toml::array* values = nullptr;
    for (const auto& [name, v] : t) {
      if (name == "key") {
        key = text_value(v, "axis.key", file);
      } else if (name == "label") {
        label = text_value(v, "axis.label", file);
      } else if (name == "values") {
        values = v.as_array();
        if (values == nullptr) fail(where(v, file), "sweep.axis.values must be an array");
      } else {
        fail(where(name.source(), file),
             "unknown key sweep.axis." + std::string(name.str()) + " (key, values, label)");
      }
    }
    if (values == nullptr) fail(where(entry, file), "axis '" + key + "' needs values = [...]");
    if (key.empty() && values->is_array_of_tables()) {
      spec.axes.push_back(make_variant_axis(label, *values, file, where(entry, file)));
      continue;
    }
    spec.axes.push_back(make_axis(key, *values, where(entry, file)));
    if (!label.empty()) spec.axes.back().label = label;
  }
}

// The [sweep] table of a file; returns its name and output as written.
void read_file(const fs::path& file, Spec& spec, std::string& name, std::string& output) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    fail(file.string() + ":" + std::to_string(b.line) + ":" + std::to_string(b.column),
         std::string(e.description()));
  }
  const std::string f = file.string();
  for (const auto& [key, node] : root) {
    if (key != "sweep")
      fail(where(key.source(), f),
           "unknown table '" + std::string(key.str()) + "' (a sweep file holds [sweep] only)");
  }
  const toml::table* sweep = root["sweep"].as_table();
  if (sweep == nullptr) fail(f, "no [sweep] table");
  const fs::path dir = fs::absolute(file).parent_path();
  for (const auto& [k, node] : *sweep) {
    const std::string key(k.str());
    if (key == "config") {
      spec.config = (dir / text_value(node, key, f)).lexically_normal();
    } else if (key == "name") {
      name = text_value(node, key, f);
    } else if (key == "output") {
      output = text_value(node, key, f);
    } else if (key == "seeds") {
      spec.seeds = integers(node, f);
    } else if (key == "methods") {
      spec.methods = strings(node, key, f);
    } else if (key == "set") {
      spec.sets = strings(node, key, f);
    } else if (key == "axis") {
      read_axes(node, f, spec);
    } else {
      fail(where(k.source(), f),
           "unknown key sweep." + key + " (config, name, output, seeds, methods, set, axis)");
    }
  }
}

void check(const Spec& spec, const std::string& source) {
  if (spec.config.empty())
    fail(source, "no run config: set sweep.config or give --config RUN.toml");
  if (!fs::exists(spec.config)) fail(source, "run config " + spec.config.string() + " not found");
  if (spec.seeds.empty()) fail(source, "sweep.seeds is empty");
  std::set<int64_t> seeds(spec.seeds.begin(), spec.seeds.end());
  if (seeds.size() != spec.seeds.size()) fail(source, "sweep.seeds repeats a seed");
  std::set<std::string> keys, labels;
  for (const Axis& a : spec.axes) {
    if (!a.key.empty() && !keys.insert(a.key).second) fail(source, "two axes set " + a.key);
    if (!labels.insert(a.label).second)
      fail(source, "two axes are labelled '" + a.label + "': give one a label");
    if (a.key == "runtime.seed" || a.key == "run.name" || a.key == "run.output")
      fail(source, "axis " + a.key + " is set by the sweep itself (use sweep.seeds)");
  }
}

}  // namespace

Spec load_spec(const fs::path& file, const SpecOverrides& cli) {
  Spec spec;
  std::string name, output = "runs/sweeps";
  if (!file.empty()) {
    spec.file = fs::absolute(file);
    if (!fs::exists(file)) fail(file.string(), "sweep file not found");
    read_file(file, spec, name, output);
    name = name.empty() ? file.stem().string() : name;
  }
  if (!cli.config.empty()) spec.config = fs::absolute(cli.config).lexically_normal();
  if (!cli.name.empty()) name = cli.name;
  if (!cli.output.empty()) output = cli.output;
  if (!cli.seeds.empty()) spec.seeds = cli.seeds;
  if (!cli.methods.empty()) spec.methods = cli.methods;
  spec.sets.insert(spec.sets.end(), cli.sets.begin(), cli.sets.end());
  for (const std::string& a : cli.axes) spec.axes.push_back(parse_axis(a));
  if (spec.seeds.empty()) spec.seeds = {0, 1, 2};
  if (name.empty()) name = spec.config.stem().string();
  const std::string source = file.empty() ? "cpsd sweep" : file.string();
  check(spec, source);
  spec.root = fs::absolute(fs::path(output) / name);
  return spec;
}

std::vector<Cell> cells(const Spec& spec) {
  std::vector<std::size_t> index(spec.axes.size(), 0);
  std::vector<Cell> out;
  while (true) {
    Cell point;
    std::vector<std::string> parts;
    for (std::size_t a = 0; a < spec.axes.size(); ++a) {
      const Axis& axis = spec.axes[a];
      const std::vector<std::string>& sets = axis.overrides[index[a]];
      point.overrides.insert(point.overrides.end(), sets.begin(), sets.end());
      point.values.push_back(axis.shown[index[a]]);
      parts.push_back(axis.label + "=" + point.values.back());
    }
    point.name = parts.empty() ? "base" : directory_name(parts);
    for (int64_t seed : spec.seeds) {
      Cell c = point;
      c.seed = seed;
      c.dir = spec.root / "cells" / c.name / ("seed" + std::to_string(seed));
      out.push_back(std::move(c));
    }
    std::size_t a = spec.axes.size();
    while (a > 0 && ++index[a - 1] == spec.axes[a - 1].values.size()) index[--a] = 0;
    if (a == 0) break;
  }
  return out;
}

std::vector<std::string> run_overrides(const Spec& spec, const Cell& cell) {
  std::vector<std::string> out = spec.sets;
  if (!spec.methods.empty()) {  // before the axes, so that an axis over run.methods wins
    std::string list;
    for (const std::string& m : spec.methods) list += (list.empty() ? "" : ", ") + toml_string(m);
    out.push_back("run.methods=[" + list + "]");
  }
  out.insert(out.end(), cell.overrides.begin(), cell.overrides.end());
  out.push_back("runtime.seed=" + std::to_string(cell.seed));
  out.push_back("run.output=" + toml_string(cell.dir.parent_path().generic_string()));
  out.push_back("run.name=" + toml_string(cell.dir.filename().string()));
  return out;
}

}  // namespace cpsd::sweep
