// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/pretrain.h"

#include <ATen/ATen.h>

#include "../json_file.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/engine/checkpoint.h"
#include "cpsd/core/engine/plan.h"
#include "cpsd/core/engine/stages.h"
#include "cpsd/core/engine/trainer.h"
#include "cpsd/core/log.h"
#include "cpsd/core/state_dict.h"
#include "cpsd/sdk/error.h"

namespace fs = std::filesystem;

namespace cpsd::engine {
namespace {

// The settings a pretrained file depends on (not threads, logging or where runs go).
Json fingerprint(const RunConfig& config) {
  Json f;
  for (const char* section : {"model", "data", "augment", "train"})
    f[section] = Json::parse(options_json(config.section(section)));
  const std::string backbone = config.selected(Kind::backbone), loss = config.selected(Kind::loss);
  f["backbone"] = {
      {"name", backbone},
      {"options", Json::parse(options_json(config.plugin_options(Kind::backbone, backbone)))}};
  f["loss"] = {{"name", loss},
               {"options", Json::parse(options_json(config.plugin_options(Kind::loss, loss)))}};
  f["seed"] = config.section("runtime").get_int("seed");
  f["data"].erase("workers");
  f["data"].erase("prefetch");
  f["train"].erase("log_seconds");
  return f;
}

double top1_accuracy(const at::Tensor& logits, const at::Tensor& targets) {
  const at::Tensor labelled = targets.sum(1) > 0;
  const at::Tensor hit = (logits.argmax(1) == targets.argmax(1)) & labelled;
  const double n = labelled.sum().item<double>();
  return n > 0 ? 100.0 * hit.sum().item<double>() / n : 0.0;
}

}  // namespace

PretrainResult pretrain_backbone(const RunConfig& config, const Registry& registry, bool force,
                                 bool resume) {
  const Options section = config.section("pretrain");
  PretrainResult result;
  result.weights = path_option(section, "output");
  if (result.weights.empty()) {
    section.fail(
        "output",
        "not set: name the backbone file to write, e.g. output = \"pretrained/backbone.pt\"");
  }
  const fs::path info_file = result.weights.string() + ".json";
  const Json settings = fingerprint(config);
  if (!force && fs::exists(result.weights) && fs::exists(info_file)) {
    const Json info = read_json_file(info_file);
    if (info.value("settings", Json()) == settings) {
      result.up_to_date = true;
      result.top1 = info.value("top1", 0.0);
      result.best_map = info.value("best_map", 0.0);
      result.best_epoch = info.value("best_epoch", int64_t{0});
      log::info("pretrain: {} is up to date (top-1 {:.2f}%); --force trains again",
                result.weights.string(), result.top1);
      return result;
    }
    log::info("pretrain: {} was made with other settings; training again", result.weights.string());
  }
  auto train =
      std::make_shared<const data::Dataset>(data::load_dataset(config, data::Split::train));
  auto val = std::make_shared<const data::Dataset>(data::load_dataset(config, data::Split::val));
  if (val->class_names != train->class_names) {
    throw ConfigError("pretrain: the validation split's classes differ from the training split's");
  }
  log::info("pretrain: {} classes, {} training and {} validation images", train->num_classes(),
            train->samples.size(), val->samples.size());
  const TrainSettings train_settings = read_train_settings(config, Stage::train);
  std::vector<int64_t> classes;
  for (int64_t c = 0; c < train->num_classes(); ++c) classes.push_back(c);
  const fs::path dir = run_layout(config).root() / "pretrain";
  std::vector<Job> jobs = {
      make_model_job(config, registry, *train, "pretrain", classes, dir, train_settings.ema)};
  const JobResult r = Trainer(train_settings, config, train, val).run(jobs, resume).front();

  MultiLabelModel& model = *jobs[0].model;
  load_checkpoint_weights(RunLayout::best(dir), r.best.source, model);
  auto loader = data::make_loader(config, val, false, train_settings.batch_size);
  const Predictions p = predict(model, *loader, classes);
  result.top1 = top1_accuracy(p.logits, p.targets);
  result.best_map = r.best.map;
  result.best_epoch = r.best.epoch;

  fs::create_directories(result.weights.parent_path().empty() ? fs::path(".")
                                                              : result.weights.parent_path());
  export_state_dict(model.backbone(), result.weights, {{"", "backbone."}});
  const Json info = {{"settings", settings},
                     {"top1", result.top1},
                     {"best_map", result.best_map},
                     {"best_epoch", result.best_epoch},
                     {"best_source", r.best.source},
                     {"classes", train->class_names},
                     {"checkpoint", RunLayout::best(dir).string()},
                     {"config", config.to_toml()}};
  write_file_atomically(info_file, json_text(info));
  log::info("pretrain: top-1 {:.2f}%, mAP {:.2f} (epoch {}); wrote {}", result.top1,
            result.best_map, result.best_epoch, result.weights.string());
  return result;
}

}  // namespace cpsd::engine
