// SPDX-License-Identifier: Apache-2.0
// The smallest eigenpairs of a dense symmetric matrix.
#pragma once

#include <Eigen/Core>

namespace cpsd::partition {

struct Eigenpairs {
  Eigen::VectorXd values;   ///< ascending
  Eigen::MatrixXd vectors;  ///< one unit eigenvector per column, same order
};

/// The `count` smallest eigenpairs of symmetric `a` (only its lower triangle is read).
/// Uses LAPACK's dsyevr (tridiagonal reduction + MRRR for just the requested pairs), which
/// for m = 1000 and a handful of pairs is an order of magnitude faster than a full
/// decomposition. Throws RuntimeError if LAPACK reports a failure.
Eigenpairs smallest_eigenpairs(const Eigen::MatrixXd& a, int count);

}  // namespace cpsd::partition
