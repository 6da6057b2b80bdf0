// SPDX-License-Identifier: Apache-2.0
// Small text helpers: nearest-name suggestions, joined lists, letter case.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cpsd/core/export.h"

namespace cpsd {

/// Edit distance between a and b: insertions, deletions, substitutions and swaps of two
/// neighbouring characters each count 1 (optimal string alignment).
CPSD_CORE_API std::size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `name` if it is close enough to be a likely typo, else "".
CPSD_CORE_API std::string closest_match(std::string_view name,
                                        const std::vector<std::string>& candidates);

/// "a, b, c" (or `empty` when there is nothing to list).
CPSD_CORE_API std::string join(const std::vector<std::string>& items, std::string_view sep = ", ",
                               std::string_view empty = "none");

/// ASCII letters in lower (upper) case; other bytes as they are.
CPSD_CORE_API std::string lower_case(std::string s);
CPSD_CORE_API std::string upper_case(std::string s);

/// " (did you mean 'x'?)" or "" when there is no close candidate.
CPSD_CORE_API std::string did_you_mean(std::string_view name,
                                       const std::vector<std::string>& candidates);

}  // namespace cpsd
