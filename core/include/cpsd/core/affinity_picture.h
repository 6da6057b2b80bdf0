// SPDX-License-Identifier: Apache-2.0
// A PNG picture of a label affinity matrix with rows and columns ordered by group.
#pragma once

#include <filesystem>
#include <vector>

#include "cpsd/core/export.h"
#include "cpsd/sdk/decomposer.h"

namespace cpsd {

/// Draws `affinity` (m*m row-major, diagonal ignored) with classes reordered group by
/// group, in the viridis colour map scaled to the largest off-diagonal value, with white
/// lines between groups; square cells of up to 16 px, about 800 px across. Written
/// atomically as PNG. A good partition shows bright blocks on the diagonal (CGP) or dark
/// ones (DGP).
CPSD_CORE_API void write_affinity_picture(const std::filesystem::path& path,
                                          const std::vector<double>& affinity,
                                          const std::vector<std::vector<int64_t>>& groups);

/// The symmetrised co-occurrence probability (S + S^T) / 2 with S_ij = e_ij / n_i (0 when
/// n_i = 0): the picture's affinity when a decomposer does not provide its own.
CPSD_CORE_API std::vector<double> symmetric_cooccurrence_probability(const LabelStatistics& stats);

}  // namespace cpsd
