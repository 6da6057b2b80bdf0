// SPDX-License-Identifier: Apache-2.0
// A trained model rebuilt from its checkpoint (for eval, predict and export).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cpsd/core/engine/checkpoint.h"
#include "cpsd/core/export.h"
#include "cpsd/core/model.h"
#include "cpsd/core/registry.h"
#include "cpsd/core/run_config.h"

namespace cpsd::engine {

struct SavedModel {
  CheckpointMeta meta;
  RunConfig config;                        ///< the checkpoint's own, or the one given
  std::shared_ptr<MultiLabelModel> model;  ///< in eval mode
  std::string weights;                     ///< "model" or "ema": what was loaded
};

/// Builds the checkpoint's model with the registry and loads its weights: `weights` is
/// "best" (the ones that reached best.ckpt's mAP), "model" or "ema". The model's config is
/// the checkpoint's resolved config unless `config` is given (e.g. to point at another
/// dataset). ConfigError for a missing or foreign file, or weights that do not fit.
CPSD_CORE_API SavedModel load_saved_model(const std::filesystem::path& checkpoint,
                                          const Registry& registry, const std::string& weights,
                                          const std::optional<RunConfig>& config);

}  // namespace cpsd::engine
