// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "cpsd/core/log.h"

namespace cpsd {

std::string format_duration(double seconds) {
  const auto s = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  char out[48];
  if (s >= 3600) {
    std::snprintf(out, sizeof(out), "%lld h %02lld min", s / 3600, (s % 3600) / 60);
  } else if (s >= 60) {
    std::snprintf(out, sizeof(out), "%lld min %02lld s", s / 60, s % 60);
  } else {
    std::snprintf(out, sizeof(out), "%lld s", s);
  }
  return out;
}

Progress::Progress(std::string label, int64_t total, double interval_seconds)
    : label_(std::move(label)),
      total_(total),
      interval_(interval_seconds),
      tty_(isatty(STDERR_FILENO) != 0 && std::getenv("CI") == nullptr),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

Progress::~Progress() { finish(); }

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(int64_t done, const std::string& extra) {
  done_ = done;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (since < (tty_ ? 0.1 : interval_)) return;
  last_ = now;
  print(done, extra, false);
}

void Progress::finish(const std::string& extra) {
  if (finished_) return;
  finished_ = true;
  print(done_, extra, true);
}

void Progress::print(int64_t done, const std::string& extra, bool final) {
  const double elapsed = elapsed_seconds();
  const double rate = done / std::max(elapsed, 1e-9);
  const double eta = rate > 0 ? (total_ - done) / rate : 0;
  char line[256];
  if (tty_) {
    const int width = 24;
    const int filled = total_ > 0 ? static_cast<int>(width * done / total_) : width;
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    std::snprintf(
        line, sizeof(line), "\r%s [%s] %lld/%lld %.1f/s %s %s", label_.c_str(), bar.c_str(),
        static_cast<long long>(done), static_cast<long long>(total_), rate,
        final ? format_duration(elapsed).c_str() : ("ETA " + format_duration(eta)).c_str(),
        extra.c_str());
    std::fprintf(stderr, "%s\033[K%s", line, final ? "\n" : "");
    std::fflush(stderr);
    return;
  }
  if (final) {
    log::info("{}: {}/{} done in {} ({:.1f}/s) {}", label_, done, total_, format_duration(elapsed),
              rate, extra);
  } else {
    log::info("{}: {}/{} ({:.0f}%), {:.1f}/s, ETA {} {}", label_, done, total_,
              total_ > 0 ? 100.0 * done / total_ : 100.0, rate, format_duration(eta), extra);
  }
}

}  // namespace cpsd
