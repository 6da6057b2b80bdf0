// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/vis/sweep_chart.h"

#include <cmath>
#include <string>

#include "cpsd/core/vis/chart.h"

namespace cpsd::vis {
namespace {

const sweep::MethodSummary* find(const sweep::CellSummary& cell, const std::string& method) {
  for (const sweep::MethodSummary& m : cell.methods) {
    if (m.method == method) return &m;
  }
  return nullptr;
}

// Methods on the x axis, a series of points per cell, each cell shifted a little so that
// the bars of one method do not hide each other.
Chart methods_chart(const sweep::Summary& s) {
  Chart c{"mAP by method (mean +/- std over seeds)", "method", "mAP", {}, false, s.methods};
  const double n = static_cast<double>(s.cells.size());
  for (std::size_t k = 0; k < s.cells.size(); ++k) {
    const sweep::CellSummary& cell = s.cells[k];
    Series series{cell.name, {}, {}, {}, false};
    const double shift = n > 1 ? 0.5 * (static_cast<double>(k) / (n - 1) - 0.5) : 0.0;
    for (std::size_t i = 0; i < s.methods.size(); ++i) {
      const sweep::MethodSummary* m = find(cell, s.methods[i]);
      if (m == nullptr || m->map.n == 0) continue;
      series.x.push_back(static_cast<double>(i) + shift);
      series.y.push_back(m->map.mean);
      series.err.push_back(m->map.std);
    }
    c.series.push_back(std::move(series));
  }
  return c;
}

// mAP against the one numeric axis, a line per method.
Chart axis_chart(const sweep::Summary& s) {
  const sweep::Axis& axis = s.axes.front();
  Chart c{"mAP against " + axis.label + " (mean +/- std)", axis.label, "mAP", {}, false, {}};
  for (const std::string& method : s.methods) {
    Series series{method, {}, {}, {}, true};
    for (std::size_t k = 0; k < s.cells.size(); ++k) {
      const sweep::MethodSummary* m = find(s.cells[k], method);
      if (m == nullptr || m->map.n == 0) continue;
      series.x.push_back(std::stod(axis.values[k]));
      series.y.push_back(m->map.mean);
      series.err.push_back(m->map.std);
    }
    c.series.push_back(std::move(series));
  }
  return c;
}

}  // namespace

void write_sweep_chart(const std::filesystem::path& png, const sweep::Summary& summary) {
  std::vector<Chart> charts = {methods_chart(summary)};
  if (summary.axes.size() == 1 && summary.axes.front().numeric)
    charts.push_back(axis_chart(summary));
  write_charts(png, charts);
}

}  // namespace cpsd::vis
