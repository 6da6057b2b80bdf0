// SPDX-License-Identifier: Apache-2.0
// decomposer/cgp and decomposer/dgp: spectral partition of the co- or dis-occurrence graph.
#pragma once

#include "cpsd/sdk/decomposer.h"
#include "kmeans.h"

namespace cpsd::partition {

enum class Graph { cooccurrence, disoccurrence };

/// CGP (Graph::cooccurrence) groups labels that appear together; DGP
/// (Graph::disoccurrence) groups labels that rarely or never meet.
class GraphDecomposer : public Decomposer {
 public:
  GraphDecomposer(const DecomposerArgs& args, Graph graph);
  Partition decompose(const LabelStatistics& stats, int64_t k, uint64_t seed) const override;

 private:
  Graph graph_;
  double tau_;
  KMeansOptions kmeans_;
};

class CgpDecomposer final : public GraphDecomposer {
 public:
  explicit CgpDecomposer(const DecomposerArgs& args) : GraphDecomposer(args, Graph::cooccurrence) {}
};

class DgpDecomposer final : public GraphDecomposer {
 public:
  explicit DgpDecomposer(const DecomposerArgs& args)
      : GraphDecomposer(args, Graph::disoccurrence) {}
};

/// Shared by cgp and dgp.
inline constexpr const char* kGraphDefaults = R"(# decomposer/cgp and decomposer/dgp
tau = 3.0          # smoothing S^(1/tau) of the co-occurrence probabilities (paper: 3; the authors' released partitions used 2, a square root)
n_init = 20        # k-means restarts on the spectral embedding; the lowest inertia wins
max_iter = 300     # k-means iterations per restart
tol = 1e-4         # k-means stops when centres move less than tol x the embedding's variance
)";

}  // namespace cpsd::partition
