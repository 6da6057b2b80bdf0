// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/saved_model.h"

#include "cpsd/sdk/error.h"

namespace cpsd::engine {

SavedModel load_saved_model(const std::filesystem::path& checkpoint, const Registry& registry,
                            const std::string& weights, const std::optional<RunConfig>& config) {
  CheckpointMeta meta = read_checkpoint_meta(checkpoint);
  RunConfig resolved =
      config ? *config : RunConfig::parse(meta.config_toml, checkpoint.string(), {}, registry);
  std::string which = weights;
  if (which == "best") which = meta.best.source.empty() ? "model" : meta.best.source;
  if (which != "model" && which != "ema") {
    throw ConfigError("--weights must be best, model or ema, not '" + weights + "'");
  }
  auto model = build_model(resolved, registry, meta.class_names);
  load_checkpoint_weights(checkpoint, which, *model);
  model->eval();
  return SavedModel{std::move(meta), resolved, std::move(model), which};
}

}  // namespace cpsd::engine
