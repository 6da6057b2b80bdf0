// SPDX-License-Identifier: Apache-2.0
// Progress of long work: a redrawn bar on a terminal, a periodic log line otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "cpsd/core/export.h"

namespace cpsd {

/// Reports done/total with rate and ETA on stderr. On a terminal (and without CI set) a
/// bar is redrawn at most 10 times a second; otherwise an info line is logged at most every
/// `interval_seconds`. Not thread-safe: call update() from one thread.
class CPSD_CORE_API Progress {
 public:
  Progress(std::string label, int64_t total, double interval_seconds = 10.0);
  ~Progress();
  /// `extra` is appended to the line (e.g. "loss 0.41").
  void update(int64_t done, const std::string& extra = "");
  /// Prints the final state once (also done by the destructor).
  void finish(const std::string& extra = "");
  double elapsed_seconds() const;

 private:
  void print(int64_t done, const std::string& extra, bool final);

  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  double interval_;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

/// "1 h 02 min", "3 min 05 s", "12 s".
CPSD_CORE_API std::string format_duration(double seconds);

}  // namespace cpsd
