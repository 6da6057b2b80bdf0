// SPDX-License-Identifier: Apache-2.0
// DataLoader: multi-threaded decoding into batches, deterministic for a seed and epoch.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "cpsd/core/data/dataset.h"
#include "cpsd/core/data/image_pipeline.h"
#include "cpsd/core/export.h"

namespace cpsd::data {

struct LoaderOptions {
  int64_t batch_size = 32;
  int workers = 0;         ///< decoding threads; 0 = all cores
  int prefetch = 4;        ///< batches decoded ahead of the consumer (bounded queue)
  bool shuffle = false;    ///< a new order every epoch, from (seed, epoch)
  bool drop_last = false;  ///< drop a last, smaller batch
  uint64_t seed = 0;
  int64_t rank = 0;        ///< this process's shard ...
  int64_t world_size = 1;  ///< ... of this many
  /// With several ranks, repeat samples so every rank gets the same number (training, where
  /// ranks must step together); false gives disjoint shards (evaluation).
  bool even_shards = true;
  bool pin_memory = false;       ///< page-locked batches, for overlapped copies to a GPU
  bool skip_bad_images = false;  ///< skip (and count) unusable images instead of failing
  int64_t max_bad_images = 100;  ///< fail once more than this many were skipped
};

/// One batch. images float [B, 3, S, S] contiguous; targets float [B, C] multi-hot; mask
/// float [B, C] with 0 for ignored entries, undefined when the dataset ignores nothing;
/// indices: the samples' positions in the dataset.
struct Batch {
  at::Tensor images;
  at::Tensor targets;
  at::Tensor mask;
  std::vector<int64_t> indices;
};

/// Worker threads decode whole batches; batches come out in order, each identical whatever
/// the number of workers (sample i of epoch e is augmented with sample_seed(seed, e, i)).
/// Errors of a worker (a BadImage naming the file, with the failing policy) are rethrown by
/// next(). Sets OpenCV's own threading off: parallelism comes from the workers.
class CPSD_CORE_API DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, ImagePipeline pipeline, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  /// Starts `epoch` at batch `first_batch` (0..num_batches(); a resumed run's position: the
  /// batches from there are those an uninterrupted epoch gives); abandons what is left of the
  /// previous one.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  /// The next batch of the epoch, or nullopt at its end.
  std::optional<Batch> next();

  int64_t num_batches() const;
  /// Samples this rank sees per epoch.
  int64_t num_samples() const;
  /// Images skipped so far (skip_bad_images).
  int64_t bad_images() const;
  const Dataset& dataset() const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace cpsd::data
