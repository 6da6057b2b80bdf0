// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/sweep/stage_store.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <toml++/toml.h>

#include "cpsd/sdk/error.h"

namespace fs = std::filesystem;

namespace cpsd::sweep {
namespace {

// FNV-1a, 64 bits, as 16 hex digits: a name, not a security measure.
std::string hash_text(const std::string& text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(h));
  return out;
}

std::string text_of(const toml::table& t) {
  std::ostringstream out;
  out << toml::toml_formatter(t);
  return out.str();
}

void erase(toml::table& t, std::string_view section, std::string_view key) {
  if (toml::table* s = t[section].as_table()) s->erase(key);
}

// The config without what neither the baseline nor the teachers read: where the run goes,
// which methods, how it logs, and the students' own settings ([distill], the distillation
// loss's table).
toml::table training_config(const RunConfig& config, const engine::RunPlan& plan) {
  toml::table t = toml::parse(config.to_toml());
  t.erase("run");
  t.erase("methods");
  t.erase("pretrain");  // cpsd pretrain's output file; runs read model.pretrained
  t.erase("distill");
  erase(t, "runtime", "log_level");
  erase(t, "train", "log_seconds");
  const std::string train_loss = config.section("train").get_string("loss");
  if (plan.distill.loss != train_loss) erase(t, "loss", plan.distill.loss);
  return t;
}

}  // namespace

StageKeys stage_keys(const RunConfig& config, const engine::RunPlan& plan) {
  StageKeys keys;
  const toml::table common = training_config(config, plan);
  if (plan.baseline) {
    toml::table t = common;
    for (const char* only_teachers : {"branches", "partition", "teachers", "decomposer"})
      t.erase(only_teachers);
    keys.baseline = "baseline-" + hash_text(text_of(t));
  }
  if (!plan.branches.empty()) {
    toml::table t = common;
    toml::table owning;
    const toml::table* defined = common["branches"].as_table();
    for (const engine::BranchSpec& b : plan.branches) {
      if (!b.owns_teachers() || defined == nullptr || !defined->contains(b.name)) continue;
      toml::table branch = *(*defined)[b.name].as_table();
      branch.erase("weight");  // only the student's loss reads it
      owning.insert(b.name, std::move(branch));
    }
    t.insert_or_assign("branches", std::move(owning));
    t.insert_or_assign("stage_baseline", keys.baseline.empty() ? "none" : keys.baseline);
    keys.teachers = "teachers-" + hash_text(text_of(t));
  }
  return keys;
}

void link_shared_stages(const fs::path& store, const engine::RunLayout& run,
                        const StageKeys& keys) {
  std::vector<std::pair<fs::path, fs::path>> links;  // (in the run, in the store)
  if (!keys.baseline.empty()) links.push_back({run.baseline(), store / keys.baseline});
  if (!keys.teachers.empty()) {
    links.push_back({run.teachers(), store / keys.teachers / "teachers"});
    links.push_back({run.partitions(), store / keys.teachers / "partitions"});
  }
  fs::create_directories(run.root());
  for (const auto& [link, target] : links) {
    fs::create_directories(target);
    const fs::path relative = fs::relative(target, link.parent_path());
    if (fs::is_symlink(link)) {
      if (fs::read_symlink(link) == relative) continue;
      fs::remove(link);  // the stage's key changed since this run was linked
    } else if (fs::exists(link)) {
      continue;  // trained here before the run joined a sweep: its own
    }
    fs::create_directory_symlink(relative, link);
  }
}

std::vector<FileLock> lock_stages(const fs::path& store, const StageKeys& keys) {
  std::vector<std::string> names;
  for (const std::string& k : {keys.baseline, keys.teachers}) {
    if (!k.empty()) names.push_back(k);
  }
  std::sort(names.begin(), names.end());
  std::vector<FileLock> locks;
  for (const std::string& n : names) locks.emplace_back(store / (n + ".lock"), true);
  return locks;
}

}  // namespace cpsd::sweep
