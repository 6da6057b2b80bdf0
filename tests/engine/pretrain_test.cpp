// SPDX-License-Identifier: Apache-2.0
// `cpsd pretrain` end to end on a small fashion-items: it learns, it writes a backbone file
// that `[model] pretrained` loads, and the file is a cache keyed by the settings.
#include <gtest/gtest.h>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "cpsd/core/state_dict.h"
#include "test_support.h"

namespace cpsd {
namespace {

using test::run_cpsd;
namespace fs = std::filesystem;

class Pretrain : public test::SharedFixture<Pretrain> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    dir_ = new test::TempDir();
    const auto r =
        run_cpsd({"data", "make-fashion-items", "--out", (dir_->path() / "items").string(),
                  "--train-images", "640", "--val-items", "160", "--canvas", "32"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    test::write_file(dir_->path() / "pretrain.toml", R"([runtime]
threads = 1
[data]
format = "folder"
root = "items"
image_size = 32
workers = 2
[data.train]
annotations = "train"
[data.val]
annotations = "val"
[augment]
cutout = 0.0
randaugment = false
[model]
backbone = "resnet"
head = "linear"
[backbone.resnet]
width = 8
stem = "small"
[train]
loss = "softmax_ce"
epochs = 6
batch_size = 32
lr = 5e-3
ema = 0.0
[pretrain]
output = "weights/backbone.pt"
)");
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::vector<std::string> args(std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"pretrain", "--config", (dir_->path() / "pretrain.toml").string(),
                                  "--set", "run.output=" + (dir_->path() / "runs").string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  static fs::path weights() { return dir_->path() / "weights" / "backbone.pt"; }
  static test::TempDir* dir_;
};
test::TempDir* Pretrain::dir_ = nullptr;

TEST_F(Pretrain, LearnsWritesABackboneFileAndCachesIt) {
  auto r = run_cpsd(args());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("written, validation top-1"), std::string::npos) << r.out;
  const auto info = nlohmann::json::parse(test::read_file(weights().string() + ".json"));
  EXPECT_GT(info["top1"].get<double>(), 35.0) << "10 classes: chance is 10%";  // 48% here
  EXPECT_EQ(info["classes"].size(), 10u);

  // The file holds the backbone of the best checkpoint, named as a cpsd model's.
  const StateDict file = read_state_dict(weights());
  const StateDict best = read_state_dict(dir_->path() / "runs" / "run" / "pretrain" / "best.ckpt");
  ASSERT_FALSE(file.empty());
  std::size_t compared = 0;
  for (const auto& [name, tensor] : file) {
    EXPECT_EQ(name.rfind("backbone.", 0), 0u) << name;
    for (const auto& [other, value] : best) {
      if (other == name) {
        EXPECT_TRUE(torch::equal(tensor, value)) << name;
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, file.size());

  // Again: up to date, nothing trained. Other settings: trained again.
  r = run_cpsd(args());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("up to date"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("epoch 1/"), std::string::npos) << r.err;
  r = run_cpsd(args({"--set", "train.epochs=1", "--fresh"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("made with other settings"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("written"), std::string::npos) << r.out;
}

TEST_F(Pretrain, AMultiLabelModelStartsFromIt) {
  if (!fs::exists(weights())) {
    ASSERT_EQ(run_cpsd(args()).exit_code, 0);
  }
  test::make_tiny_run_base(dir_->path(), 32, 16, 1);
  test::write_file(dir_->path() / "scenes.toml", R"(base = "tiny_base.toml"
[model]
pretrained = "weights/backbone.pt"
[backbone.resnet]
width = 8
[train]
epochs = 1
batch_size = 16
)");
  const auto r = run_cpsd({"train", "--config", (dir_->path() / "scenes.toml").string(), "--set",
                           "run.output=" + (dir_->path() / "runs-scenes").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Every backbone weight comes from the file; the 30-class classifier stays as initialised.
  EXPECT_NE(r.err.find(" 0 missing, 0 unexpected, 0 with another shape; head kept as initialised"),
            std::string::npos)
      << r.err;
}

TEST_F(Pretrain, Errors) {
  auto r = run_cpsd(args({"--set", "pretrain.output=\"\""}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.last_error_line().find("pretrain.output"), std::string::npos) << r.err;
  r = run_cpsd(args({"--set", "data.root=\"nowhere\""}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.last_error_line().find("not a directory"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cpsd
