// SPDX-License-Identifier: Apache-2.0
// A run computed once from its config: methods, branches, stages and their settings, all
// checked before anything is trained.
#pragma once

#include <string>
#include <vector>

#include "cpsd/core/engine/distill_weights.h"
#include "cpsd/core/engine/run_layout.h"
#include "cpsd/core/engine/train_settings.h"
#include "cpsd/core/export.h"
#include "cpsd/core/registry.h"
#include "cpsd/core/run_config.h"

namespace cpsd::engine {

enum class Stage { train, teachers, distill };
enum class TeacherImages { all, positive };
enum class TeacherInit { pretrained, baseline };
enum class DistillMode { online, cached };
enum class TeacherMode { eval, train };

/// A decomposition of the label set whose sub-task teachers students learn from: the table
/// [branches.<name>].
struct CPSD_CORE_API BranchSpec {
  std::string name;  ///< the table's name
  /// The branch whose partition and teachers this one uses: its own name, or that of the
  /// first branch with the same decomposer, k, images and options (the same teachers;
  /// only the weight differs).
  std::string teachers_of;
  std::string decomposer;  ///< registry name of the decomposer plugin
  int64_t k = 0;           ///< number of groups (sub-tasks, teachers)
  double weight = 1;       ///< relative weight of its distillation term
  TeacherImages images = TeacherImages::all;
  Options options;  ///< the decomposer's options for this branch
  /// The teacher trained on group `index`: <teachers_of>_<index>.
  std::string teacher(int64_t index) const { return teachers_of + "_" + std::to_string(index); }
  /// Whether it trains its own teachers (no earlier branch defines the same ones).
  bool owns_teachers() const { return teachers_of == name; }
};

/// A method of [methods]: the branches its student learns from; none for the baseline.
struct MethodSpec {
  std::string name;
  std::vector<std::string> branches;
};

/// How students learn ([distill]).
struct DistillSettings {
  std::string loss;  ///< distillation loss registry name
  double cls_weight = 0.5;
  DistillMode mode = DistillMode::online;
  TeacherMode teacher_mode = TeacherMode::eval;
  Weighting weighting = Weighting::none;
  double weight_scale = 2;
};

struct CPSD_CORE_API RunPlan {
  RunLayout layout{"."};
  uint64_t seed = 0;
  std::vector<MethodSpec> methods;   ///< those run.methods selects, in its order
  std::vector<BranchSpec> branches;  ///< those the selected methods use, in first use
  /// The baseline (a full-label model without teachers) is trained: a selected method has no
  /// branches, or teachers or weights need it.
  bool baseline = false;
  TrainSettings train, teachers, students;
  TeacherInit teacher_init = TeacherInit::pretrained;
  DistillSettings distill;

  /// ConfigError naming the branches there are when `name` is none of them.
  const BranchSpec& branch(const std::string& name) const;
  /// The selected methods that have a student (at least one branch).
  std::vector<const MethodSpec*> students_methods() const;
};

/// Builds the plan of `config` and checks every choice in it (methods, branches and their
/// decomposers, stage settings, distillation settings), without touching data or tensors.
/// `methods`, when not empty, replaces run.methods (`cpsd distill --method`). ConfigError
/// naming the key and where it was set; unknown names list what exists.
CPSD_CORE_API RunPlan make_plan(const RunConfig& config, const Registry& registry,
                                const std::vector<std::string>& methods = {});

/// The run directory run.output/run.name (ConfigError for an empty name).
CPSD_CORE_API RunLayout run_layout(const RunConfig& config);

/// The settings of one stage: [train], with [teachers] / [distill] overrides. ConfigError on
/// an invalid value.
CPSD_CORE_API TrainSettings read_train_settings(const RunConfig& config, Stage stage);

}  // namespace cpsd::engine
