// SPDX-License-Identifier: Apache-2.0
// Single-label pretraining of a backbone (what ImageNet weights are to the paper's models).
#pragma once

#include <filesystem>

#include "cpsd/core/export.h"
#include "cpsd/core/registry.h"
#include "cpsd/core/run_config.h"

namespace cpsd::engine {

struct PretrainResult {
  std::filesystem::path weights;  ///< pretrain.output: the backbone's weights, "backbone."-prefixed
  bool up_to_date = false;        ///< found, made from the same settings: nothing was trained
  double top1 = 0;                ///< validation top-1 accuracy (percent) of the saved weights
  double best_map = 0;            ///< validation mAP over the classes (percent)
  int64_t best_epoch = 0;
};

/// Trains the configured model ([model], the backbone's table, a linear classifier over
/// the dataset's classes) with the [train] recipe and train.loss (softmax_ce for single-label
/// data) on [data] (typically format = "folder", the ImageNet layout), in the run directory's
/// pretrain/ (checkpoints, metrics; resumable), then writes the best weights' backbone to
/// pretrain.output as a PyTorch file, and OUTPUT.json beside it: the settings that made it,
/// the top-1 accuracy and the classes. `[model] pretrained = OUTPUT` then starts any
/// model with this backbone from it (the classifier is left out: other classes).
///
/// The file is a cache: when it exists and OUTPUT.json records the same model, data,
/// augmentation, training and seed settings, nothing is trained (unless `force`).
/// ConfigError when pretrain.output is not set or the data cannot be read.
CPSD_CORE_API PretrainResult pretrain_backbone(const RunConfig& config, const Registry& registry,
                                               bool force, bool resume);

}  // namespace cpsd::engine
