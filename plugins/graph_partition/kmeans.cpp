// SPDX-License-Identifier: Apache-2.0
#include "kmeans.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cpsd::partition {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// Squared distance of every row of x to `center`.
VectorXd distances_to(const MatrixXd& x, const Eigen::RowVectorXd& center) {
  return (x.rowwise() - center).rowwise().squaredNorm();
}

// Index i such that cumulative[i-1] <= r < cumulative[i] for cumulative sums of `weights`.
Eigen::Index sample_weighted(const VectorXd& weights, double total, Rng& rng) {
  const double r = uniform01(rng) * total;
  double running = 0;
  for (Eigen::Index i = 0; i < weights.size(); ++i) {
    running += weights[i];
    if (r < running) return i;
  }
  return weights.size() - 1;
}

MatrixXd seed_plus_plus(const MatrixXd& x, int k, Rng& rng) {
  const Eigen::Index n = x.rows();
  const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
  MatrixXd centers(k, x.cols());
  centers.row(0) = x.row(static_cast<Eigen::Index>(uniform_index(rng, n)));
  VectorXd closest = distances_to(x, centers.row(0));
  for (int c = 1; c < k; ++c) {
    const double potential = closest.sum();
    if (!(potential > 0)) {  // every point sits on a centre already: any point will do
      centers.row(c) = x.row(static_cast<Eigen::Index>(uniform_index(rng, n)));
      continue;
    }
    Eigen::Index best = -1;
    double best_potential = std::numeric_limits<double>::infinity();
    VectorXd best_closest;
    for (int t = 0; t < trials; ++t) {
      const Eigen::Index candidate = sample_weighted(closest, potential, rng);
      VectorXd with = closest.cwiseMin(distances_to(x, x.row(candidate)));
      const double p = with.sum();
      if (p < best_potential) {
        best_potential = p;
        best = candidate;
        best_closest = std::move(with);
      }
    }
    centers.row(c) = x.row(best);
    closest = std::move(best_closest);
  }
  return centers;
}

// Nearest centre of each row (lowest index on ties) and its squared distance.
void assign(const MatrixXd& x, const MatrixXd& centers, std::vector<int>& labels, VectorXd& dist) {
  const Eigen::Index n = x.rows();
  labels.assign(n, 0);
  dist.setConstant(n, std::numeric_limits<double>::infinity());
  for (Eigen::Index c = 0; c < centers.rows(); ++c) {
    const VectorXd d = distances_to(x, centers.row(c));
    for (Eigen::Index i = 0; i < n; ++i) {
      if (d[i] < dist[i]) {
        dist[i] = d[i];
        labels[i] = static_cast<int>(c);
      }
    }
  }
}

// Moves the farthest points of multi-point clusters into empty clusters.
void fill_empty_clusters(const MatrixXd& x, MatrixXd& centers, std::vector<int>& labels,
                         VectorXd& dist) {
  const int k = static_cast<int>(centers.rows());
  std::vector<int> sizes(k, 0);
  for (int l : labels) ++sizes[l];
  for (int c = 0; c < k; ++c) {
    if (sizes[c] > 0) continue;
    Eigen::Index far = -1;
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
      if (sizes[labels[i]] > 1 && (far < 0 || dist[i] > dist[far])) far = i;
    }
    if (far < 0) return;  // fewer points than clusters: cannot happen for k <= n
    --sizes[labels[far]];
    labels[far] = c;
    sizes[c] = 1;
    dist[far] = 0;
    centers.row(c) = x.row(far);
  }
}

MatrixXd means(const MatrixXd& x, const std::vector<int>& labels, const MatrixXd& previous) {
  MatrixXd sums = MatrixXd::Zero(previous.rows(), x.cols());
  VectorXd counts = VectorXd::Zero(previous.rows());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    sums.row(labels[i]) += x.row(i);
    counts[labels[i]] += 1;
  }
  for (Eigen::Index c = 0; c < sums.rows(); ++c) {
    sums.row(c) = counts[c] > 0 ? (sums.row(c) / counts[c]).eval() : previous.row(c);
  }
  return sums;
}

KMeansResult lloyd(const MatrixXd& x, MatrixXd centers, const KMeansOptions& options,
                   double tolerance) {
  KMeansResult result;
  VectorXd dist;
  std::vector<int> previous;
  for (int it = 0; it < options.max_iter; ++it) {
    assign(x, centers, result.labels, dist);
    fill_empty_clusters(x, centers, result.labels, dist);
    result.iterations = it + 1;
    if (result.labels == previous) break;  // strict convergence
    previous = result.labels;
    const MatrixXd updated = means(x, result.labels, centers);
    const double shift = (updated - centers).squaredNorm();
    centers = updated;
    if (shift <= tolerance) break;
  }
  // Labels consistent with the final centres.
  assign(x, centers, result.labels, dist);
  fill_empty_clusters(x, centers, result.labels, dist);
  result.inertia = dist.sum();
  return result;
}

}  // namespace

KMeansResult kmeans(const MatrixXd& points, int k, const KMeansOptions& options, Rng& rng) {
  // Tolerance relative to the data's spread, as scikit-learn does.
  const Eigen::RowVectorXd mean = points.colwise().mean();
  const double variance =
      points.rows() > 0 ? (points.rowwise() - mean).array().square().colwise().mean().mean() : 0;
  const double tolerance = options.tol * variance;
  KMeansResult best;
  best.inertia = std::numeric_limits<double>::infinity();
  for (int run = 0; run < std::max(1, options.n_init); ++run) {
    KMeansResult r = lloyd(points, seed_plus_plus(points, k, rng), options, tolerance);
    if (r.inertia < best.inertia) best = std::move(r);
  }
  return best;
}

}  // namespace cpsd::partition
