// SPDX-License-Identifier: Apache-2.0
// The paper's models built from configs: parameter counts and key names as in
// reference/backbones.md, forward shapes at 224 and 448, TResNet's InplaceABN conversion.
#include <gtest/gtest.h>

#include <map>

#include <torch/torch.h>

#include "cpsd/core/model.h"
#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "cpsd/core/state_dict.h"
#include "test_support.h"

namespace cpsd {
namespace {

class PaperModels : public test::SharedFixture<PaperModels> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    manager_ = new PluginManager();
    manager_->load({{test::plugin_dir(), "test"}});
    dir_ = new test::TempDir();
    // A GloVe-format file for 80 one-word classes (random vectors).
    std::string glove;
    for (int c = 0; c < 80; ++c) {
      glove += "word" + std::to_string(c);
      for (int i = 0; i < 300; ++i) glove += " " + std::to_string((c * 7 + i) % 13 / 13.0 - 0.5);
      glove += "\n";
    }
    test::write_file(dir_->path() / "glove.txt", glove);
  }
  static void TearDownTestSuite() {
    delete manager_;
    delete dir_;
  }
  std::shared_ptr<MultiLabelModel> build(const std::string& toml) {
    const RunConfig config = RunConfig::parse(toml, "model.toml", {}, manager_->registry());
    std::vector<std::string> names;
    for (int c = 0; c < 80; ++c) names.push_back("word" + std::to_string(c));
    return build_model(config, manager_->registry(), names);
  }
  static std::string glove() { return (dir_->path() / "glove.txt").string(); }
  static PluginManager* manager_;
  static test::TempDir* dir_;
};
PluginManager* PaperModels::manager_ = nullptr;
test::TempDir* PaperModels::dir_ = nullptr;

int64_t count(const std::vector<torch::Tensor>& tensors) {
  int64_t n = 0;
  for (const auto& t : tensors) n += t.numel();
  return n;
}

std::map<std::string, std::vector<int64_t>> shapes(torch::nn::Module& m) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value().sizes().vec();
  for (const auto& b : m.named_buffers()) {
    if (b.key().find("num_batches_tracked") == std::string::npos)
      out[b.key()] = b.value().sizes().vec();
  }
  return out;
}

void expect_forward(MultiLabelModel& model, int64_t size) {
  model.eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model.forward(torch::rand({1, 3, size, size})).sizes(), (std::vector<int64_t>{1, 80}))
      << size;
}

TEST_F(PaperModels, TResNetL) {
  auto model = build(
      "[model]\nbackbone = \"tresnet_l\"\nhead = \"linear\"\n[head.linear]\ninit_std = 0.01\n");
  const auto keys = shapes(*model);
  EXPECT_NEAR(count(model->backbone().parameters()) / 1e6, 53.56, 0.005);
  EXPECT_NEAR(count(model->parameters()) / 1e6, 53.75, 0.005);
  EXPECT_EQ(keys.size(), 535u);  // as the reference's state dict for C = 80
  EXPECT_EQ(keys.at("backbone.body.conv1.conv.weight"), (std::vector<int64_t>{76, 48, 3, 3}));
  EXPECT_EQ(keys.at("backbone.body.layer1.0.se.fc1.weight"), (std::vector<int64_t>{64, 76, 1, 1}));
  EXPECT_EQ(keys.at("backbone.body.layer3.0.se.fc1.weight"),
            (std::vector<int64_t>{152, 304, 1, 1}));
  EXPECT_TRUE(keys.count("backbone.body.layer2.0.conv1.conv.weight"));  // the anti-aliased conv
  EXPECT_TRUE(keys.count("backbone.body.layer4.0.downsample.1.conv.weight"));
  EXPECT_FALSE(keys.count("backbone.body.layer4.0.se.fc1.weight"));  // no SE in layer4
  EXPECT_EQ(keys.at("head.fc.weight"), (std::vector<int64_t>{80, 2432}));
  expect_forward(*model, 224);
  expect_forward(*model, 448);
}

TEST_F(PaperModels, TResNetLoadsInplaceAbnCheckpointsConverted) {
  auto model = build("[model]\nbackbone = \"tresnet_m\"\nhead = \"linear\"\n");
  // Write the model's weights in the original InplaceABN naming, with negative scales.
  StateDict original;
  std::vector<std::pair<std::string, torch::Tensor>> state;
  for (const auto& p : model->backbone().named_parameters()) state.emplace_back(p.key(), p.value());
  for (const auto& b : model->backbone().named_buffers()) {
    if (b.key().find("num_batches_tracked") == std::string::npos)
      state.emplace_back(b.key(), b.value());
  }
  for (const auto& [key, value_in] : state) {
    std::string name = key;
    for (const auto& [from, to] :
         std::vector<std::pair<std::string, std::string>>{{".conv.", ".0."}, {".bn.", ".1."}}) {
      for (std::size_t at; (at = name.find(from)) != std::string::npos;)
        name.replace(at, from.size(), to);
    }
    // Anti-aliased convs nest one level deeper in the original.
    for (const char* aa : {"layer2.0.conv1.", "layer3.0.conv2.", "layer4.0.conv2."}) {
      const auto at = name.find(aa);
      if (at != std::string::npos) name.insert(at + std::string(aa).size(), "0.");
    }
    torch::Tensor value = value_in.detach().clone();
    if (name == "body.conv1.1.weight") value.fill_(-2.0);
    original.emplace_back(name, value);
  }
  original.emplace_back("body.layer2.0.conv1.1.aa.filt", torch::ones({1}));
  auto fresh = build("[model]\nbackbone = \"tresnet_m\"\nhead = \"linear\"\n");
  const auto [b, h] = load_pretrained(*fresh, original, {}, "original.pth");
  EXPECT_EQ(b.missing.size(), 0u) << b.summary();
  EXPECT_EQ(b.unexpected.size(), 0u) << b.summary();
  const auto params = fresh->backbone().named_parameters();
  EXPECT_NEAR(params["body.conv1.bn.weight"][0].item<double>(), 2.0 + 1e-5, 1e-7);  // |w| + eps
  EXPECT_TRUE(
      torch::equal(params["body.layer2.0.conv1.conv.weight"],
                   model->backbone().named_parameters()["body.layer2.0.conv1.conv.weight"]));
}

TEST_F(PaperModels, ResNet101Transformer) {
  auto model = build(
      "[model]\nbackbone = \"resnet101\"\nhead = \"transformer\"\n[head.transformer]\n"
      "embeddings = \"glove\"\nglove = \"" +
      glove() + "\"\n");
  const auto keys = shapes(*model);
  EXPECT_NEAR(count(model->parameters()) / 1e6, 101.55, 0.005);
  EXPECT_NEAR(count(model->backbone().parameters()) / 1e6, 42.50, 0.005);
  EXPECT_EQ(keys.at("head.transformer.layers.0.0.fn.fn.to_qkv.weight"),
            (std::vector<int64_t>{12288, 1024}));
  EXPECT_EQ(keys.at("head.transformer.layers.2.0.fn.fn.to_out.0.weight"),
            (std::vector<int64_t>{1024, 4096}));
  EXPECT_TRUE(keys.count("head.transformer.layers.1.0.fn.norm.weight"));
  EXPECT_TRUE(keys.count("head.transformer.layers.1.1.fn.fn.net.0.weight"));
  EXPECT_TRUE(keys.count("head.transformer.layers.1.1.fn.fn.net.3.bias"));
  EXPECT_EQ(keys.at("head.fc.0.weight"), (std::vector<int64_t>{1024, 2048}));
  EXPECT_EQ(keys.at("head.label_emb.0.weight"), (std::vector<int64_t>{1024, 300}));
  EXPECT_EQ(keys.at("head.classify.0.weight"), (std::vector<int64_t>{1, 1024}));
  EXPECT_EQ(keys.at("head.class_vectors"),
            (std::vector<int64_t>{80, 300}));  // GloVe rows, a buffer
  expect_forward(*model, 224);
  expect_forward(*model, 448);
}

TEST_F(PaperModels, Query2LabelR101) {
  const std::string base =
      "[model]\nbackbone = \"resnet101\"\nhead = \"query2label\"\n"
      "[backbone.resnet101]\nfrozen_bn = true\nfrozen_stages = 1\n";
  // Q2L's FrozenBatchNorm keeps scale and shift as buffers; here they are parameters that
  // are not trained, so they are left out of the comparison with the reference counts.
  auto frozen_norm = [](torch::nn::Module& m) {
    int64_t n = 0;
    for (const auto& p : m.named_parameters()) {
      if (p.key().find(".bn") != std::string::npos || p.key().rfind("bn1.", 0) == 0 ||
          p.key().find("downsample.1.") != std::string::npos) {
        n += p.value().numel();
      }
    }
    return n;
  };
  auto official = build(base + "[head.query2label]\ninput_proj = false\n");
  EXPECT_NEAR((count(official->parameters()) - frozen_norm(official->backbone())) / 1e6, 193.80,
              0.005);
  auto model = build(base);  // CPSD's copy keeps input_proj
  EXPECT_NEAR((count(model->parameters()) - frozen_norm(model->backbone())) / 1e6, 198.00, 0.005);
  const auto keys = shapes(*model);
  EXPECT_EQ(keys.at("head.transformer.encoder.layers.0.self_attn.in_proj_weight"),
            (std::vector<int64_t>{6144, 2048}));
  EXPECT_EQ(keys.at("head.transformer.encoder.layers.0.linear1.weight"),
            (std::vector<int64_t>{8192, 2048}));
  EXPECT_TRUE(keys.count("head.transformer.decoder.layers.1.multihead_attn.out_proj.weight"));
  EXPECT_TRUE(keys.count("head.transformer.decoder.layers.1.norm3.weight"));
  EXPECT_FALSE(keys.count("head.transformer.decoder.layers.0.self_attn.in_proj_weight"));
  EXPECT_FALSE(keys.count("head.transformer.decoder.layers.0.norm1.weight"));
  EXPECT_TRUE(keys.count("head.transformer.decoder.norm.weight"));
  EXPECT_EQ(keys.at("head.query_embed.weight"), (std::vector<int64_t>{80, 2048}));
  EXPECT_EQ(keys.at("head.fc.W"), (std::vector<int64_t>{1, 80, 2048}));
  EXPECT_EQ(keys.at("head.fc.b"), (std::vector<int64_t>{1, 80}));
  EXPECT_EQ(keys.at("head.input_proj.weight"), (std::vector<int64_t>{2048, 2048, 1, 1}));
  // Frozen stem and layer1; BatchNorm stays in eval mode in training.
  const auto params = model->named_parameters();
  EXPECT_FALSE(params["backbone.layer1.0.conv1.weight"].requires_grad());
  EXPECT_TRUE(params["backbone.layer2.0.conv1.weight"].requires_grad());
  EXPECT_FALSE(params["backbone.layer3.0.bn1.weight"].requires_grad());
  model->train();
  for (const auto& m : model->backbone().modules(false)) {
    if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      EXPECT_FALSE(bn->is_training());
    }
  }
  expect_forward(*model, 224);
  expect_forward(*model, 448);
}

}  // namespace
}  // namespace cpsd
