// SPDX-License-Identifier: Apache-2.0
#include "graph_decomposer.h"

#include "affinity.h"
#include "spectral.h"

namespace cpsd::partition {

GraphDecomposer::GraphDecomposer(const DecomposerArgs& args, Graph graph)
    : graph_(graph), tau_(args.options.get_double("tau")) {
  const Options& o = args.options;
  if (!(tau_ > 0)) o.fail("tau", "must be > 0 (the paper uses 3)");
  kmeans_.n_init = static_cast<int>(o.get_int("n_init"));
  kmeans_.max_iter = static_cast<int>(o.get_int("max_iter"));
  kmeans_.tol = o.get_double("tol");
  if (kmeans_.n_init < 1) o.fail("n_init", "must be >= 1");
  if (kmeans_.max_iter < 1) o.fail("max_iter", "must be >= 1");
  if (kmeans_.tol < 0) o.fail("tol", "must be >= 0");
}

Partition GraphDecomposer::decompose(const LabelStatistics& stats, int64_t k, uint64_t seed) const {
  validate_statistics(stats);
  validate_group_count(stats, k);
  const Eigen::MatrixXd affinity = graph_ == Graph::cooccurrence
                                       ? cooccurrence_affinity(stats, tau_)
                                       : disoccurrence_affinity(stats, tau_);
  Rng rng(seed);
  const SpectralResult r =
      spectral_partition(affinity, static_cast<int>(k), stats.counts, kmeans_, rng);
  Partition out;
  out.groups = r.groups;
  const Eigen::Index m = affinity.rows();
  out.affinity.resize(static_cast<std::size_t>(m * m));
  Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      out.affinity.data(), m, m) = affinity;
  out.diagnostics = {{"kmeans_inertia", r.inertia},
                     {"eigengap", r.eigengap},
                     {"isolated_classes", static_cast<double>(r.isolated)}};
  return out;
}

}  // namespace cpsd::partition
