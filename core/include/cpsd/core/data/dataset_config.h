// SPDX-License-Identifier: Apache-2.0
// The [data] and [augment] sections of a run config turned into datasets and loaders.
#pragma once

#include <memory>

#include "cpsd/core/data/dataset.h"
#include "cpsd/core/data/image_pipeline.h"
#include "cpsd/core/data/loader.h"
#include "cpsd/core/export.h"
#include "cpsd/core/run_config.h"

namespace cpsd::data {

/// train: data.train without its held-out share; holdout: that share (data.holdout of the
/// training images, drawn with runtime.seed; for weighing teachers against the baseline on
/// images no model trained on); val: data.val, the split every result is reported on.
enum class Split { train, val, holdout };
CPSD_CORE_API const char* split_name(Split split);

/// Reads the dataset of `split` with the reader data.format names. Paths are relative to
/// data.root, itself relative to the config file. ConfigError when the split is not set
/// (holdout: when data.holdout is 0).
CPSD_CORE_API Dataset load_dataset(const RunConfig& config, Split split);

/// Which of n samples are held out: round(fraction * n) of them, drawn with `seed`.
CPSD_CORE_API std::vector<bool> holdout_samples(int64_t n, double fraction, uint64_t seed);

/// Image pipeline options; augmentation only when `train`.
CPSD_CORE_API PipelineOptions pipeline_options(const RunConfig& config, bool train);

/// Loader options from [data] and runtime.seed: shuffled when `train`.
CPSD_CORE_API LoaderOptions loader_options(const RunConfig& config, bool train, int64_t batch_size);

/// A loader for `dataset` with the config's pipeline and options.
CPSD_CORE_API std::unique_ptr<DataLoader> make_loader(const RunConfig& config,
                                                      std::shared_ptr<const Dataset> dataset,
                                                      bool train, int64_t batch_size);

}  // namespace cpsd::data
