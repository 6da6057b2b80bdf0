// SPDX-License-Identifier: Apache-2.0
#include <cstdint>
#include <limits>

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>

#include "cpsd/core/distributed.h"
#include "distributed_impl.h"

namespace cpsd {
namespace {

// DistributedDataParallel's defaults (bucket_cap_mb = 25, dist._DEFAULT_FIRST_BUCKET_BYTES,
// broadcast_bucket_size).
constexpr int64_t kBucketBytes = 25 << 20;
constexpr int64_t kFirstBucketBytes = 1 << 20;
constexpr std::size_t kBroadcastBytes = 250u << 20;

}  // namespace

struct GradientReducer::State {
  Distributed& group;
  std::vector<at::Tensor> buffers;
  bool find_unused;
  std::unique_ptr<c10d::Reducer> reducer;
};

GradientReducer::GradientReducer(Distributed& group, std::vector<at::Tensor> params,
                                 std::vector<at::Tensor> buffers, bool find_unused)
    : state_(new State{group, std::move(buffers), find_unused, nullptr}) {
  const std::vector<bool> sparse(params.size(), false);
  // As DistributedDataParallel: one bucket for the first step when every parameter gets a
  // gradient (the buckets are then rebuilt in the order gradients come), else buckets by
  // size, the last parameters (whose gradients come first) in the first bucket.
  const std::vector<std::size_t> limits =
      find_unused ? std::vector<std::size_t>{kFirstBucketBytes, kBucketBytes}
                  : std::vector<std::size_t>{std::numeric_limits<std::size_t>::max()};
  auto [indices, sizes] = c10d::compute_bucket_assignment_by_size(params, limits, sparse);
  std::reverse(indices.begin(), indices.end());
  std::reverse(sizes.begin(), sizes.end());
  state_->reducer = std::make_unique<c10d::Reducer>(
      std::move(params), std::move(indices), std::move(sizes), group.impl().group, sparse,
      kBucketBytes, find_unused, /*gradient_as_bucket_view=*/false,
      std::unordered_map<std::size_t, std::string>{}, kFirstBucketBytes);
}

GradientReducer::~GradientReducer() = default;

void GradientReducer::before_forward() {
  State& s = *state_;
  s.group.run_collective("bucket rebuild", [&] { s.reducer->rebuild_buckets(); });
  broadcast_buffers();
  s.reducer->prepare_for_forward();
}

void GradientReducer::backward(const at::Tensor& loss) {
  State& s = *state_;
  try {
    s.reducer->prepare_for_backward(s.find_unused ? std::vector<at::Tensor>{loss}
                                                  : std::vector<at::Tensor>{});
  } catch (const std::exception& e) {
    // The Reducer's own check: some parameter got no gradient in the step before.
    throw ConfigError(
        "data parallelism: a trainable parameter got no gradient in the last step (it is "
        "not used by the loss); set runtime.find_unused_parameters = true");
  }
  s.group.run_collective("gradient all-reduce", [&] { loss.backward(); });
}

void GradientReducer::broadcast_buffers() {
  State& s = *state_;
  if (s.buffers.empty()) return;
  at::NoGradGuard no_grad;
  s.group.run_collective("buffer broadcast", [&] {
    c10d::broadcast_coalesced(s.group.impl().group, s.buffers, kBroadcastBytes, 0);
  });
}

}  // namespace cpsd
