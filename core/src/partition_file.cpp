// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/partition_file.h"

#include <algorithm>
#include <map>

#include "cpsd/core/atomic_file.h"
#include "cpsd/sdk/error.h"
#include "json_file.h"

namespace cpsd {

PartitionFormat parse_partition_format(const std::string& name) {
  if (name == "cpsd") return PartitionFormat::cpsd;
  if (name == "reference") return PartitionFormat::reference;
  throw ConfigError("unknown partition format '" + name + "': use cpsd or reference");
}

void check_partition(const std::vector<std::vector<int64_t>>& groups, int64_t m,
                     const std::string& who) {
  std::vector<int> seen(static_cast<std::size_t>(m), 0);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].empty()) throw RuntimeError(who + ": group " + std::to_string(g) + " is empty");
    for (int64_t c : groups[g]) {
      if (c < 0 || c >= m) {
        throw RuntimeError(who + ": group " + std::to_string(g) + " holds class index " +
                           std::to_string(c) + ", outside 0.." + std::to_string(m - 1));
      }
      if (++seen[c] > 1) {
        throw RuntimeError(who + ": class " + std::to_string(c) + " is in more than one group");
      }
    }
  }
  for (int64_t c = 0; c < m; ++c) {
    if (seen[c] == 0) throw RuntimeError(who + ": class " + std::to_string(c) + " is in no group");
  }
}

void write_partition(const LabelPartition& p, const std::filesystem::path& path,
                     PartitionFormat format) {
  check_partition(p.groups, static_cast<int64_t>(p.class_names.size()),
                  "partition " + path.string());
  if (format == PartitionFormat::reference) {
    // nlohmann sorts object keys as strings ("10" < "2"); write the dicts by hand instead.
    std::string text = "[\n";
    for (std::size_t g = 0; g < p.groups.size(); ++g) {
      std::vector<std::pair<int64_t, int64_t>> entries;
      for (std::size_t local = 0; local < p.groups[g].size(); ++local) {
        entries.emplace_back(p.groups[g][local], static_cast<int64_t>(local));
      }
      std::sort(entries.begin(), entries.end());
      text += "  {";
      for (std::size_t e = 0; e < entries.size(); ++e) {
        text += (e ? ", \"" : "\"") + std::to_string(entries[e].first) +
                "\": " + std::to_string(entries[e].second);
      }
      text += g + 1 < p.groups.size() ? "},\n" : "}\n";
    }
    write_file_atomically(path, text + "]\n");
    return;
  }
  Json out = Json::object();
  out["format"] = "cpsd-partition";
  out["version"] = 1;
  out["decomposer"] = p.decomposer;
  out["options"] = Json::parse(p.options_json);
  out["k"] = p.k();
  out["seed"] = p.seed;
  out["statistics_hash"] = p.statistics_hash;
  out["classes"] = p.class_names;
  Json groups = Json::array();
  for (const auto& group : p.groups) {
    std::vector<std::string> names;
    for (int64_t c : group) names.push_back(p.class_names[c]);
    groups.push_back({{"indices", group}, {"classes", names}});
  }
  out["groups"] = groups;
  Json diagnostics = Json::object();
  for (const auto& [name, value] : p.diagnostics) diagnostics[name] = value;
  out["diagnostics"] = diagnostics;
  write_file_atomically(path, json_text(out));
}

namespace {

LabelPartition read_reference(const Json& j, const std::string& file,
                              const std::vector<std::string>& class_names) {
  LabelPartition p;
  int64_t max_index = -1;
  for (std::size_t g = 0; g < j.size(); ++g) {
    const Json& group = j[g];
    if (!group.is_object()) json_fail(file, "group " + std::to_string(g) + " is not an object");
    std::map<int64_t, int64_t> by_local;  // local output index -> class
    for (const auto& [key, value] : group.items()) {
      std::size_t used = 0;
      int64_t cls = -1;
      try {
        cls = std::stoll(key, &used);
      } catch (const std::exception&) {
      }
      if (used != key.size() || cls < 0) {
        json_fail(file, "group " + std::to_string(g) + ": key '" + key + "' is not a class index");
      }
      if (!value.is_number_integer()) {
        json_fail(file,
                  "group " + std::to_string(g) + ": value of '" + key + "' is not an integer");
      }
      if (!by_local.emplace(value.get<int64_t>(), cls).second) {
        json_fail(file, "group " + std::to_string(g) + ": output index " +
                            std::to_string(value.get<int64_t>()) + " is used twice");
      }
      max_index = std::max(max_index, cls);
    }
    std::vector<int64_t> ordered;
    int64_t expected = 0;
    for (const auto& [local, cls] : by_local) {
      if (local != expected++) {
        json_fail(file, "group " + std::to_string(g) + ": output indices must be 0.." +
                            std::to_string(by_local.size() - 1));
      }
      ordered.push_back(cls);
    }
    p.groups.push_back(std::move(ordered));
  }
  if (!class_names.empty()) {
    if (max_index >= static_cast<int64_t>(class_names.size())) {
      json_fail(file, "class index " + std::to_string(max_index) + " is outside the " +
                          std::to_string(class_names.size()) + " classes of this label set");
    }
    p.class_names = class_names;
  } else {
    for (int64_t i = 0; i <= max_index; ++i) p.class_names.push_back("class_" + std::to_string(i));
  }
  return p;
}

LabelPartition read_cpsd(const Json& j, const std::string& file) {
  if (json_member(j, "format", file) != "cpsd-partition") {
    json_fail(file, "not a cpsd partition file (format is not \"cpsd-partition\")");
  }
  if (json_member(j, "version", file) != 1) json_fail(file, "unsupported partition file version");
  LabelPartition p;
  p.decomposer = json_member(j, "decomposer", file).get<std::string>();
  p.options_json = json_member(j, "options", file).dump();
  p.seed = json_member(j, "seed", file).get<uint64_t>();
  p.statistics_hash = json_member(j, "statistics_hash", file).get<std::string>();
  p.class_names = json_member(j, "classes", file).get<std::vector<std::string>>();
  for (const Json& g : json_member(j, "groups", file)) {
    p.groups.push_back(json_member(g, "indices", file).get<std::vector<int64_t>>());
  }
  if (json_member(j, "k", file).get<int64_t>() != p.k()) {
    json_fail(file, "'k' disagrees with the number of groups");
  }
  if (auto d = j.find("diagnostics"); d != j.end() && d->is_object()) {
    for (const auto& [name, value] : d->items()) {
      if (value.is_number()) p.diagnostics.emplace_back(name, value.get<double>());
    }
  }
  return p;
}

}  // namespace

LabelPartition read_partition(const std::filesystem::path& path,
                              const std::vector<std::string>& class_names) {
  const std::string file = path.string();
  const Json j = read_json_file(path);
  LabelPartition p;
  try {
    p = j.is_array() ? read_reference(j, file, class_names) : read_cpsd(j, file);
  } catch (const Json::exception& e) {
    json_fail(file, std::string("malformed partition: ") + e.what());
  }
  try {
    check_partition(p.groups, static_cast<int64_t>(p.class_names.size()), file);
  } catch (const RuntimeError& e) {
    throw ConfigError(e.what());
  }
  return p;
}

namespace {

std::vector<int64_t> group_of_each_class(const LabelPartition& p, std::size_t m) {
  std::vector<int64_t> group_of(m, -1);
  for (std::size_t g = 0; g < p.groups.size(); ++g) {
    for (int64_t c : p.groups[g]) group_of[c] = static_cast<int64_t>(g);
  }
  return group_of;
}

}  // namespace

std::vector<double> kept_cooccurrence(const LabelPartition& p, const LabelStatistics& stats) {
  const std::size_t m = stats.class_names.size();
  const std::vector<int64_t> group_of = group_of_each_class(p, m);
  std::vector<double> inside(p.groups.size(), 0), touching(p.groups.size(), 0);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < m; ++j) {
      if (i == j) continue;
      const double e = stats.cooccurrence[i * m + j];
      touching[group_of[i]] += e;
      if (group_of[i] == group_of[j]) inside[group_of[i]] += e;
    }
  }
  std::vector<double> share(p.groups.size(), 0);
  for (std::size_t g = 0; g < share.size(); ++g) {
    share[g] = touching[g] > 0 ? inside[g] / touching[g] : 0;
  }
  return share;
}

double kept_cooccurrence_total(const LabelPartition& p, const LabelStatistics& stats) {
  const std::size_t m = stats.class_names.size();
  const std::vector<int64_t> group_of = group_of_each_class(p, m);
  double inside = 0, total = 0;
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < m; ++j) {
      if (i == j) continue;
      total += stats.cooccurrence[i * m + j];
      if (group_of[i] == group_of[j]) inside += stats.cooccurrence[i * m + j];
    }
  }
  return total > 0 ? inside / total : 0;
}

}  // namespace cpsd
