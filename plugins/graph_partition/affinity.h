// SPDX-License-Identifier: Apache-2.0
// Label graph affinities of CPSD (paper Eq. 1).
#pragma once

#include <Eigen/Core>

#include "cpsd/sdk/decomposer.h"

namespace cpsd::partition {

/// S_ij = e_ij / n_i: the probability of class j in an image that has class i. A class with
/// n_i = 0 has S_ij = 0 (no evidence of co-occurrence), so nothing is divided by zero.
/// Statistics whose pairs were counted twice give S_ij > 1; it is kept, as the authors'
/// code keeps it (and P- then has negative entries).
Eigen::MatrixXd conditional_probability(const LabelStatistics& stats);

/// Co-occurrence affinity P+ = (S^(1/tau) + (S^(1/tau))^T) / 2, element-wise power.
/// The diagonal is set to 0: self-loops carry no information and are ignored by the
/// normalised Laplacian (as in scikit-learn's spectral clustering).
Eigen::MatrixXd cooccurrence_affinity(const LabelStatistics& stats, double tau);

/// Dis-occurrence affinity P- = 1 - P+ off the diagonal, 0 on it.
Eigen::MatrixXd disoccurrence_affinity(const LabelStatistics& stats, double tau);

}  // namespace cpsd::partition
