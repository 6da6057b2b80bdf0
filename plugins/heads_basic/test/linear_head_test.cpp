// SPDX-License-Identifier: Apache-2.0
// head/linear, loaded from the built plugin file.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd {
namespace {

std::shared_ptr<Head> make_linear(double dropout, double init_std, int64_t classes) {
  static PluginManager* m = [] {
    auto* pm = new PluginManager();
    pm->load({{test::plugin_dir(), "test"}});
    return pm;
  }();
  HeadArgs args;
  args.options = plugin_options(
      m->registry(), Kind::head, "linear",
      "dropout = " + std::to_string(dropout) + "\ninit_std = " + std::to_string(init_std) + "\n");
  args.features = {{6, 32, "layer4"}};
  args.num_classes = classes;
  args.class_names.assign(classes, "c");
  return m->registry().create_head("linear", args);
}

TEST(LinearHead, IsPoolingThenLinear) {
  auto head = make_linear(0.0, 0.0, 3);
  head->eval();
  const torch::Tensor x = torch::randn({2, 6, 3, 5});
  const auto params = head->named_parameters();
  ASSERT_TRUE(params.contains("fc.weight"));
  ASSERT_TRUE(params.contains("fc.bias"));
  const torch::Tensor expected =
      torch::matmul(x.mean({2, 3}), params["fc.weight"].t()) + params["fc.bias"];
  EXPECT_TRUE(torch::allclose(head->forward({x}), expected, 1e-5, 1e-6));
}

TEST(LinearHead, InitStdGivesNormalWeightsAndZeroBias) {
  torch::manual_seed(1);
  auto head = make_linear(0.0, 0.01, 2000);
  const auto params = head->named_parameters();
  EXPECT_NEAR(params["fc.weight"].std().item<double>(), 0.01, 0.001);
  EXPECT_EQ(params["fc.bias"].abs().max().item<double>(), 0.0);
}

TEST(LinearHead, RejectsBadOptionsAndShapes) {
  EXPECT_THROW(make_linear(1.5, 0.0, 3), ConfigError);
  EXPECT_THROW(make_linear(0.0, -1.0, 3), ConfigError);
  auto head = make_linear(0.0, 0.0, 3);
  EXPECT_THROW(head->forward({torch::randn({2, 5, 3, 3})}), c10::Error);
}

}  // namespace
}  // namespace cpsd
