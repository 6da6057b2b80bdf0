// SPDX-License-Identifier: Apache-2.0
// k-means with k-means++ seeding and restarts, deterministic for a seed.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "rng.h"

namespace cpsd::partition {

struct KMeansOptions {
  int n_init = 20;     ///< restarts; the lowest inertia wins (first one on ties)
  int max_iter = 300;  ///< Lloyd iterations per restart
  double tol = 1e-4;   ///< stop when centres move less than tol * mean feature variance
};

struct KMeansResult {
  std::vector<int> labels;  ///< cluster of each row, 0..k-1, every cluster non-empty
  double inertia = 0;       ///< sum of squared distances to the assigned centres
  int iterations = 0;       ///< Lloyd iterations of the winning restart
};

/// Clusters the rows of `points` (n x d) into k <= n clusters. Greedy k-means++ seeding
/// (2 + ln k candidates per centre, as scikit-learn), Lloyd iterations, and an emptied
/// cluster is refilled with the point farthest from its centre.
KMeansResult kmeans(const Eigen::MatrixXd& points, int k, const KMeansOptions& options, Rng& rng);

}  // namespace cpsd::partition
