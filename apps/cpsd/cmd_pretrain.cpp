// SPDX-License-Identifier: Apache-2.0
// `cpsd pretrain`: single-label pretraining of a backbone, saved for [model] pretrained.
#include <cstdio>

#include "cli.h"
#include "cpsd/core/engine/pretrain.h"
#include "cpsd/core/runtime.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {

int run_pretrain(const std::vector<std::string>& args, Context& context) {
  std::string file;
  std::vector<std::string> overrides;
  bool force = false, fresh = false;
  CommandLine cli("pretrain", "--config PRETRAIN.toml [options]");
  cli.add()("config", po::value(&file),
            "pretraining config (TOML): [model], [data] (e.g. format = \"folder\"), [train], "
            "[pretrain] output")("set", po::value(&overrides)->composing(),
                                 "override a config key (repeatable)")(
      "force", po::bool_switch(&force), "train even when pretrain.output is up to date")(
      "fresh", po::bool_switch(&fresh),
      "start over instead of resuming from the run's pretrain/last.ckpt");
  if (!cli.parse(args)) return 0;
  if (file.empty()) throw ConfigError("cpsd pretrain: missing --config FILE");
  const Registry& registry = context.plugins(cli.common).registry();
  const RunConfig config = RunConfig::load(file, overrides, registry);
  apply_runtime(config);
  const engine::PretrainResult r = engine::pretrain_backbone(config, registry, force, !fresh);
  std::printf("%s: %s, validation top-1 %.2f%% (epoch %lld)\n", r.weights.c_str(),
              r.up_to_date ? "up to date" : "written", r.top1,
              static_cast<long long>(r.best_epoch));
  return 0;
}

}  // namespace cpsd::cli
