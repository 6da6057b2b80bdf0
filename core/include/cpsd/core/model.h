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

/// Builds the backbone and head selected by `config` (model.backbone, model.head) with
/// their options, for the given classes (a teacher's subset or the full label set).
/// Throws ConfigError if no backbone is selected or class_names is empty.
CPSD_CORE_API std::shared_ptr<MultiLabelModel> build_model(
    const RunConfig& config, const Registry& registry, const std::vector<std::string>& class_names);

}  // namespace cpsd
