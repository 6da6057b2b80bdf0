// SPDX-License-Identifier: Apache-2.0
// Checks shared by every decomposer and by the host.
#include <cmath>
#include <sstream>

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
      if (a > std::min(s.counts[i], s.counts[j])) {
        std::ostringstream out;
        out << pair_name(s, i, j) << " co-occur in " << a << " images but one of them is in only "
            << std::min(s.counts[i], s.counts[j])
            << " (co-occurrences counted twice? each image counts once per pair)";
        invalid(out.str());
      }
    }
  }
}

void validate_group_count(const LabelStatistics& stats, int64_t k) {
  const int64_t m = stats.num_classes();
  if (k < 1 || k > m) {
    throw ConfigError("k = " + std::to_string(k) + " groups is impossible for " +
                      std::to_string(m) + " classes: choose 1 <= k <= " + std::to_string(m));
  }
}

}  // namespace cpsd
