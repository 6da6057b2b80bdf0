// SPDX-License-Identifier: Apache-2.0
// head/query2label and head/transformer against their authors' code
// (tests/weights/transformer_heads_expected.json, made by transformer_heads_fixture.py from
// SlongLiu/query2labels and Robbie-Xu/CPSD): the same formula weights and feature map, the
// same logits, small cases and the paper's sizes.
#include <gtest/gtest.h>

#include <map>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "parity_formula.h"
#include "test_support.h"

namespace cpsd {
namespace {

using Json = nlohmann::json;

PluginManager& manager() { return test::in_tree_plugins(); }

const Json& fixture_case(const std::string& name) {
  static const Json* f = new Json(Json::parse(
      test::read_file(test::source_dir() / "tests/weights/transformer_heads_expected.json")));
  for (const Json& c : (*f)["cases"]) {
    if (c["name"] == name) return c;
  }
  throw std::runtime_error("no case " + name);
}

void expect_equals_the_authors(const std::string& case_name) {
  const Json& c = fixture_case(case_name);
  const std::string kind = c["head"];
  const int64_t classes = c["classes"], channels = c["channels"];
  HeadArgs args{
      plugin_options(manager().registry(), Kind::head, kind, c["options"].get<std::string>()),
      {FeatureInfo{channels, 32, "layer4"}},
      classes,
      std::vector<std::string>(classes, "c")};
  auto head = manager().registry().create_head(kind, args);
  std::map<std::string, std::vector<int64_t>> names;
  int64_t parameters = 0;
  torch::NoGradGuard no_grad;
  for (auto& p : head->named_parameters()) {
    names[p.key()] = p.value().sizes().vec();
    parameters += p.value().numel();
    p.value().copy_(test::formula(p.key(), p.value().sizes()));
  }
  for (auto& b : head->named_buffers()) {
    names[b.key()] = b.value().sizes().vec();
    b.value().copy_(test::formula(b.key(), b.value().sizes()));
  }
  std::map<std::string, std::vector<int64_t>> expected;
  for (const auto& [k, v] : c["state"].items()) expected[k] = v.get<std::vector<int64_t>>();
  EXPECT_EQ(names, expected) << "state dict names and shapes";
  EXPECT_EQ(parameters, c["parameters"].get<int64_t>());
  head->eval();
  const torch::Tensor x =
      test::wave({2, channels, c["height"].get<int64_t>(), c["width"].get<int64_t>()}, 0.37, 0.011);
  const torch::Tensor logits = head->forward({x});
  const torch::Tensor ref =
      torch::tensor(c["logits"].get<std::vector<float>>()).reshape({2, classes});
  ASSERT_EQ(logits.sizes(), ref.sizes());
  const double error = ((logits - ref).abs() / (1.0 + ref.abs())).max().item<double>();
  EXPECT_LT(error, 1e-4) << case_name << ": cpsd " << logits << "\nauthors " << ref;
}

TEST(TransformerHeadsParity, Query2LabelSmallWithInputProjection) {
  expect_equals_the_authors("q2l_small_input_proj");
}
TEST(TransformerHeadsParity, Query2LabelSmallWithoutInputProjection) {
  expect_equals_the_authors("q2l_small_no_input_proj");
}
TEST(TransformerHeadsParity, Query2LabelWithoutEncoder) {
  expect_equals_the_authors("q2l_no_encoder");
}
TEST(TransformerHeadsParity, Query2LabelR101PaperSize) {
  expect_equals_the_authors("q2l_r101_448_paper");
}
TEST(TransformerHeadsParity, R101TransformerSmall) {
  expect_equals_the_authors("transformer_small");
}
TEST(TransformerHeadsParity, R101TransformerInnerWidthUnlikeDim) {
  expect_equals_the_authors("transformer_inner_width");
}
TEST(TransformerHeadsParity, R101TransformerOneHeadHasNoOutputProjection) {
  expect_equals_the_authors("transformer_one_head");
}
TEST(TransformerHeadsParity, R101TransformerPaperSize) {
  expect_equals_the_authors("transformer_r101tf_448_paper");
}

}  // namespace
}  // namespace cpsd
