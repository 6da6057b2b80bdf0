// SPDX-License-Identifier: Apache-2.0
// TResNet-M/L/XL and ResNeXt50-32x4d against timm's own code
// (tests/weights/backbone_parity_expected.json, made by backbone_parity_fixture.py): the
// same formula weights, BatchNorm statistics 0/1, the same float64 logits in eval mode.
#include <gtest/gtest.h>

#include <map>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "cpsd/core/model.h"
#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "parity_formula.h"
#include "test_support.h"

namespace cpsd {
namespace {

using Json = nlohmann::json;

PluginManager& manager() { return test::in_tree_plugins(); }

const Json& fixture() {
  static const Json* f = new Json(Json::parse(
      test::read_file(test::source_dir() / "tests/weights/backbone_parity_expected.json")));
  return *f;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// cpsd's "backbone.X" is timm's "X"; cpsd's "head.fc.Y" is timm's "head.fc.Y" (TResNet) or
// "fc.Y" (ResNet).
std::string timm_name(const std::string& key, const Json& state) {
  if (key.rfind("backbone.", 0) == 0) return key.substr(9);
  return state.contains(key) ? key : key.substr(5);
}

void run_case(const Json& c) {
  const std::string arch = c["timm"];
  SCOPED_TRACE(arch);
  const RunConfig config =
      RunConfig::parse("[model]\nbackbone = \"" + arch + "\"\nhead = \"linear\"\n", "model.toml",
                       {}, manager().registry());
  const int64_t classes = c["classes"];
  auto model = build_model(config, manager().registry(), std::vector<std::string>(classes, "c"));
  const Json& state = c["state"];
  std::map<std::string, std::vector<int64_t>> names;
  torch::NoGradGuard no_grad;
  auto fill = [&](const std::string& key, torch::Tensor& t) {
    const std::string name = timm_name(key, state);
    names[name] = t.sizes().vec();
    if (ends_with(name, "running_mean") || ends_with(name, "running_var")) {
      t.fill_(ends_with(name, "mean") ? 0.0 : 1.0);
    } else {
      t.copy_(test::formula(name, t.sizes()));
    }
  };
  for (auto& p : model->named_parameters()) fill(p.key(), p.value());
  for (auto& b : model->named_buffers()) {
    if (!ends_with(b.key(), "num_batches_tracked")) fill(b.key(), b.value());
  }
  std::map<std::string, std::vector<int64_t>> expected;
  for (const auto& [k, v] : state.items()) expected[k] = v.get<std::vector<int64_t>>();
  ASSERT_EQ(names, expected) << "state dict names and shapes";

  // float64, as the fixture: these networks are well conditioned there, so the bound
  // holds for any BLAS.
  model->to(torch::kDouble);
  model->eval();
  const int64_t size = c["size"];
  const torch::Tensor logits =
      model->forward(test::wave({4, 3, size, size}, 0.37, 0.011).to(torch::kDouble));
  const torch::Tensor ref =
      torch::tensor(c["logits"].get<std::vector<double>>(), torch::kDouble).reshape(logits.sizes());
  const double error = ((logits - ref).abs() / (1.0 + ref.abs())).max().item<double>();
  EXPECT_LT(error, 1e-9) << "cpsd " << logits << "\ntimm " << ref;
  // Most of each logit is the same for every image; what the image decides is the rest.
  const torch::Tensor own = logits - logits.mean(0), theirs = ref - ref.mean(0);
  const double spread = theirs.abs().max().item<double>();
  ASSERT_GT(spread, 1e-5) << "the fixture's images must give different logits";
  EXPECT_LT((own - theirs).abs().max().item<double>() / spread, 1e-6)
      << "cpsd " << own << "\ntimm " << theirs;
}

TEST(BackboneParity, TResNetMEqualsTimm) { run_case(fixture()["cases"][0]); }
TEST(BackboneParity, TResNetLEqualsTimm) { run_case(fixture()["cases"][1]); }
TEST(BackboneParity, TResNetXLEqualsTimm) { run_case(fixture()["cases"][2]); }
TEST(BackboneParity, ResNeXt50EqualsTimm) { run_case(fixture()["cases"][3]); }

}  // namespace
}  // namespace cpsd
