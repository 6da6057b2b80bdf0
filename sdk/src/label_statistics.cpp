// SPDX-License-Identifier: Apache-2.0
// Checks shared by every decomposer and by the host.
#include <cmath>
#include <sstream>
#include <tuple>

#include "cpsd/sdk/decomposer.h"
#include "cpsd/sdk/error.h"

namespace cpsd {
namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw ConfigError("label statistics: " + what);
}

std::string pair_name(const LabelStatistics& s, std::size_t i, std::size_t j) {
  return "'" + s.class_names[i] + "' and '" + s.class_names[j] + "'";
}

}  // namespace

void validate_statistics(const LabelStatistics& s) {
  const std::size_t m = s.class_names.size();
  if (m == 0) invalid("no classes");
  if (s.counts.size() != m) {
    invalid(std::to_string(m) + " classes but " + std::to_string(s.counts.size()) + " counts");
  }
  if (s.cooccurrence.size() != m * m) {
    invalid("co-occurrence must be " + std::to_string(m) + " x " + std::to_string(m) + ", got " +
            std::to_string(s.cooccurrence.size()) + " entries");
  }
  if (s.num_images < 0) invalid("num_images is negative");
  for (std::size_t i = 0; i < m; ++i) {
    const double n = s.counts[i];
    if (!std::isfinite(n) || n < 0) invalid("count of '" + s.class_names[i] + "' is not a count");
    if (s.num_images > 0 && n > static_cast<double>(s.num_images)) {
      invalid("'" + s.class_names[i] + "' is in more images than num_images");
    }
  }
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = i + 1; j < m; ++j) {
      const double a = s.cooccurrence[i * m + j];
      const double b = s.cooccurrence[j * m + i];
      if (!std::isfinite(a) || !std::isfinite(b) || a < 0 || b < 0) {
        invalid("co-occurrence of " + pair_name(s, i, j) + " is not a count");
      }
      if (a != b) {
        invalid("co-occurrence is not symmetric for " + pair_name(s, i, j));
      }
    }
  }
}

std::string statistics_excess(const LabelStatistics& s) {
  const std::size_t m = s.class_names.size();
  std::size_t pairs = 0, worst_i = 0, worst_j = 0;
  double worst = 1.0;
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = i + 1; j < m; ++j) {
      const double fewer = std::min(s.counts[i], s.counts[j]);
      const double e = s.cooccurrence[i * m + j];
      if (e <= fewer) continue;
      ++pairs;
      const double ratio = fewer > 0 ? e / fewer : INFINITY;
      if (ratio > worst) std::tie(worst, worst_i, worst_j) = std::make_tuple(ratio, i, j);
    }
  }
  if (pairs == 0) return "";
  std::ostringstream out;
  out << "label statistics: " << pairs << (pairs == 1 ? " pair co-occurs" : " pairs co-occur")
      << " in more images than one of its classes is in (worst: " << pair_name(s, worst_i, worst_j)
      << ", " << s.cooccurrence[worst_i * m + worst_j] << " images together, "
      << std::min(s.counts[worst_i], s.counts[worst_j])
      << " alone); co-occurrences counted twice? The affinities use them as they are";
  return out.str();
}

void validate_group_count(const LabelStatistics& stats, int64_t k) {
  const int64_t m = stats.num_classes();
  if (k < 1 || k > m) {
    throw ConfigError("k = " + std::to_string(k) + " groups is impossible for " +
                      std::to_string(m) + " classes: choose 1 <= k <= " + std::to_string(m));
  }
}

}  // namespace cpsd
