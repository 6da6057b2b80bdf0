// SPDX-License-Identifier: Apache-2.0
#include "affinity.h"

#include <cmath>

namespace cpsd::partition {

Eigen::MatrixXd conditional_probability(const LabelStatistics& stats) {
  const Eigen::Index m = stats.num_classes();
  Eigen::MatrixXd s = Eigen::MatrixXd::Zero(m, m);
  for (Eigen::Index i = 0; i < m; ++i) {
    const double n = stats.counts[i];
    if (n <= 0) continue;
    for (Eigen::Index j = 0; j < m; ++j) {
      if (i != j) s(i, j) = stats.cooccurrence[i * m + j] / n;
    }
  }
  return s;
}

namespace {

// x^(1/tau) for x >= 0; zeros stay zero and the paper's and authors' exponents take
// the exact (and much faster) root functions.
double smooth(double x, double tau) {
  if (x <= 0) return 0;
  if (tau == 2) return std::sqrt(x);
  if (tau == 3) return std::cbrt(x);
  return std::pow(x, 1.0 / tau);
}

}  // namespace

Eigen::MatrixXd cooccurrence_affinity(const LabelStatistics& stats, double tau) {
  Eigen::MatrixXd smoothed = conditional_probability(stats);
  for (Eigen::Index j = 0; j < smoothed.cols(); ++j) {
    for (Eigen::Index i = 0; i < smoothed.rows(); ++i) smoothed(i, j) = smooth(smoothed(i, j), tau);
  }
  Eigen::MatrixXd p = 0.5 * (smoothed + smoothed.transpose());
  p.diagonal().setZero();
  return p;
}

Eigen::MatrixXd disoccurrence_affinity(const LabelStatistics& stats, double tau) {
  Eigen::MatrixXd p = (1.0 - cooccurrence_affinity(stats, tau).array()).matrix();
  p.diagonal().setZero();
  return p;
}

}  // namespace cpsd::partition
