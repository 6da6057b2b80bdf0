// SPDX-License-Identifier: Apache-2.0
// Out-of-line members of the four interfaces: their vtables and typeinfo live here only.
#include "cpsd/sdk/backbone.h"
#include "cpsd/sdk/decomposer.h"
#include "cpsd/sdk/head.h"
#include "cpsd/sdk/loss.h"

namespace cpsd {

Backbone::~Backbone() = default;
InputSpec Backbone::input_spec() const { return InputSpec{}; }
void Backbone::adapt_pretrained(std::vector<std::pair<std::string, torch::Tensor>>&) const {}
Head::~Head() = default;

std::vector<std::pair<std::string, std::string>> Head::foreign_classifier_prefixes() const {
  return {};
}

torch::Tensor Head::class_activation_weights() const { return {}; }
Loss::~Loss() = default;
Decomposer::~Decomposer() = default;

}  // namespace cpsd
