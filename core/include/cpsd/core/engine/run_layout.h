// SPDX-License-Identifier: Apache-2.0
// Every path of a run directory, in one place.
#pragma once

#include <filesystem>
#include <string>

#include "cpsd/core/export.h"

namespace cpsd::engine {

/// The files `cpsd run` writes under run.output/run.name. Commands, the report and the
/// pictures find a run's parts through this class only.
class CPSD_CORE_API RunLayout {
 public:
  explicit RunLayout(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path config() const { return root_ / "config.toml"; }
  std::filesystem::path statistics() const { return root_ / "statistics.json"; }
  std::filesystem::path partitions() const { return root_ / "partitions"; }
  /// partitions/<branch>.k<k>.json, and its affinity picture beside it (.png).
  std::filesystem::path partition(const std::string& branch, int64_t k) const;
  std::filesystem::path baseline() const { return root_ / "baseline"; }
  std::filesystem::path teachers() const { return root_ / "teachers"; }
  std::filesystem::path teacher(const std::string& name) const { return teachers() / name; }
  std::filesystem::path manifest() const { return teachers() / "manifest.json"; }
  std::filesystem::path student(const std::string& method) const { return root_ / method; }
  std::filesystem::path results_md() const { return root_ / "results.md"; }
  std::filesystem::path results_json() const { return root_ / "results.json"; }
  std::filesystem::path distill_weights() const { return root_ / "distill_weights.json"; }
  std::filesystem::path plots() const { return root_ / "plots"; }
  std::filesystem::path report() const { return root_ / "report"; }

  /// In a job's directory (baseline/, teachers/<name>/, <method>/).
  static std::filesystem::path best(const std::filesystem::path& job) { return job / "best.ckpt"; }
  static std::filesystem::path last(const std::filesystem::path& job) { return job / "last.ckpt"; }
  static std::filesystem::path metrics_json(const std::filesystem::path& job) {
    return job / "metrics.json";
  }
  static std::filesystem::path metrics_csv(const std::filesystem::path& job) {
    return job / "metrics.csv";
  }

 private:
  std::filesystem::path root_;
};

}  // namespace cpsd::engine
