// SPDX-License-Identifier: Apache-2.0
// The results of a run: the table `cpsd run` prints, results.md and results.json.
#include <sstream>

#include "../json_file.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/distributed.h"
#include "cpsd/core/engine/pipeline.h"
#include "cpsd/core/progress.h"

namespace cpsd::engine {
namespace {

Json teacher_check_json(const TeacherCheck& check) {
  Json branches = Json::array(), teachers = Json::array();
  for (const BranchVsBaseline& b : check.branches) {
    branches.push_back({{"branch", b.branch},
                        {"merged_map", b.merged_map},
                        {"baseline_map", b.baseline_map},
                        {"teachers", b.teachers},
                        {"teachers_behind", b.teachers_behind}});
  }
  for (const TeacherVsBaseline& t : check.teachers) {
    teachers.push_back({{"branch", t.branch},
                        {"teacher", t.teacher},
                        {"classes", t.classes},
                        {"map", t.teacher_map},
                        {"baseline_map", t.baseline_map}});
  }
  return {{"branches", branches}, {"teachers", teachers}};
}

}  // namespace

std::string results_table(const PipelineReport& report, double threshold) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(2);
  const MethodResult* baseline = nullptr;
  for (const MethodResult& r : report.results) {
    if (r.baseline) baseline = &r;
  }
  out << "| method | mAP | " << (baseline ? "vs baseline | " : "")
      << "CF1 | OF1 | CP | CR | OP | OR | best epoch |\n"
      << "|---|---:|" << (baseline ? "---:|" : "") << "---:|---:|---:|---:|---:|---:|---:|\n";
  for (const MethodResult& r : report.results) {
    const Metrics& m = r.metrics;
    out << "| " << r.method << " | " << m.map << " | ";
    if (baseline) {
      if (&r == baseline) {
        out << " | ";
      } else {
        out << std::showpos << m.map - baseline->metrics.map << std::noshowpos << " | ";
      }
    }
    out << m.cf1 << " | " << m.of1 << " | " << m.cp << " | " << m.cr << " | " << m.op << " | "
        << m.orecall << " | " << r.best.epoch << " (" << r.best.source << ") |\n";
  }
  if (report.teacher_check) {
    out << "\nteachers against the baseline (validation mAP on the teachers' classes):\n\n"
        << teacher_check_table(*report.teacher_check);
  }
  out << "\nthresholded metrics at sigmoid >= " << threshold
      << "; mAP over classes with validation positives\n\n"
      << "| stage | wall time |\n|---|---:|\n";
  for (const StageTime& s : report.stages)
    out << "| " << s.stage << " | " << format_duration(s.seconds) << " |\n";
  return out.str();
}

void write_results(const PipelineReport& report, const RunPlan& plan) {
  if (distributed() != nullptr && !distributed()->is_main()) return;
  write_file_atomically(plan.layout.results_md(), results_table(report, plan.train.threshold));
  Json rows = Json::array();
  for (const MethodResult& r : report.results) {
    rows.push_back({{"method", r.method},
                    {"baseline", r.baseline},
                    {"branches", r.branches},
                    {"map", r.metrics.map},
                    {"cf1", r.metrics.cf1},
                    {"of1", r.metrics.of1},
                    {"cp", r.metrics.cp},
                    {"cr", r.metrics.cr},
                    {"op", r.metrics.op},
                    {"or", r.metrics.orecall},
                    {"best_epoch", r.best.epoch},
                    {"best_source", r.best.source},
                    {"checkpoint", r.checkpoint.string()},
                    {"ap", r.metrics.ap}});
  }
  Json stages = Json::array();
  for (const StageTime& s : report.stages)
    stages.push_back({{"stage", s.stage}, {"seconds", s.seconds}});
  Json results = {{"threshold", plan.train.threshold}, {"results", rows}, {"stages", stages}};
  if (report.teacher_check) results["teacher_check"] = teacher_check_json(*report.teacher_check);
  write_file_atomically(plan.layout.results_json(), json_text(results));
}

}  // namespace cpsd::engine
