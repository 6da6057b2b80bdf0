// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/teacher_check.h"

#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>

namespace cpsd::engine {
namespace {

// Mean of the values at `classes` that are numbers in both vectors (a class without
// validation positives has NaN in both).
std::pair<double, double> paired_means(const std::vector<double>& a, const std::vector<double>& b) {
  double sa = 0, sb = 0;
  int64_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) continue;
    sa += a[i];
    sb += b[i];
    ++n;
  }
  if (n == 0) return {NAN, NAN};
  return {sa / static_cast<double>(n), sb / static_cast<double>(n)};
}

}  // namespace

std::vector<std::string> TeacherCheck::weak_branches() const {
  std::vector<std::string> weak;
  for (const BranchVsBaseline& b : branches) {
    if (!(b.merged_map > b.baseline_map)) weak.push_back(b.branch);
  }
  return weak;
}

TeacherCheck compare_teachers(const std::vector<double>& baseline_ap,
                              const std::vector<TeacherAp>& teachers) {
  TeacherCheck check;
  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> merged;
  std::map<std::string, BranchVsBaseline> branches;
  for (const TeacherAp& t : teachers) {
    if (t.ap.size() != t.classes.size())
      throw std::invalid_argument(t.teacher + ": one AP per class expected");
    if (!merged.count(t.branch)) {
      order.push_back(t.branch);
      merged[t.branch].assign(baseline_ap.size(), NAN);
      branches[t.branch].branch = t.branch;
    }
    std::vector<double> base(t.classes.size());
    for (std::size_t i = 0; i < t.classes.size(); ++i) {
      const auto c = static_cast<std::size_t>(t.classes[i]);
      if (c >= baseline_ap.size())
        throw std::invalid_argument(t.teacher + ": class index out of range");
      base[i] = baseline_ap[c];
      merged[t.branch][c] = t.ap[i];
    }
    const auto [teacher_map, baseline_map] = paired_means(t.ap, base);
    check.teachers.push_back({t.branch, t.teacher, t.classes, teacher_map, baseline_map});
    BranchVsBaseline& b = branches[t.branch];
    ++b.teachers;
    if (!(teacher_map > baseline_map)) ++b.teachers_behind;
  }
  for (const std::string& name : order) {
    BranchVsBaseline b = branches[name];
    // A class no teacher of the branch predicts stays NaN, so its pair is left out: catch
    // that instead of reporting a mAP over fewer classes.
    for (std::size_t c = 0; c < baseline_ap.size(); ++c) {
      if (std::isnan(merged[name][c]) && !std::isnan(baseline_ap[c])) {
        throw std::invalid_argument("branch " + name + ": no teacher predicts class " +
                                    std::to_string(c));
      }
    }
    std::tie(b.merged_map, b.baseline_map) = paired_means(merged[name], baseline_ap);
    check.branches.push_back(b);
  }
  return check;
}

std::string teacher_check_table(const TeacherCheck& check) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(2);
  out << "| teachers | classes | mAP | baseline on them | gain |\n|---|---:|---:|---:|---:|\n";
  auto row = [&](const std::string& name, std::size_t classes, double mine, double base) {
    out << "| " << name << " | " << classes << " | " << mine << " | " << base << " | "
        << std::showpos << mine - base << std::noshowpos << " |\n";
  };
  for (const BranchVsBaseline& b : check.branches) {
    std::size_t classes = 0;
    for (const TeacherVsBaseline& t : check.teachers)
      classes += t.branch == b.branch ? t.classes.size() : 0;
    row(b.branch + " merged (" + std::to_string(b.teachers - b.teachers_behind) + " of " +
            std::to_string(b.teachers) + " teachers ahead)",
        classes, b.merged_map, b.baseline_map);
  }
  for (const TeacherVsBaseline& t : check.teachers)
    row(t.teacher, t.classes.size(), t.teacher_map, t.baseline_map);
  return out.str();
}

}  // namespace cpsd::engine
