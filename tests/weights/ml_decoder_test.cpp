// SPDX-License-Identifier: Apache-2.0
// head/ml_decoder against ML-Decoder's own code (tests/weights/ml_decoder_expected.json,
// made by ml_decoder_fixture.py from the authors' file, weights set by a formula repeated
// here), and its size on TResNet-L at the paper's setting.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "cpsd/core/model.h"
#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "cpsd/core/state_dict.h"
#include "test_support.h"

namespace cpsd {
namespace {

using Json = nlohmann::json;

PluginManager& manager() { return test::in_tree_plugins(); }

// The fixture's formula: value[i] = 0.1 sin(1.7 i + 0.3 len(name)), in double, then float.
torch::Tensor formula(const std::string& name, at::IntArrayRef shape) {
  const torch::Tensor i = torch::arange(c10::multiply_integers(shape), torch::kDouble);
  return (0.1 * torch::sin(1.7 * i + 0.3 * static_cast<double>(name.size())))
      .to(torch::kFloat)
      .reshape(shape);
}

std::shared_ptr<Head> make_head(const Json& c) {
  const std::string options =
      "groups = " +
      std::to_string(c["groups"].get<int64_t>() < 0 ? 100 : c["groups"].get<int64_t>()) +
      "\nembedding = " + std::to_string(c["embedding"].get<int64_t>()) + "\n";
  HeadArgs args{plugin_options(manager().registry(), Kind::head, "ml_decoder", options),
                {FeatureInfo{c["channels"].get<int64_t>(), 32, "layer4"}},
                c["classes"].get<int64_t>(),
                std::vector<std::string>(c["classes"].get<std::size_t>(), "c")};
  return manager().registry().create_head("ml_decoder", args);
}

TEST(MlDecoder, EqualsTheAuthorsHead) {
  const Json fixture =
      Json::parse(test::read_file(test::source_dir() / "tests/weights/ml_decoder_expected.json"));
  for (const Json& c : fixture["cases"]) {
    auto head = make_head(c);
    std::map<std::string, std::vector<int64_t>> names;
    int64_t parameters = 0;
    torch::NoGradGuard no_grad;
    for (auto& p : head->named_parameters()) {
      names[p.key()] = p.value().sizes().vec();
      parameters += p.value().numel();
      p.value().copy_(formula(p.key(), p.value().sizes()));
    }
    EXPECT_TRUE(head->named_buffers().is_empty());
    std::map<std::string, std::vector<int64_t>> expected;
    for (const auto& [k, v] : c["state"].items()) expected[k] = v.get<std::vector<int64_t>>();
    EXPECT_EQ(names, expected) << "state dict names and shapes";
    EXPECT_EQ(parameters, c["parameters"].get<int64_t>());
    head->eval();
    const torch::Tensor x = formula(
        "input",
        {2, c["channels"].get<int64_t>(), c["height"].get<int64_t>(), c["width"].get<int64_t>()});
    const torch::Tensor logits = head->forward({x});
    const auto want = c["logits"].get<std::vector<float>>();
    ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{2, c["classes"].get<int64_t>()}));
    const torch::Tensor ref = torch::tensor(want).reshape(logits.sizes());
    EXPECT_LT((logits - ref).abs().max().item<double>(), 1e-4)
        << "groups " << c["groups"] << ": cpsd " << logits << "\nML-Decoder " << ref;
  }
}

TEST(MlDecoder, QueriesAreNotTrainedAndEveryOtherParameterIs) {
  const Json c = {{"groups", 4}, {"embedding", 32}, {"channels", 24}, {"classes", 10}};
  auto head = make_head(c);
  head->train();
  head->forward({torch::rand({2, 24, 3, 3})}).sum().backward();
  for (const auto& p : head->named_parameters()) {
    if (p.key() == "decoder.query_embed.weight") {
      EXPECT_FALSE(p.value().requires_grad());
    } else {
      EXPECT_TRUE(p.value().grad().defined()) << p.key();
    }
  }
}

// The authors' checkpoints hold the head as model.head = MLDecoder (TResNet: "head.decoder.*")
// or model.fc = MLDecoder (ResNet: "fc.decoder.*"); both load whole into the head.
TEST(MlDecoder, TheAuthorsCheckpointLayoutsLoadWhole) {
  const RunConfig config = RunConfig::parse(
      "[model]\nbackbone = \"resnet\"\nhead = \"ml_decoder\"\n[backbone.resnet]\nwidth = 4\n"
      "[head.ml_decoder]\nembedding = 32\nheads = 4\nfeedforward = 64\n",
      "model.toml", {}, manager().registry());
  for (const std::string prefix : {"head.", "fc."}) {
    auto source = build_model(config, manager().registry(), std::vector<std::string>(6, "c"));
    StateDict file;
    for (const auto& p : source->backbone().named_parameters())
      file.emplace_back(p.key(), p.value());
    for (const auto& b : source->backbone().named_buffers()) file.emplace_back(b.key(), b.value());
    for (const auto& p : source->head().named_parameters())
      file.emplace_back(prefix + p.key(), p.value() + 1.0);  // unlike any fresh head
    auto model = build_model(config, manager().registry(), std::vector<std::string>(6, "c"));
    const auto [backbone, head] = load_pretrained(*model, file, {}, prefix + " layout");
    EXPECT_TRUE(head.missing.empty() && head.unexpected.empty() && head.mismatched.empty())
        << prefix << ": " << head.summary();
    EXPECT_EQ(head.matched.size(), model->head().named_parameters().size()) << prefix;
    EXPECT_TRUE(backbone.unexpected.empty()) << prefix << ": " << backbone.summary();
    const auto want = source->head().named_parameters();
    for (const auto& p : model->head().named_parameters())
      EXPECT_TRUE(torch::equal(p.value(), want[p.key()] + 1.0)) << prefix << p.key();
  }
}

// TResNet-L (2432 channels) with ML-Decoder on COCO as the ML-Decoder paper trains it: 80
// classes, the default 100 groups capped at 80 (one query per class), 768 wide.
TEST(MlDecoder, PaperSizeOnTResNetL) {
  const RunConfig config = RunConfig::load(
      test::source_dir() / "configs/paper/cpsd_tresnetl-mldecoder_cgp5-dgp5_1xb24_coco-448.toml",
      {"model.pretrained=\"\""}, manager().registry());
  auto model = build_model(config, manager().registry(), std::vector<std::string>(80, "c"));
  int64_t head = 0;
  for (const auto& p : model->head().parameters()) head += p.numel();
  const int64_t c = 80, k = 80, d = 768, ff = 2048, in = 2432;
  const int64_t expected = (in * d + d)                         // embed_standart
                           + k * d                              // query_embed
                           + (3 * d * d + 3 * d) + (d * d + d)  // attention in/out projections
                           + (d * ff + ff) + (ff * d + d)       // feed-forward
                           + 3 * 2 * d                          // three LayerNorms
                           + k * d * 1 + c;                     // group FC (g = 1) and bias
  EXPECT_EQ(head, expected);
  const auto params = model->head().named_parameters();
  EXPECT_EQ(params["decoder.duplicate_pooling"].sizes(), (std::vector<int64_t>{80, 768, 1}));
  model->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->forward(torch::rand({1, 3, 64, 64})).sizes(), (std::vector<int64_t>{1, 80}));
}

}  // namespace
}  // namespace cpsd
