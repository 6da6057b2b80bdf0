// SPDX-License-Identifier: Apache-2.0
#include "spectral.h"

#include <algorithm>
#include <numeric>

#include "symmetric_eigen.h"

namespace cpsd::partition {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// Columns signed so that the largest-magnitude entry is positive (a deterministic choice
// among the two unit eigenvectors, as scikit-learn's _deterministic_vector_sign_flip).
void fix_signs(MatrixXd& vectors) {
  for (Eigen::Index c = 0; c < vectors.cols(); ++c) {
    Eigen::Index arg = 0;
    vectors.col(c).cwiseAbs().maxCoeff(&arg);
    if (vectors(arg, c) < 0) vectors.col(c) *= -1;
  }
}

void sort_canonically(std::vector<std::vector<int64_t>>& groups) {
  for (auto& g : groups) std::sort(g.begin(), g.end());
  std::sort(groups.begin(), groups.end(),
            [](const auto& a, const auto& b) { return a.front() < b.front(); });
}

}  // namespace

SpectralResult spectral_partition(const MatrixXd& affinity, int k,
                                  const std::vector<double>& weights, const KMeansOptions& options,
                                  Rng& rng) {
  const Eigen::Index m = affinity.rows();
  MatrixXd w = affinity;
  w.diagonal().setZero();
  const VectorXd degree = w.rowwise().sum();
  std::vector<Eigen::Index> active;
  std::vector<int64_t> isolated;
  for (Eigen::Index i = 0; i < m; ++i) {
    if (degree[i] > 0) {
      active.push_back(i);
    } else {
      isolated.push_back(i);
    }
  }
  SpectralResult result;
  result.isolated = static_cast<int>(isolated.size());
  const int k_active = std::min<int>(k, static_cast<int>(active.size()));
  if (k_active > 0) {
    const Eigen::Index a = static_cast<Eigen::Index>(active.size());
    VectorXd inv_sqrt(a);
    for (Eigen::Index i = 0; i < a; ++i) inv_sqrt[i] = 1.0 / std::sqrt(degree[active[i]]);
    MatrixXd laplacian(a, a);
    for (Eigen::Index j = 0; j < a; ++j) {
      for (Eigen::Index i = 0; i < a; ++i) {
        laplacian(i, j) =
            (i == j ? 1.0 : 0.0) - inv_sqrt[i] * w(active[i], active[j]) * inv_sqrt[j];
      }
    }
    // One more pair than needed, for the eigen-gap after the k-th eigenvalue.
    const Eigenpairs pairs = smallest_eigenpairs(laplacian, k_active + 1);
    MatrixXd embedding = inv_sqrt.asDiagonal() * pairs.vectors.leftCols(k_active);
    fix_signs(embedding);
    result.eigengap = k_active < a ? pairs.values[k_active] - pairs.values[k_active - 1] : 0.0;
    const KMeansResult clusters = kmeans(embedding, k_active, options, rng);
    result.inertia = clusters.inertia;
    result.groups.assign(k_active, {});
    for (Eigen::Index i = 0; i < a; ++i) result.groups[clusters.labels[i]].push_back(active[i]);
  }
  sort_canonically(result.groups);
  // Isolated classes: most frequent first, each opening a group while fewer than k exist,
  // then joining the smallest group.
  std::stable_sort(isolated.begin(), isolated.end(),
                   [&](int64_t x, int64_t y) { return weights[x] > weights[y]; });
  for (int64_t c : isolated) {
    if (static_cast<int>(result.groups.size()) < k) {
      result.groups.push_back({c});
      continue;
    }
    auto smallest =
        std::min_element(result.groups.begin(), result.groups.end(),
                         [](const auto& x, const auto& y) { return x.size() < y.size(); });
    smallest->push_back(c);
  }
  sort_canonically(result.groups);
  return result;
}

}  // namespace cpsd::partition
