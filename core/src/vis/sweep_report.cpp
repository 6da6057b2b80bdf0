// SPDX-License-Identifier: Apache-2.0
// The HTML page of a sweep directory: its summary tables, its chart, links to its runs.
#include <fstream>
#include <sstream>

#include "../json_file.h"
#include "../text_file.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/vis/run_views.h"
#include "cpsd/sdk/error.h"
#include "html.h"

namespace cpsd::vis {
namespace {

// `code` spans of one line of results.md, the rest escaped.
std::string inline_html(const std::string& line) {
  std::string out;
  bool code = false;
  std::size_t from = 0;
  for (std::size_t at; (at = line.find('`', from)) != std::string::npos; from = at + 1) {
    out += escape(line.substr(from, at - from)) + (code ? "</code>" : "<code>");
    code = !code;
  }
  return out + escape(line.substr(from)) + (code ? "</code>" : "");
}

std::vector<std::string> table_cells(const std::string& row) {
  std::vector<std::string> cells;
  std::size_t from = 1;
  for (std::size_t bar; (bar = row.find('|', from)) != std::string::npos; from = bar + 1) {
    std::string c = row.substr(from, bar - from);
    const std::size_t a = c.find_first_not_of(' '), b = c.find_last_not_of(' ');
    cells.push_back(a == std::string::npos ? "" : c.substr(a, b - a + 1));
  }
  return cells;
}

// The Markdown summary.cpp writes (headings, paragraphs, tables) as HTML.
void markdown_html(std::ostream& html, const std::string& markdown) {
  std::istringstream in(markdown);
  bool header = false;
  for (std::string line; std::getline(in, line);) {
    const bool row = !line.empty() && line[0] == '|';
    if (row && !header && line.find("---") != std::string::npos) continue;  // the rule
    if (!row && header) html << "</table>\n";
    if (row) {
      if (!header) html << "<table>\n";
      html << "<tr>";
      for (const std::string& c : table_cells(line))
        html << (header ? "<td>" : "<th>") << inline_html(c) << (header ? "</td>" : "</th>");
      html << "</tr>\n";
      header = true;
      continue;
    }
    header = false;
    if (line.rfind("## ", 0) == 0) {
      html << "<h2>" << inline_html(line.substr(3)) << "</h2>\n";
    } else if (line.rfind("# ", 0) == 0) {
      html << "<h1>" << inline_html(line.substr(2)) << "</h1>\n";
    } else if (!line.empty()) {
      html << "<p>" << inline_html(line) << "</p>\n";
    }
  }
  if (header) html << "</table>\n";
}

// Each run of the grid: a link to its report when it has one, else to its results.
void runs_section(std::ostream& html, const fs::path& sweep_dir, const Json& summary) {
  html << "<h2>Runs</h2>\n<ul>\n";
  for (const Json& cell : summary.value("cells", Json::array())) {
    const std::string name = cell.value("name", "");
    for (const Json& seed : cell.value("seeds", Json::array())) {
      const std::string s = "seed" + std::to_string(seed.value("seed", 0));
      const fs::path run = fs::path("cells") / name / s;
      const bool report = fs::exists(sweep_dir / run / "report" / "index.html");
      const fs::path target = fs::path("..") / run / (report ? "report/index.html" : "results.md");
      html << "<li><a href=\"" << escape(target.generic_string()) << "\">" << escape(name) << " "
           << s << "</a></li>\n";
    }
  }
  html << "</ul>\n";
}

}  // namespace

fs::path write_sweep_report(const fs::path& sweep_dir) {
  const fs::path md = sweep_dir / "results.md", json = sweep_dir / "results.json";
  if (!fs::exists(md) || !fs::exists(json)) {
    throw ConfigError(sweep_dir.string() +
                      ": no results.md/results.json; run `cpsd sweep` (or `cpsd sweep --summary`) "
                      "first");
  }
  const Json summary = read_json_file(json);
  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>cpsd sweep "
       << escape(summary.value("name", "")) << "</title>\n"
       << page_style() << "</head><body>\n";
  if (fs::exists(sweep_dir / "results.png"))
    html << "<p><img src=\"../results.png\" alt=\"mAP by method\"></p>\n";
  markdown_html(html, read_text_file(md));
  runs_section(html, sweep_dir, summary);
  html << "</body></html>\n";
  const fs::path page = sweep_dir / "report" / "index.html";
  fs::create_directories(page.parent_path());
  write_file_atomically(page, html.str());
  return page;
}

}  // namespace cpsd::vis
