// SPDX-License-Identifier: Apache-2.0
// Spectral clustering of a label graph as a normalised cut (paper Eq. 2).
#pragma once

#include <vector>

#include <Eigen/Core>

#include "kmeans.h"

namespace cpsd::partition {

struct SpectralResult {
  std::vector<std::vector<int64_t>> groups;  ///< k groups, each sorted, ordered by first index
  double inertia = 0;                        ///< k-means inertia of the embedding
  double eigengap = 0;  ///< lambda_{k+1} - lambda_k of the Laplacian (0 if k = m)
  int isolated = 0;     ///< classes with no affinity to any other
};

/// Normalised cut of the graph with affinity `w` (m x m, symmetric, non-negative; the
/// diagonal is ignored) into k groups:
///  1. L = I - D^-1/2 W D^-1/2 over the classes with a positive degree;
///  2. the k eigenvectors of the smallest eigenvalues (the trivial one included), each
///     scaled back by D^-1/2 and signed so that its largest-magnitude entry is positive;
///  3. k-means (k-means++ seeding, restarts, lowest inertia) on the rows.
/// This is scikit-learn's SpectralClustering(affinity="precomputed", assign_labels="kmeans")
/// with a dense eigensolver. Isolated classes (degree 0, e.g. a class never seen with any
/// other in CGP) would each take an eigenvalue 0 and swamp the embedding: they are left out
/// and then dealt, most frequent first, to fill up to k groups and otherwise to the smallest
/// group (lowest index on ties). `weights` orders them (e.g. class counts).
SpectralResult spectral_partition(const Eigen::MatrixXd& w, int k,
                                  const std::vector<double>& weights, const KMeansOptions& options,
                                  Rng& rng);

}  // namespace cpsd::partition
