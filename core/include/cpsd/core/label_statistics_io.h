// SPDX-License-Identifier: Apache-2.0
// Label statistics of a training set: counting them, reading and writing statistics files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cpsd/core/export.h"
#include "cpsd/sdk/decomposer.h"

namespace cpsd {

/// Counts n_i and e_ij over images given as lists of class indices (duplicates within an
/// image count once). Throws ConfigError for an index outside the class list.
CPSD_CORE_API LabelStatistics
count_label_statistics(const std::vector<std::string>& class_names,
                       const std::vector<std::vector<int64_t>>& labels_per_image);

/// Reads a statistics file: a JSON object with `classes` (names), `num_images`, `counts`
/// (n_i) and `cooccurrence` (m x m, e_ij; the diagonal is ignored). Validates it (see
/// validate_statistics); errors name the file.
CPSD_CORE_API LabelStatistics read_statistics(const std::filesystem::path& path);

/// Writes the same format, atomically.
CPSD_CORE_API void write_statistics(const LabelStatistics& stats,
                                    const std::filesystem::path& path);

/// "fnv1a64:<16 hex digits>" of the statistics (names, image count, counts, off-diagonal
/// co-occurrences), recorded in partition files to tie them to their data.
CPSD_CORE_API std::string statistics_hash(const LabelStatistics& stats);

}  // namespace cpsd
