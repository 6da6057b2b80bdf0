// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/model.h"

#include <map>
#include <mutex>

#include "cpsd/core/log.h"
#include "cpsd/core/runtime.h"
#include "cpsd/core/text.h"
#include "cpsd/sdk/error.h"

namespace cpsd {

MultiLabelModel::MultiLabelModel(std::shared_ptr<Backbone> backbone, std::shared_ptr<Head> head)
    : torch::nn::Module("MultiLabelModel"),
      backbone_(register_module("backbone", std::move(backbone))),
      head_(register_module("head", std::move(head))) {}

MultiLabelModel::~MultiLabelModel() = default;

torch::Tensor MultiLabelModel::forward(const torch::Tensor& images) {
  return head_->forward(backbone_->forward_features(images));
}

std::shared_ptr<MultiLabelModel> build_model(const RunConfig& config, const Registry& registry,
                                             const std::vector<std::string>& class_names) {
  const std::string backbone_name = config.selected(Kind::backbone);
  const std::string head_name = config.selected(Kind::head);
  if (backbone_name.empty()) {
    throw ConfigError(config.source_name() + ": model.backbone is not set; name one of " +
                      join(registry.names(Kind::backbone)));
  }
  if (head_name.empty()) {
    throw ConfigError(config.source_name() + ": model.head is not set; name one of " +
                      join(registry.names(Kind::head)));
  }
  if (class_names.empty()) {
    throw ConfigError(config.source_name() + ": the model needs at least one class");
  }
  auto backbone = registry.create_backbone(
      backbone_name, BackboneArgs{config.plugin_options(Kind::backbone, backbone_name)});
  HeadArgs head_args;
  head_args.options = config.plugin_options(Kind::head, head_name);
  head_args.features = backbone->feature_info();
  head_args.num_classes = static_cast<int64_t>(class_names.size());
  head_args.class_names = class_names;
  auto head = registry.create_head(head_name, head_args);
  if (head->num_classes() != head_args.num_classes) {
    throw RuntimeError("head/" + head_name + " reports " + std::to_string(head->num_classes()) +
                       " classes, " + std::to_string(head_args.num_classes) + " were asked for");
  }
  auto model = std::make_shared<MultiLabelModel>(std::move(backbone), std::move(head));
  const Options m = config.section("model");
  if (!m.get_string("pretrained").empty()) {
    const std::string file = path_option(m, "pretrained").string();
    // Every teacher, student and EMA twin starts from the same file: read it once.
    static std::mutex mutex;
    static std::map<std::pair<std::string, std::string>, StateDict> cache;
    std::lock_guard<std::mutex> lock(mutex);
    const auto key = std::make_pair(file, m.get_string("pretrained_entry"));
    if (!cache.count(key)) cache[key] = read_state_dict(file, key.second);
    const PretrainedLoad load{m.get_string_list("pretrained_rename"),
                              m.get_string("pretrained_layout"), m.get_string("pretrained_parts")};
    load_pretrained(*model, cache[key], load, file);
  }
  const c10::Device device = runtime_device(config);
  if (device.is_cuda()) {
    model->to(device);
    if (config.section("runtime").get_bool("channels_last")) {
      torch::NoGradGuard no_grad;
      for (auto& p : model->parameters()) {
        if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
      }
    }
  }
  return model;
}

}  // namespace cpsd
