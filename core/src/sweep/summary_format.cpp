// SPDX-License-Identifier: Apache-2.0
// A sweep's summary as Markdown tables and as JSON.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "../json_file.h"
#include "cpsd/core/progress.h"
#include "cpsd/core/sweep/summary.h"

namespace cpsd::sweep {
namespace {

std::string number(double v, bool sign = false) {
  char out[32];
  std::snprintf(out, sizeof(out), sign ? "%+.2f" : "%.2f", v);
  return out;
}

// "74.12 ± 1.05", with "(n = 2)" when fewer seeds finished than the sweep has.
std::string stat_text(const Stat& s, int64_t seeds, bool sign = false) {
  if (s.n == 0) return "–";
  std::string out = number(s.mean, sign);
  if (s.n > 1) out += " ± " + number(s.std);
  if (s.n < seeds) out += " (n = " + std::to_string(s.n) + ")";
  return out;
}

const MethodSummary* find(const CellSummary& cell, const std::string& method) {
  for (const MethodSummary& m : cell.methods) {
    if (m.method == method) return &m;
  }
  return nullptr;
}

// The header cells naming the axes (one column per axis; "cell" without axes).
std::string axis_header(const Summary& s) {
  if (s.axes.empty()) return "| cell |";
  std::string out = "|";
  for (const Axis& a : s.axes) out += " " + a.label + " |";
  return out;
}

std::string axis_cells(const Summary& s, const CellSummary& c) {
  if (s.axes.empty()) return "| " + c.name + " |";
  std::string out = "|";
  for (const std::string& v : c.values) out += " " + v + " |";
  return out;
}

std::string rule(std::size_t columns) {
  std::string out = "|";
  for (std::size_t i = 0; i < columns; ++i) out += i == 0 ? "---|" : "---:|";
  return out + "\n";
}

std::size_t axis_columns(const Summary& s) { return std::max<std::size_t>(1, s.axes.size()); }

// One table: a row per cell, a column per method, `pick` giving the cell's text.
template <class Pick>
void method_table(std::ostringstream& out, const Summary& s, const std::string& title,
                  bool distilled_only, Pick pick) {
  std::vector<std::string> methods;
  for (const CellSummary& c : s.cells) {
    for (const MethodSummary& m : c.methods) {
      if ((!distilled_only || !m.baseline) &&
          std::find(methods.begin(), methods.end(), m.method) == methods.end())
        methods.push_back(m.method);
    }
  }
  if (methods.empty()) return;
  out << "\n## " << title << "\n\n" << axis_header(s);
  for (const std::string& m : methods) out << " " << m << " |";
  out << "\n" << rule(axis_columns(s) + methods.size());
  for (const CellSummary& c : s.cells) {
    out << axis_cells(s, c);
    for (const std::string& m : methods) {
      const MethodSummary* x = find(c, m);
      out << " " << (x ? pick(*x) : "") << " |";
    }
    out << "\n";
  }
}

void seed_table(std::ostringstream& out, const Summary& s) {
  out << "\n## mAP per seed\n\n" << axis_header(s) << " seed |";
  for (const std::string& m : s.methods) out << " " << m << " |";
  out << " best distilled |\n" << rule(axis_columns(s) + 2 + s.methods.size());
  for (const CellSummary& c : s.cells) {
    for (const SeedRow& r : c.seeds) {
      out << axis_cells(s, c) << " " << r.seed << " |";
      std::string best = "–";
      double best_map = -1;
      for (const std::string& m : s.methods) {
        std::string text;
        for (const auto& [name, map] : r.map) {
          if (name != m) continue;
          text = number(map);
          const MethodSummary* x = find(c, m);
          if (x && !x->baseline && map > best_map) best = name, best_map = map;
        }
        out << " " << text << " |";
      }
      out << " " << best << " |\n";
    }
  }
}

void teacher_table(std::ostringstream& out, const Summary& s) {
  std::vector<std::string> branches;
  for (const CellSummary& c : s.cells) {
    for (const SeedRow& r : c.seeds) {
      for (const BranchCheck& b : r.branches) {
        if (std::find(branches.begin(), branches.end(), b.branch) == branches.end())
          branches.push_back(b.branch);
      }
    }
  }
  if (branches.empty()) return;
  out << "\n## Merged teachers against the baseline per seed\n\nmAP of each branch's teachers "
         "merged into the full label order (what its students learn from), the difference to "
         "the same seed's baseline, and how many of its teachers beat the baseline on their "
         "classes.\n\n"
      << axis_header(s) << " seed |";
  for (const std::string& b : branches) out << " " << b << " |";
  out << "\n" << rule(axis_columns(s) + 1 + branches.size());
  for (const CellSummary& c : s.cells) {
    for (const SeedRow& r : c.seeds) {
      out << axis_cells(s, c) << " " << r.seed << " |";
      for (const std::string& name : branches) {
        std::string text;
        for (const BranchCheck& b : r.branches) {
          if (b.branch != name) continue;
          text = number(b.merged_map) + " (" + number(b.merged_map - b.baseline_map, true) + "; " +
                 std::to_string(b.teachers - b.teachers_behind) + "/" + std::to_string(b.teachers) +
                 ")";
        }
        out << " " << text << " |";
      }
      out << "\n";
    }
  }
}

void stage_table(std::ostringstream& out, const Summary& s) {
  std::vector<std::string> stages;
  for (const CellSummary& c : s.cells) {
    for (const auto& [stage, stat] : c.stage_seconds) {
      if (std::find(stages.begin(), stages.end(), stage) == stages.end()) stages.push_back(stage);
    }
  }
  if (stages.empty()) return;
  out << "\n## Wall time per stage\n\nMean over the seeds done; a stage another cell trained "
         "shows the time to load and check it.\n\n"
      << axis_header(s);
  for (const std::string& st : stages) out << " " << st << " |";
  out << "\n" << rule(axis_columns(s) + stages.size());
  for (const CellSummary& c : s.cells) {
    out << axis_cells(s, c);
    for (const std::string& st : stages) {
      std::string text;
      for (const auto& [name, stat] : c.stage_seconds) {
        if (name == st) text = format_duration(stat.mean);
      }
      out << " " << text << " |";
    }
    out << "\n";
  }
}

Json stat_json(const Stat& s) {
  auto value = [](double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); };
  return {{"mean", value(s.mean)}, {"std", value(s.std)}, {"n", s.n}};
}

Json pairs_json(const std::vector<std::pair<std::string, double>>& pairs) {
  Json out = Json::object();
  for (const auto& [k, v] : pairs) out[k] = v;
  return out;
}

Json cell_json(const CellSummary& c) {
  Json methods = Json::array(), seeds = Json::array(), stages = Json::object();
  for (const MethodSummary& m : c.methods) {
    methods.push_back({{"method", m.method},
                       {"baseline", m.baseline},
                       {"map", stat_json(m.map)},
                       {"cf1", stat_json(m.cf1)},
                       {"of1", stat_json(m.of1)},
                       {"vs_baseline", stat_json(m.vs_baseline)}});
  }
  for (const SeedRow& r : c.seeds) {
    Json branches = Json::array();
    for (const BranchCheck& b : r.branches) {
      branches.push_back({{"branch", b.branch},
                          {"merged_map", b.merged_map},
                          {"baseline_map", b.baseline_map},
                          {"teachers", b.teachers},
                          {"teachers_behind", b.teachers_behind}});
    }
    seeds.push_back({{"seed", r.seed},
                     {"map", pairs_json(r.map)},
                     {"teacher_check", branches},
                     {"stage_seconds", pairs_json(r.stage_seconds)}});
  }
  for (const auto& [stage, stat] : c.stage_seconds) stages[stage] = stat_json(stat);
  return {{"name", c.name},
          {"values", c.values},
          {"methods", methods},
          {"seeds", seeds},
          {"stage_seconds", stages}};
}

}  // namespace

std::string summary_markdown(const Summary& s) {
  std::ostringstream out;
  const int64_t n = static_cast<int64_t>(s.seeds.size());
  out << "# Sweep " << s.name << "\n\nRun config: `" << s.config.string() << "`; seeds:";
  for (int64_t seed : s.seeds) out << " " << seed;
  out << "; " << s.runs_done << " of " << s.runs << " runs done.";
  for (const Axis& a : s.axes) out << " Axis " << a.label << ": `" << a.key << "`.";
  out << "\n\nMean ± sample standard deviation over the seeds; the difference to the baseline "
         "is paired (each seed's method minus the same seed's baseline).\n";
  method_table(out, s, "mAP", false, [n](const MethodSummary& m) { return stat_text(m.map, n); });
  method_table(out, s, "mAP − baseline (paired)", true,
               [n](const MethodSummary& m) { return stat_text(m.vs_baseline, n, true); });
  method_table(out, s, "CF1", false, [n](const MethodSummary& m) { return stat_text(m.cf1, n); });
  method_table(out, s, "OF1", false, [n](const MethodSummary& m) { return stat_text(m.of1, n); });
  seed_table(out, s);
  teacher_table(out, s);
  stage_table(out, s);
  return out.str();
}

std::string summary_json(const Summary& s) {
  Json axes = Json::array(), cells = Json::array();
  for (const Axis& a : s.axes) {
    axes.push_back(
        {{"key", a.key}, {"label", a.label}, {"values", a.values}, {"numeric", a.numeric}});
  }
  for (const CellSummary& c : s.cells) cells.push_back(cell_json(c));
  return json_text({{"name", s.name},
                    {"config", s.config.string()},
                    {"seeds", s.seeds},
                    {"axes", axes},
                    {"methods", s.methods},
                    {"runs", s.runs},
                    {"runs_done", s.runs_done},
                    {"cells", cells}});
}

}  // namespace cpsd::sweep
