// SPDX-License-Identifier: Apache-2.0
// The self-contained HTML report of a run directory.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "../json_file.h"
#include "../text_file.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/engine/run_layout.h"
#include "cpsd/core/log.h"
#include "cpsd/core/run_config.h"
#include "cpsd/core/vis/run_views.h"
#include "cpsd/sdk/error.h"
#include "html.h"

namespace cpsd::vis {
namespace {

std::string fixed(double v, int digits = 2) {
  if (!std::isfinite(v)) return "&ndash;";
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(digits);
  out << v;
  return out.str();
}

// Relative path from the report directory.
std::string link(const fs::path& run_dir, const fs::path& file) {
  return "../" + fs::relative(file, run_dir).generic_string();
}

void results_section(std::ostream& html, const Json& results) {
  html << "<h2>Results</h2>\n<table><tr><th>method</th><th>mAP</th><th>CF1</th><th>OF1</th><th>CP</"
          "th><th>CR</th>"
          "<th>OP</th><th>OR</th><th>best epoch</th></tr>\n";
  for (const Json& r : results["results"]) {
    html << "<tr><td>" << escape(r["method"].get<std::string>()) << "</td>";
    for (const char* k : {"map", "cf1", "of1", "cp", "cr", "op", "or"})
      html << "<td>" << fixed(r[k].get<double>()) << "</td>";
    html << "<td>" << r["best_epoch"].get<int64_t>() << " ("
         << escape(r["best_source"].get<std::string>()) << ")</td></tr>\n";
  }
  html << "</table>\n<p>Thresholded metrics at sigmoid &ge; "
       << fixed(results["threshold"].get<double>())
       << "; mAP over classes with validation positives.</p>\n<table><tr><th>stage</th><th>wall "
          "time (s)</th></tr>\n";
  for (const Json& s : results["stages"]) {
    html << "<tr><td>" << escape(s["stage"].get<std::string>()) << "</td><td>"
         << fixed(s["seconds"].get<double>(), 0) << "</td></tr>\n";
  }
  html << "</table>\n";
}

// Whether the teachers know more than the baseline (results.json's teacher_check).
void teacher_check_section(std::ostream& html, const Json& check) {
  html << "<h2>Teachers against the baseline</h2>\n<p>Validation mAP of each branch's teachers "
          "merged into the "
          "full label order (what a student learns from) and of each teacher on its classes, "
          "beside the "
          "baseline's on the same classes.</p>\n";
  for (const Json& b : check["branches"]) {
    if (b["merged_map"].get<double>() > b["baseline_map"].get<double>()) continue;
    html << "<p class=\"warn\">Branch " << escape(b["branch"].get<std::string>())
         << ": its merged teachers do not beat the baseline; a student cannot learn from them what "
            "the baseline "
            "does not already know.</p>\n";
  }
  html << "<table><tr><th>teachers</th><th>classes</th><th>mAP</th><th>baseline on "
          "them</th><th>gain</th></tr>\n";
  auto row = [&](const std::string& name, std::size_t classes, double mine, double base) {
    html << "<tr><td>" << escape(name) << "</td><td>" << classes << "</td><td>" << fixed(mine)
         << "</td><td>" << fixed(base) << "</td><td>" << (mine > base ? "+" : "")
         << fixed(mine - base) << "</td></tr>\n";
  };
  for (const Json& b : check["branches"]) {
    std::size_t classes = 0;
    for (const Json& t : check["teachers"])
      classes += t["branch"] == b["branch"] ? t["classes"].size() : 0;
    row(b["branch"].get<std::string>() + " merged", classes, b["merged_map"].get<double>(),
        b["baseline_map"].get<double>());
  }
  for (const Json& t : check["teachers"]) {
    row(t["teacher"].get<std::string>(), t["classes"].size(), t["map"].get<double>(),
        t["baseline_map"].get<double>());
  }
  html << "</table>\n";
}

// The baseline's row of results.json and the distilled model's row with the best mAP (either
// may be null).
struct BaselineAndBest {
  const Json* base = nullptr;
  const Json* best = nullptr;
};

BaselineAndBest baseline_and_best(const Json& results) {
  BaselineAndBest rows;
  for (const Json& r : results["results"]) {
    if (r.value("baseline", false))
      rows.base = &r;
    else if (rows.best == nullptr || r["map"].get<double>() > (*rows.best)["map"].get<double>())
      rows.best = &r;
  }
  return rows;
}

void per_class_section(std::ostream& html, const Json& results,
                       const std::vector<std::string>& classes) {
  const auto [base, best] = baseline_and_best(results);
  const Json* shown = best != nullptr ? best : base;
  if (shown == nullptr || classes.empty()) return;
  std::vector<std::size_t> order(classes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto ap = [](const Json* r, std::size_t c) {
    const Json& v = (*r)["ap"][c];
    return v.is_number() ? v.get<double>() : NAN;
  };
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return ap(shown, a) > ap(shown, b); });
  html << "<h2>Per-class AP (" << escape((*shown)["method"].get<std::string>())
       << ", sorted)</h2>\n<table><tr><th>class</th><th>AP</th>"
       << (base && shown != base ? "<th>baseline</th><th>gain</th>" : "") << "<th></th></tr>\n";
  for (std::size_t c : order) {
    const double a = ap(shown, c);
    html << "<tr><td>" << escape(classes[c]) << "</td><td>" << fixed(a) << "</td>";
    if (base && shown != base)
      html << "<td>" << fixed(ap(base, c)) << "</td><td>" << fixed(a - ap(base, c)) << "</td>";
    html << "<td><div class=\"bar\" style=\"width:"
         << (std::isfinite(a) ? static_cast<int>(a * 2) : 0) << "px\"></div></td></tr>\n";
  }
  html << "</table>\n";
}

void curves_section(std::ostream& html, const fs::path& run_dir) {
  html << "<h2>Learning curves</h2>\n";
  for (const fs::path& png : plot_run(run_dir)) {
    html << "<p><img src=\"" << link(run_dir, png) << "\" alt=\"" << escape(png.stem().string())
         << "\"></p>\n";
  }
}

// The (at most two) classes to draw: those the best student gained most on over the
// baseline, or the first classes when there are no results.
std::vector<std::size_t> classes_to_draw(const Json& results, std::size_t num_classes) {
  std::vector<std::size_t> picks(num_classes);
  for (std::size_t c = 0; c < picks.size(); ++c) picks[c] = c;
  const auto [base, best] = results.is_null() ? BaselineAndBest{} : baseline_and_best(results);
  if (base != nullptr && best != nullptr) {
    auto gain = [&](std::size_t c) {
      const Json& a = (*best)["ap"][c];
      const Json& b = (*base)["ap"][c];
      return a.is_number() && b.is_number() ? a.get<double>() - b.get<double>() : -1e9;
    };
    std::stable_sort(picks.begin(), picks.end(),
                     [&](std::size_t a, std::size_t b) { return gain(a) > gain(b); });
  }
  picks.resize(std::min<std::size_t>(2, picks.size()));
  return picks;
}

// Activation maps of two classes on validation images that hold them; a run whose models or
// images cannot be read gets a line saying why instead.
void activation_maps_section(std::ostream& html, const engine::RunLayout& layout,
                             const Json& results, const Registry& registry) {
  try {
    const RunConfig config =
        RunConfig::parse(read_text_file(layout.config()), layout.config().string(), {}, registry);
    const data::Dataset val = data::load_dataset(config, data::Split::val);
    html << "<h2>Activation maps</h2>\n<p>Columns: the CGP teacher and the DGP teacher holding the "
            "class, then the student.</p>\n";
    for (std::size_t c : classes_to_draw(results, val.class_names.size())) {
      std::vector<std::string> images;
      for (const data::Sample& s : val.samples) {
        if (std::find(s.labels.begin(), s.labels.end(), static_cast<int64_t>(c)) != s.labels.end())
          images.push_back(s.path);
        if (images.size() == 2) break;
      }
      if (images.empty()) continue;
      const std::string& name = val.class_names[c];
      const fs::path png = layout.report() / ("cam_" + name + ".png");
      draw_activation_maps(cam_models_of_run(layout.root(), name), name, images, png, registry);
      html << "<h3>" << escape(name) << "</h3><p><img src=\""
           << fs::relative(png, layout.report()).generic_string() << "\" alt=\"activation maps of "
           << escape(name) << "\"></p>\n";
    }
  } catch (const Error& e) {
    log::warn("report: activation maps left out: {}", e.what());
    html << "<p>Activation maps left out: " << escape(e.what()) << "</p>\n";
  }
}

// Each partition file: its groups of class names and, when drawn, its affinity picture.
void partitions_section(std::ostream& html, const engine::RunLayout& layout) {
  html << "<h2>Partitions</h2>\n";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(layout.partitions())) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    const Json p = read_json_file(f);
    html << "<h3>" << escape(f.stem().string()) << " (decomposer/"
         << escape(p.value("decomposer", "")) << ")</h3>\n<ol start=\"0\">";
    for (const Json& g : p["groups"]) {
      std::string names;
      for (const Json& n : g["classes"])
        names += (names.empty() ? "" : ", ") + n.get<std::string>();
      html << "<li>" << escape(names) << "</li>";
    }
    html << "</ol>\n";
    const fs::path png = fs::path(f).replace_extension(".png");
    if (fs::exists(png)) {
      html << "<p><img src=\"" << link(layout.root(), png) << "\" alt=\"affinity of "
           << escape(f.stem().string()) << "\" style=\"max-width:480px\"></p>\n";
    }
  }
}

void teachers_section(std::ostream& html, const engine::RunLayout& layout) {
  html << "<h2>Teachers</h2>\n<table><tr><th>teacher</th><th>classes</th><th>best "
          "mAP</th><th>epoch</th></tr>\n";
  for (const Json& t : read_json_file(layout.manifest())) {
    html << "<tr><td>" << escape(t["branch"].get<std::string>()) << "_" << t["index"].get<int64_t>()
         << "</td><td>" << t["classes"].size() << "</td><td>" << fixed(t["best_map"].get<double>())
         << "</td><td>" << t["best_epoch"].get<int64_t>() << "</td></tr>\n";
  }
  html << "</table>\n";
}

}  // namespace

fs::path write_report(const fs::path& run_dir, const Registry& registry) {
  const engine::RunLayout layout(run_dir);
  if (!fs::exists(layout.config())) {
    throw ConfigError(run_dir.string() + ": no config.toml; give the directory `cpsd run` wrote");
  }
  fs::create_directories(layout.report());
  const Json results =
      fs::exists(layout.results_json()) ? read_json_file(layout.results_json()) : Json();
  std::vector<std::string> classes;
  if (fs::exists(layout.statistics())) {
    classes = read_json_file(layout.statistics())["classes"].get<std::vector<std::string>>();
  }
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>cpsd run "
       << escape(run_dir.filename().string()) << "</title>\n"
       << page_style() << "</head><body>\n"
       << "<h1>cpsd run: " << escape(run_dir.filename().string()) << "</h1>\n";
  if (!results.is_null()) results_section(html, results);
  if (!results.is_null() && results.contains("teacher_check"))
    teacher_check_section(html, results["teacher_check"]);
  curves_section(html, run_dir);
  activation_maps_section(html, layout, results, registry);
  if (fs::exists(layout.partitions())) partitions_section(html, layout);
  if (fs::exists(layout.manifest())) teachers_section(html, layout);
  if (!results.is_null()) per_class_section(html, results, classes);
  html << "<h2>Config</h2>\n<pre>" << escape(read_text_file(layout.config()))
       << "</pre>\n</body></html>\n";
  const fs::path page = layout.report() / "index.html";
  write_file_atomically(page, html.str());
  return page;
}

}  // namespace cpsd::vis
