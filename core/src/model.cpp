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

namespace {

// LibTorch 1.13's oneDNN (2.6, AVX-512 kernels) writes out of bounds in the NHWC backward of
// 1x1 convolutions of stride 2 with fewer than 16 input channels (per group); measured with
// PyTorch 1.13 itself. Such a model is refused on the CPU rather than left to corrupt memory.
void check_cpu_channels_last(torch::nn::Module& model, const RunConfig& config) {
  for (const auto& item : model.named_modules()) {
    const auto* conv = item.value()->as<torch::nn::Conv2dImpl>();
    if (conv == nullptr) continue;
    const auto& o = conv->options;
    const int64_t per_group = o.in_channels() / o.groups();
    const bool one_by_one = (*o.kernel_size())[0] == 1 && (*o.kernel_size())[1] == 1;
    const bool strided = (*o.stride())[0] > 1 || (*o.stride())[1] > 1;
    if (!one_by_one || !strided || per_group >= 16) continue;
    config.section("runtime").fail(
        "channels_last", item.key() + " is a strided 1x1 convolution of " +
                             std::to_string(per_group) +
                             " input channels, whose channels-last backward corrupts memory in "
                             "this LibTorch's CPU kernels (oneDNN); set runtime.channels_last = "
                             "false, or widen the backbone to 16 channels or more");
  }
}

// NHWC convolution weights: cuDNN's and oneDNN's fast layout (Compute gives the images the
// same).
void to_channels_last(torch::nn::Module& model, const RunConfig& config,
                      const c10::Device& device) {
  if (!device.is_cuda()) check_cpu_channels_last(model, config);
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) {
    if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  }
}

}  // namespace

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
  if (device.is_cuda()) model->to(device);
  if (config.section("runtime").get_bool("channels_last")) to_channels_last(*model, config, device);
  return model;
}

}  // namespace cpsd
