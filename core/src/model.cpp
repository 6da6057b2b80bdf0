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

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::string first_names(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 5; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 5) out += ", ...";
  return out;
}

}  // namespace

std::pair<LoadReport, LoadReport> load_pretrained(MultiLabelModel& model, const StateDict& weights,
                                                  const std::vector<std::string>& renames,
                                                  const std::string& source) {
  std::vector<std::pair<std::string, std::string>> rules;
  for (const std::string& r : renames) {
    const auto arrow = r.find("=>");
    if (arrow == std::string::npos) {
      throw ConfigError("model.pretrained_rename: '" + r + "' is not \"from=>to\"");
    }
    rules.emplace_back(r.substr(0, arrow), r.substr(arrow + 2));
  }
  StateDict backbone, head;
  const auto classifier_prefixes = model.head().foreign_classifier_prefixes();
  for (auto [name, tensor] : weights) {
    for (const auto& [from, to] : rules) {
      if (starts_with(name, from)) {
        name = to + name.substr(from.size());
        break;
      }
    }
    bool classifier = false;  // a foreign classifier the head says is its own
    for (const auto& [from, to] : classifier_prefixes) {
      if (!classifier && starts_with(name, from)) {
        head.emplace_back(to + name.substr(from.size()), tensor);
        classifier = true;
      }
    }
    if (classifier) continue;
    if (starts_with(name, "backbone.")) {
      backbone.emplace_back(name.substr(9), tensor);
    } else if (starts_with(name, "head.")) {
      head.emplace_back(name.substr(5), tensor);
    } else {
      backbone.emplace_back(name, tensor);
    }
  }
  model.backbone().adapt_pretrained(backbone);
  LoadReport b = load_state_dict(model.backbone(), backbone);
  if (b.matched.empty()) {
    std::vector<std::string> names;
    for (const auto& [n, t] : backbone) names.push_back(n);
    throw ConfigError(
        source + ": none of its weights fits the backbone (its names: " + first_names(names) +
        "); is it for this architecture? model.pretrained_rename can map other names");
  }
  LoadReport h = load_state_dict(model.head(), head);
  log::info("pretrained {}: backbone {}; head {}", source, b.summary(),
            h.matched.empty() ? std::string("kept as initialised") : h.summary());
  if (!b.missing.empty())
    log::warn("pretrained {}: backbone weights not in the file: {}", source,
              first_names(b.missing));
  if (!b.unexpected.empty())
    log::warn("pretrained {}: unused weights: {}", source, first_names(b.unexpected));
  if (!b.mismatched.empty())
    log::warn("pretrained {}: other shapes: {}", source, first_names(b.mismatched));
  return {b, h};
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
    load_pretrained(*model, cache[key], m.get_string_list("pretrained_rename"), file);
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
