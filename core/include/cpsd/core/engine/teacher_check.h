// SPDX-License-Identifier: Apache-2.0
// Whether the teachers know more than the baseline: checked after the teachers, before
// any student spends time learning from them.
#pragma once

#include <string>
#include <vector>

#include "cpsd/core/export.h"

namespace cpsd::engine {

/// One teacher against the baseline, on the teacher's classes (validation split; mAP over
/// those with positives, in percent).
struct TeacherVsBaseline {
  std::string branch, teacher;
  std::vector<int64_t> classes;
  double teacher_map = 0, baseline_map = 0;
};

/// A branch's teachers merged into the full label order (the paper's rho: exactly the
/// logits a student of that branch learns from) against the baseline, on every class.
struct BranchVsBaseline {
  std::string branch;
  double merged_map = 0, baseline_map = 0;
  int64_t teachers = 0, teachers_behind = 0;  ///< teachers not above the baseline on their classes
};

struct TeacherCheck {
  std::vector<TeacherVsBaseline> teachers;
  std::vector<BranchVsBaseline> branches;
  /// The branches whose merged teachers do not beat the baseline.
  CPSD_CORE_API std::vector<std::string> weak_branches() const;
};

/// What compare_teachers needs of one teacher: its per-class validation AP (percent, NaN
/// for classes without positives), in its output order = `classes`.
struct TeacherAp {
  std::string branch, teacher;
  std::vector<int64_t> classes;
  std::vector<double> ap;
};

/// baseline_ap: the baseline's per-class validation AP over all classes (as Metrics::ap).
/// Branches appear in the order of their first teacher; a branch's teachers must cover
/// every class once (invalid_argument otherwise).
CPSD_CORE_API TeacherCheck compare_teachers(const std::vector<double>& baseline_ap,
                                            const std::vector<TeacherAp>& teachers);

/// The check as Markdown: one row per branch, then one per teacher.
CPSD_CORE_API std::string teacher_check_table(const TeacherCheck& check);

}  // namespace cpsd::engine
