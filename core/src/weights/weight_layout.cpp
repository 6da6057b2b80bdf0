// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/weight_layout.h"

#include "cpsd/core/text.h"
#include "cpsd/sdk/error.h"

namespace cpsd {
namespace {

std::vector<WeightLayout> make_layouts() {
  std::vector<WeightLayout> l;
  l.push_back({"q2l",
               "Query2Label (SlongLiu/query2labels; also CPSD's copy): backbone.0.body., "
               "transformer., query_embed., input_proj., fc.",
               {"backbone.0.body."},
               {{"backbone.0.body.", "backbone."},
                {"transformer.", "head.transformer."},
                {"query_embed.", "head.query_embed."},
                {"input_proj.", "head.input_proj."},
                {"fc.", "head.fc."}},
               // The sine position encoding, precomputed for one input size; cpsd computes
               // the same values for every map size.
               {"backbone.1.pe"}});
  l.push_back({"cpsd-authors",
               "Robbie-Xu/CPSD models: the ResNet as features.0/1/4-7, the head as fc., "
               "label_emb., transformer., classify.",
               {"features.0."},
               {{"features.0.", "backbone.conv1."},
                {"features.1.", "backbone.bn1."},
                {"features.4.", "backbone.layer1."},
                {"features.5.", "backbone.layer2."},
                {"features.6.", "backbone.layer3."},
                {"features.7.", "backbone.layer4."},
                {"fc.", "head.fc."},
                {"label_emb.", "head.label_emb."},
                {"transformer.", "head.transformer."},
                {"classify.", "head.classify."}},
               {}});
  l.push_back({"cpsd", "cpsd checkpoints and exports: backbone., head.", {"backbone."}, {}, {}});
  l.push_back({"ml-decoder",
               "ML-Decoder (Alibaba-MIIL/ML_Decoder): the decoder as head. (TResNet) or fc. "
               "(ResNet)",
               {"head.decoder.", "fc.decoder."},
               {},
               {}});
  l.push_back({"inplace-abn",
               "TResNet with InplaceABN (MIIL, ASL, timm <= 0.8): body.conv1.0. (converted by "
               "the backbone)",
               {"body.conv1.0."},
               {},
               {}});
  l.push_back({"timm",
               "timm classifiers (TResNet: body.conv1.conv., head.fc.)",
               {"body.conv1.conv."},
               {},
               {}});
  l.push_back({"torchvision", "torchvision classifiers: conv1., layerN., fc.", {"conv1."}, {}, {}});
  l.push_back({"as-is", "names used as they are", {}, {}, {}});
  return l;
}

bool has_signature(const WeightLayout& layout, const StateDict& weights) {
  for (const auto& [name, tensor] : weights) {
    for (const std::string& s : layout.signatures) {
      if (name.rfind(s, 0) == 0) return true;
    }
  }
  return false;
}

}  // namespace

const std::vector<WeightLayout>& weight_layouts() {
  static const std::vector<WeightLayout> layouts = make_layouts();
  return layouts;
}

const WeightLayout& detect_layout(const StateDict& weights) {
  for (const WeightLayout& layout : weight_layouts()) {
    if (has_signature(layout, weights)) return layout;
  }
  return weight_layouts().back();
}

const WeightLayout& choose_layout(const std::string& name, const StateDict& weights,
                                  const std::string& source) {
  if (name == "auto") return detect_layout(weights);
  std::vector<std::string> names{"auto"};
  for (const WeightLayout& layout : weight_layouts()) {
    names.push_back(layout.name);
    if (layout.name != name) continue;
    if (!layout.signatures.empty() && !has_signature(layout, weights)) {
      throw ConfigError(source + ": model.pretrained_layout = \"" + name +
                        "\", but no name in the file starts with " + join(layout.signatures) +
                        " (" + layout.description + "); \"auto\" finds the file's layout");
    }
    return layout;
  }
  throw ConfigError("model.pretrained_layout: unknown layout '" + name + "'; use one of " +
                    join(names));
}

}  // namespace cpsd
