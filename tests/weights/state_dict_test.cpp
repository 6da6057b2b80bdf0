// SPDX-License-Identifier: Apache-2.0
// Reading PyTorch files written by Python's torch.save, safetensors, exporting back, and
// numerical parity with torchvision's ResNets.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <sstream>

#include <torch/torch.h>

#include "cpsd/core/model.h"
#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "cpsd/core/state_dict.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd {
namespace {

class Weights : public test::SharedFixture<Weights> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    dir_ = new test::TempDir();
    const std::string cmd = "/usr/bin/python3 " +
                            (test::source_dir() / "tests/weights/make_fixtures.py").string() + " " +
                            dir_->path().string() + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "python3-torch is needed (scripts/install-deps.sh)";
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path file(const char* name) { return dir_->path() / name; }
  static test::TempDir* dir_;
};
test::TempDir* Weights::dir_ = nullptr;

std::map<std::string, at::Tensor> as_map(const StateDict& sd) {
  std::map<std::string, at::Tensor> m;
  for (const auto& [k, v] : sd) m[k] = v;
  return m;
}

void expect_reference(const StateDict& sd) {
  auto m = as_map(sd);
  ASSERT_EQ(m.size(), 7u);
  EXPECT_TRUE(at::equal(m["conv.weight"], at::arange(24, at::kFloat).reshape({2, 3, 2, 2})));
  EXPECT_TRUE(at::equal(m["bn.running_mean"], at::tensor({1.5f, -2.0f})));
  EXPECT_EQ(m["bn.num_batches_tracked"].item<int64_t>(), 7);
  EXPECT_EQ(m["half"].scalar_type(), at::kHalf);
  EXPECT_TRUE(at::equal(m["half"].to(at::kFloat), at::arange(6, at::kFloat).reshape({2, 3})));
  EXPECT_TRUE(at::equal(m["transposed"], at::arange(6, at::kFloat).reshape({2, 3}).t()));
  EXPECT_TRUE(at::equal(m["view_a"], at::tensor({2.0f, 3.0f, 4.0f})));
  EXPECT_TRUE(at::equal(m["view_b"], at::tensor({5.0f, 6.0f, 7.0f, 8.0f, 9.0f})));
  EXPECT_EQ(sd.front().first, "conv.weight");  // file order kept
}

TEST_F(Weights, OrderedDictStateDict) { expect_reference(read_state_dict(file("plain.pth"))); }

TEST_F(Weights, NestedCheckpointsWithPythonObjectsAndPrefixes) {
  expect_reference(read_state_dict(file("nested.pth")));
  expect_reference(read_state_dict(file("q2l_style.pkl")));
  expect_reference(read_state_dict(file("nested.pth"), "model"));
  EXPECT_THROW(read_state_dict(file("nested.pth"), "state_dict_ema"), ConfigError);
}

TEST_F(Weights, Safetensors) {
  auto m = as_map(read_state_dict(file("weights.safetensors")));
  EXPECT_TRUE(at::equal(m["conv.weight"], at::arange(24, at::kFloat).reshape({2, 3, 2, 2})));
  EXPECT_EQ(m["bn.num_batches_tracked"].item<int64_t>(), 7);
}

TEST_F(Weights, ClearErrors) {
  auto error = [](const std::filesystem::path& p) {
    try {
      read_state_dict(p);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error(file("legacy.pth")).find("scripts/convert_checkpoint.py"), std::string::npos);
  EXPECT_NE(error(file("module.pth")).find("pickled Python object"), std::string::npos);
  const std::string bytes = test::read_file(file("plain.pth"));
  test::write_file(file("cut.pth"), bytes.substr(0, bytes.size() / 2));
  EXPECT_NE(error(file("cut.pth")).find("cut.pth"), std::string::npos);
  const std::string st = test::read_file(file("weights.safetensors"));
  test::write_file(file("cut.safetensors"), st.substr(0, st.size() - 10));
  EXPECT_NE(error(file("cut.safetensors")).find("truncated"), std::string::npos);
  test::write_file(file("text.pth"), "hello");
  EXPECT_NE(error(file("text.pth")).find("not a PyTorch"), std::string::npos);
  EXPECT_NE(error(file("absent.pth")).find("not found"), std::string::npos);
}

TEST_F(Weights, LoadReportAndExportRoundTrip) {
  torch::nn::Sequential net(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 2, 2)),
                            torch::nn::BatchNorm2d(2));
  StateDict sd = {{"0.weight", at::ones({2, 3, 2, 2})},
                  {"0.bias", at::zeros({3})},
                  {"1.weight", at::full({2}, 2.0)},
                  {"extra", at::zeros({1})}};
  const LoadReport r = load_state_dict(*net, sd);
  EXPECT_EQ(r.matched, (std::vector<std::string>{"0.weight", "1.weight"}));
  EXPECT_EQ(r.unexpected, std::vector<std::string>{"extra"});
  ASSERT_EQ(r.mismatched.size(), 1u);
  EXPECT_NE(r.mismatched[0].find("0.bias"), std::string::npos);
  EXPECT_EQ(r.missing, (std::vector<std::string>{"1.bias", "1.running_mean", "1.running_var"}));
  export_state_dict(*net, file("export.pth"));
  const auto back = as_map(read_state_dict(file("export.pth")));
  for (const auto& p : net->named_parameters())
    EXPECT_TRUE(at::equal(back.at(p.key()), p.value())) << p.key();
  for (const auto& b : net->named_buffers())
    EXPECT_TRUE(at::equal(back.at(b.key()), b.value())) << b.key();
  // Python's torch.load reads it as a dict of tensors with the same values.
  const std::string cmd = "/usr/bin/python3 -c \"import torch; d = torch.load('" +
                          file("export.pth").string() +
                          "'); assert isinstance(d, dict) and d['0.weight'].sum().item() == 24 and "
                          "d['1.num_batches_tracked'].dtype == torch.int64\"";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

class Parity : public Weights {
 public:  // make_shared() is called by test::make_shared_once
  void SetUp() override { test::make_shared_once<Parity>(); }
  static void make_shared() {
    Weights::make_shared();
    const std::string cmd = "/usr/bin/python3 " +
                            (test::source_dir() / "tests/weights/make_fixtures.py").string() + " " +
                            dir_->path().string() + " parity 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "python3-torchvision is needed";
    manager_ = new PluginManager();
    manager_->load({{test::plugin_dir(), "test"}});
  }
  static void TearDownTestSuite() {
    delete manager_;
    Weights::TearDownTestSuite();
  }
  static PluginManager* manager_;
};
PluginManager* Parity::manager_ = nullptr;

void expect_same_outputs(const std::string& arch, const std::filesystem::path& dir,
                         const Registry& registry) {
  const RunConfig config =
      RunConfig::parse("[runtime]\nthreads = 0\n[model]\nhead = \"linear\"\nbackbone = \"" + arch +
                           "\"\npretrained = \"" + (dir / (arch + ".pth")).string() + "\"\n",
                       "parity.toml", {}, registry);
  std::vector<std::string> names(1000, "c");
  auto model = build_model(config, registry, names);
  model->eval();
  auto io = as_map(read_state_dict(dir / (arch + "_io.pth")));
  torch::NoGradGuard no_grad;
  for (const char* size : {"224x224", "160x224"}) {
    const at::Tensor y = model->forward(io[std::string("x_") + size]);
    const double diff = (y - io[std::string("y_") + size]).abs().max().item<double>();
    EXPECT_LT(diff, 1e-4) << arch << " at " << size;
  }
}

TEST_F(Parity, Resnet101MatchesTorchvision) {
  expect_same_outputs("resnet101", dir_->path(), manager_->registry());
}
TEST_F(Parity, Resnext50MatchesTorchvision) {
  expect_same_outputs("resnext50_32x4d", dir_->path(), manager_->registry());
}

}  // namespace
}  // namespace cpsd

namespace cpsd {
namespace {

TEST(PredictParity, TorchvisionClassifierGivesPyTorchsScores) {
  test::TempDir tmp;
  const std::string cmd = "/usr/bin/python3 " +
                          (test::source_dir() / "tests/weights/make_fixtures.py").string() + " " +
                          tmp.path().string() + " predict 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  // No [data]: the input the backbone's weights expect (224, ImageNet's mean and std).
  test::write_file(tmp / "r18.toml",
                   "[model]\nbackbone = \"resnet18\"\nhead = \"linear\"\nnum_classes = 1000\n");
  const auto r = test::run_cpsd({"predict", "--config", (tmp / "r18.toml").string(), "--pretrained",
                                 (tmp / "resnet18.pth").string(), "--out", (tmp / "p.csv").string(),
                                 (tmp / "image.png").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("backbone 120 matched, 0 missing"), std::string::npos)
      << r.err;  // the load report
  std::stringstream csv(test::read_file(tmp / "p.csv"));
  std::string header, row;
  std::getline(csv, header);
  std::getline(csv, row);
  std::stringstream cells(row);
  std::string cell;
  std::getline(cells, cell, ',');  // the image path
  std::stringstream expected(test::read_file(tmp / "scores.txt"));
  for (int c = 0; c < 20; ++c) {
    double theirs = 0;
    expected >> theirs;
    std::getline(cells, cell, ',');
    EXPECT_NEAR(std::stod(cell), theirs, 1e-5) << "class " << c;
  }
}

}  // namespace
}  // namespace cpsd
