// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/engine/checkpoint.h"

#include <sstream>

#include <ATen/ATen.h>
#include <torch/serialize.h>

#include "cpsd/core/atomic_file.h"
#include "cpsd/sdk/error.h"

namespace fs = std::filesystem;

namespace cpsd::engine {
namespace {

constexpr const char* kFormat = "cpsd-checkpoint-1";

std::string join_lines(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += s + "\n";
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

torch::serialize::InputArchive open(const fs::path& path,
                                    c10::optional<c10::Device> device = c10::nullopt) {
  if (!fs::is_regular_file(path)) throw ConfigError(path.string() + ": checkpoint not found");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string(), device);
  } catch (const c10::Error& e) {
    throw ConfigError(path.string() +
                      ": not a readable checkpoint (truncated or not a cpsd file): " +
                      e.what_without_backtrace());
  }
  c10::IValue format;
  if (!archive.try_read("format", format) || !format.isString() ||
      format.toStringRef() != kFormat) {
    throw ConfigError(path.string() + ": not a cpsd checkpoint (no '" + kFormat + "' marker)");
  }
  return archive;
}

void load_module(torch::serialize::InputArchive& archive, const char* key,
                 torch::nn::Module& module, const fs::path& path) {
  torch::serialize::InputArchive part;
  if (!archive.try_read(key, part))
    throw ConfigError(path.string() + ": has no '" + key + "' weights");
  try {
    module.load(part);
  } catch (const c10::Error& e) {
    throw ConfigError(path.string() + ": its '" + key +
                      "' weights do not fit the model built from its "
                      "config: " +
                      e.what_without_backtrace());
  }
}

// What checkpoints written before mid-epoch resume lack reads as an epoch's end.
void read_progress(torch::serialize::InputArchive& archive, CheckpointMeta& meta) {
  c10::IValue v;
  if (archive.try_read("position_batch", v)) meta.position.batch = v.toInt();
  if (archive.try_read("position_world_size", v)) meta.position.world_size = v.toInt();
  if (archive.try_read("position_samples", v)) meta.position.samples = v.toInt();
  if (archive.try_read("position_loss_sum", v)) meta.position.loss_sum = v.toDouble();
  if (archive.try_read("position_loss_count", v)) meta.position.loss_count = v.toInt();
  if (archive.try_read("loss_scale", v)) meta.loss_scale = v.toDouble();
  if (archive.try_read("loss_scale_good_steps", v)) meta.loss_scale_good_steps = v.toInt();
  if (archive.try_read("loss_scale_settled", v)) meta.loss_scale_settled = v.toBool();
  if (archive.try_read("history", v)) meta.history_json = v.toStringRef();
}

}  // namespace

void save_checkpoint(const fs::path& path, const CheckpointMeta& meta, torch::nn::Module& model,
                     torch::nn::Module* ema, torch::optim::Optimizer* optimizer) {
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(std::string(kFormat)));
  archive.write("job", c10::IValue(meta.job));
  archive.write("epoch", c10::IValue(meta.epoch));
  archive.write("step", c10::IValue(meta.step));
  archive.write("best_map", c10::IValue(meta.best.map));
  archive.write("best_epoch", c10::IValue(meta.best.epoch));
  archive.write("best_source", c10::IValue(meta.best.source));
  archive.write("config", c10::IValue(meta.config_toml));
  archive.write("class_names", c10::IValue(join_lines(meta.class_names)));
  archive.write("class_indices", at::tensor(meta.class_indices, at::kLong));
  archive.write("model_signature", c10::IValue(meta.model_signature));
  archive.write("position_batch", c10::IValue(meta.position.batch));
  archive.write("position_world_size", c10::IValue(meta.position.world_size));
  archive.write("position_samples", c10::IValue(meta.position.samples));
  archive.write("position_loss_sum", c10::IValue(meta.position.loss_sum));
  archive.write("position_loss_count", c10::IValue(meta.position.loss_count));
  archive.write("loss_scale", c10::IValue(meta.loss_scale));
  archive.write("loss_scale_good_steps", c10::IValue(meta.loss_scale_good_steps));
  archive.write("loss_scale_settled", c10::IValue(meta.loss_scale_settled));
  archive.write("history", c10::IValue(meta.history_json));
  torch::serialize::OutputArchive model_part;
  model.save(model_part);
  archive.write("model", model_part);
  if (ema != nullptr) {
    torch::serialize::OutputArchive ema_part;
    ema->save(ema_part);
    archive.write("ema", ema_part);
  }
  if (optimizer != nullptr) {
    torch::serialize::OutputArchive optimizer_part;
    optimizer->save(optimizer_part);
    archive.write("optimizer", optimizer_part);
  }
  std::ostringstream bytes;
  archive.save_to(bytes);
  write_file_atomically(path, bytes.str());
}

CheckpointMeta read_checkpoint_meta(const fs::path& path) {
  torch::serialize::InputArchive archive = open(path);
  CheckpointMeta meta;
  c10::IValue v;
  auto read = [&](const char* key) -> c10::IValue& {
    if (!archive.try_read(key, v))
      throw ConfigError(path.string() + ": checkpoint lacks '" + key + "'");
    return v;
  };
  meta.job = read("job").toStringRef();
  meta.epoch = read("epoch").toInt();
  meta.step = read("step").toInt();
  meta.best.map = read("best_map").toDouble();
  meta.best.epoch = read("best_epoch").toInt();
  meta.best.source = read("best_source").toStringRef();
  meta.config_toml = read("config").toStringRef();
  meta.class_names = split_lines(read("class_names").toStringRef());
  at::Tensor indices;
  archive.read("class_indices", indices);
  meta.class_indices.assign(indices.data_ptr<int64_t>(),
                            indices.data_ptr<int64_t>() + indices.numel());
  if (archive.try_read("model_signature", v)) meta.model_signature = v.toStringRef();
  read_progress(archive, meta);
  return meta;
}

c10::Device device_of(torch::nn::Module& model) {
  const auto params = model.parameters();
  return params.empty() ? c10::Device(c10::kCPU) : params.front().device();
}

void load_checkpoint_weights(const fs::path& path, const std::string& which,
                             torch::nn::Module& model) {
  if (which != "model" && which != "ema") throw ConfigError("weights must be \"model\" or \"ema\"");
  torch::serialize::InputArchive archive = open(path, device_of(model));
  load_module(archive, which.c_str(), model, path);
}

void load_training_state(const fs::path& path, torch::nn::Module& model, torch::nn::Module* ema,
                         torch::optim::Optimizer* optimizer) {
  torch::serialize::InputArchive archive = open(path, device_of(model));
  load_module(archive, "model", model, path);
  if (ema != nullptr) load_module(archive, "ema", *ema, path);
  if (optimizer != nullptr) {
    torch::serialize::InputArchive part;
    if (!archive.try_read("optimizer", part))
      throw ConfigError(path.string() + ": has no optimizer state");
    optimizer->load(part);
  }
}

}  // namespace cpsd::engine
