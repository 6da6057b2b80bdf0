// SPDX-License-Identifier: Apache-2.0
// MultiLabelModel: a backbone and a head from the registry, composed into one module.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "cpsd/core/export.h"
#include "cpsd/core/registry.h"
#include "cpsd/core/run_config.h"
#include "cpsd/core/state_dict.h"

namespace cpsd {

/// Registers its parts as "backbone" and "head", so state-dict keys read
/// `backbone.layer1.0.conv1.weight` and `head.fc.weight`.
class CPSD_CORE_API MultiLabelModel : public torch::nn::Module {
 public:
  MultiLabelModel(std::shared_ptr<Backbone> backbone, std::shared_ptr<Head> head);
  ~MultiLabelModel() override;

  /// images: float [N, 3, H, W] -> logits float [N, num_classes()].
  torch::Tensor forward(const torch::Tensor& images);

  Backbone& backbone() { return *backbone_; }
  Head& head() { return *head_; }
  int64_t num_classes() const { return head_->num_classes(); }

 private:
  std::shared_ptr<Backbone> backbone_;
  std::shared_ptr<Head> head_;
};

/// How pretrained weights are mapped and checked (model.pretrained_*).
struct CPSD_CORE_API PretrainedLoad {
  std::vector<std::string> renames;  ///< "from=>to" name prefixes, tried before the layout's
  std::string layout = "auto";       ///< a WeightLayout name, or "auto" (detect from the keys)
  std::string parts = "all";         ///< "all" | "backbone" | "matching"
};

/// Loads pretrained weights into `model` and returns the backbone's and the head's reports.
/// Each name takes the first matching rename of `load.renames`, else of the layout's
/// (cpsd/core/weight_layout.h); the layout's dropped names are left out. Then names the
/// head claims (Head::foreign_classifier_prefixes: a torchvision classifier's "fc.") go to
/// the head, names under "backbone." / "head." go there and the rest to the backbone, which
/// converts them first (Backbone::adapt_pretrained).
/// parts "all": every backbone tensor must load with its shape, and when any head tensor
/// loads, every head parameter must (a classifier for another class count, matching
/// nothing, leaves the head as initialised); "backbone": the file's head weights are left
/// out; "matching": whatever fits loads, the rest is warned about. Every missing,
/// unexpected and mismatched name is reported, grouped. ConfigError naming `source` when a
/// check fails or no backbone weight matched.
CPSD_CORE_API std::pair<LoadReport, LoadReport> load_pretrained(MultiLabelModel& model,
                                                                const StateDict& weights,
                                                                const PretrainedLoad& load,
                                                                const std::string& source);

/// Builds the backbone and head selected by `config` (model.backbone, model.head) with
/// their options, for the given classes (a teacher's subset or the full label set), and
/// loads model.pretrained when set (logging what was loaded).
/// Throws ConfigError if no backbone is selected or class_names is empty.
CPSD_CORE_API std::shared_ptr<MultiLabelModel> build_model(
    const RunConfig& config, const Registry& registry, const std::vector<std::string>& class_names);

}  // namespace cpsd
