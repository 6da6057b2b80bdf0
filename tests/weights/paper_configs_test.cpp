// SPDX-License-Identifier: Apache-2.0
// Every shipped config validates and builds its model (pretrained files and GloVe are not
// on the test machine: they are switched off; the input is tiny).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "cpsd/core/engine/plan.h"
#include "cpsd/core/model.h"
#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "cpsd/core/sweep/spec.h"
#include "test_support.h"

namespace cpsd {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> shipped_configs() {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(test::source_dir() / "configs")) {
    const std::string path = e.path().string();
    if (e.path().extension() == ".toml" && path.find("_base_") == std::string::npos &&
        path.find("/sweeps/") == std::string::npos) {
      out.push_back(fs::relative(e.path(), test::source_dir()).string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

class ShippedConfig
    : public test::SharedFixture<ShippedConfig, ::testing::TestWithParam<std::string>> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    manager_ = new PluginManager();
    manager_->load({{test::plugin_dir(), "test"}});
  }
  static void TearDownTestSuite() { delete manager_; }
  static PluginManager* manager_;
};
PluginManager* ShippedConfig::manager_ = nullptr;

TEST_P(ShippedConfig, ValidatesAndBuilds) {
  const fs::path file = test::source_dir() / GetParam();
  const RunConfig as_shipped =
      RunConfig::load(file, {}, manager_->registry());  // throws on any mistake
  std::vector<std::string> overrides = {"model.pretrained=\"\"", "runtime.threads=0"};
  if (as_shipped.selected(Kind::head) == "transformer")
    overrides.push_back("head.transformer.embeddings=learned");
  const RunConfig config = RunConfig::load(file, overrides, manager_->registry());
  const int64_t classes = GetParam().find("nuswide") != std::string::npos ? 81 : 80;
  auto model = build_model(config, manager_->registry(), std::vector<std::string>(classes, "c"));
  model->eval();
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->forward(torch::rand({1, 3, 64, 64})).sizes(),
            (std::vector<int64_t>{1, classes}));
}

INSTANTIATE_TEST_SUITE_P(Configs, ShippedConfig, ::testing::ValuesIn(shipped_configs()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = fs::path(info.param).stem().string();
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// Every shipped sweep file loads, and each run of its grid has a valid config and plan.
TEST(ShippedSweeps, EveryRunOfEveryGridPlans) {
  PluginManager manager;
  manager.load({{test::plugin_dir(), "test"}});
  int files = 0;
  for (const auto& e : fs::directory_iterator(test::source_dir() / "configs/sweeps")) {
    const sweep::Spec spec = sweep::load_spec(e.path(), {});
    for (const sweep::Cell& cell : sweep::cells(spec)) {
      const RunConfig config =
          RunConfig::load(spec.config, sweep::run_overrides(spec, cell), manager.registry());
      const engine::RunPlan plan = engine::make_plan(config, manager.registry(), {});
      EXPECT_TRUE(plan.baseline) << e.path() << " " << cell.name;
      EXPECT_GE(plan.methods.size(), 2u) << e.path() << " " << cell.name;
    }
    ++files;
  }
  EXPECT_GE(files, 4);
}

}  // namespace
}  // namespace cpsd
