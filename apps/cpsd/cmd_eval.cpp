// SPDX-License-Identifier: Apache-2.0
// `cpsd eval --checkpoint CKPT`: the metrics table on the validation set, per-class AP as CSV.
#include <cmath>
#include <cstdio>

#include "cli.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/engine/metrics.h"
#include "cpsd/core/engine/saved_model.h"
#include "cpsd/core/engine/trainer.h"
#include "cpsd/core/runtime.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {

int run_eval(const std::vector<std::string>& args, Context& context) {
  std::string checkpoint, config_file, weights = "best", out;
  std::vector<std::string> overrides;
  double threshold = -1;
  CommandLine cli("eval", "--checkpoint CKPT [--config RUN.toml] [options]");
  cli.add()("checkpoint", po::value(&checkpoint), "a cpsd checkpoint (best.ckpt, last.ckpt)")(
      "config", po::value(&config_file), "run config for the data (default: the checkpoint's own)")(
      "set", po::value(&overrides)->composing(), "override a config key (repeatable)")(
      "weights", po::value(&weights), "best (default) | model | ema")(
      "threshold", po::value(&threshold),
      "sigmoid threshold of the thresholded metrics (default: train.threshold)")(
      "out", po::value(&out), "per-class AP CSV (default: <checkpoint>.ap.csv)");
  if (!cli.parse(args)) return 0;
  if (checkpoint.empty()) throw ConfigError("cpsd eval: missing --checkpoint FILE");
  const Registry& registry = context.plugins(cli.common).registry();
  std::optional<RunConfig> config;
  if (!config_file.empty()) {
    config = RunConfig::load(config_file, overrides, registry);
  } else if (!overrides.empty()) {
    config = RunConfig::parse(engine::read_checkpoint_meta(checkpoint).config_toml, checkpoint,
                              overrides, registry);
  }
  engine::SavedModel saved = engine::load_saved_model(checkpoint, registry, weights, config);
  apply_runtime(saved.config);
  if (threshold < 0) threshold = saved.config.section("train").get_double("threshold");
  if (threshold <= 0 || threshold >= 1)
    throw ConfigError("cpsd eval: --threshold must be in (0, 1)");

  auto val =
      std::make_shared<const data::Dataset>(data::load_dataset(saved.config, data::Split::val));
  for (std::size_t i = 0; i < saved.meta.class_indices.size(); ++i) {
    const int64_t c = saved.meta.class_indices[i];
    if (c >= val->num_classes() || val->class_names[c] != saved.meta.class_names[i]) {
      throw ConfigError("cpsd eval: the validation set's classes do not match the checkpoint's ('" +
                        saved.meta.class_names[i] + "' is not class " + std::to_string(c) + ")");
    }
  }
  auto loader = data::make_loader(saved.config, val, false,
                                  saved.config.section("train").get_int("batch_size"));
  const engine::Predictions p = engine::predict(*saved.model, *loader, saved.meta.class_indices);
  const engine::Metrics m = engine::evaluate(p.logits, p.targets, p.mask, threshold);

  std::printf("%s (%s weights, job %s, epoch %lld) on %s: %lld images, %zu classes\n",
              checkpoint.c_str(), saved.weights.c_str(), saved.meta.job.c_str(),
              static_cast<long long>(saved.meta.epoch), val->name.c_str(),
              static_cast<long long>(p.logits.size(0)), saved.meta.class_names.size());
  std::printf("mAP %.2f", m.map);
  if (m.classes_without_positives > 0) {
    std::printf(" (over %zu classes; %lld have no positive and are left out)",
                saved.meta.class_names.size() - m.classes_without_positives,
                static_cast<long long>(m.classes_without_positives));
  }
  std::printf("\nthreshold %.2f  %6s %6s %6s %6s %6s %6s\n", threshold, "CP", "CR", "CF1", "OP",
              "OR", "OF1");
  std::printf("%-15s  %6.2f %6.2f %6.2f %6.2f %6.2f %6.2f\n", "all", m.cp, m.cr, m.cf1, m.op,
              m.orecall, m.of1);
  std::printf("%-15s  %6.2f %6.2f %6.2f %6.2f %6.2f %6.2f\n", "top-3", m.cp_top3, m.cr_top3,
              m.cf1_top3, m.op_top3, m.or_top3, m.of1_top3);
  if (out.empty()) out = checkpoint + ".ap.csv";
  std::string csv = "class,ap\n";
  for (std::size_t c = 0; c < m.ap.size(); ++c) {
    char line[64];
    std::snprintf(line, sizeof(line), ",%.4f\n", m.ap[c]);
    csv +=
        saved.meta.class_names[c] + (std::isnan(m.ap[c]) ? std::string(",\n") : std::string(line));
  }
  write_file_atomically(out, csv);
  std::printf("per-class AP: %s\n", out.c_str());
  return 0;
}

}  // namespace cpsd::cli
