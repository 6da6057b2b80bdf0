// SPDX-License-Identifier: Apache-2.0
// The training engine end to end through the `cpsd` command on a tiny fashion-scenes:
// checkpoints, resume after a kill, NaN handling, the pipeline, eval and predict.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "archive_tensors.h"
#include "cpsd/core/engine/checkpoint.h"
#include "test_support.h"

namespace cpsd {
namespace {

using Json = nlohmann::json;
using test::run_cpsd;

class Training : public test::SharedFixture<Training> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    dir_ = new test::TempDir();
    test::make_tiny_run_base(dir_->path(), 96, 32, 2);
    test::write_file(dir_->path() / "tiny.toml", R"(base = "tiny_base.toml"
[train]
epochs = 3
batch_size = 16
lr = 1e-3
ema = 0.9
log_seconds = 0.5
[partition]
k = 2
[distill]
mode = "cached"
[run]
methods = ["baseline", "cpsd"]
)");
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string config() { return (dir_->path() / "tiny.toml").string(); }
  static std::string out(const std::string& name) {
    return "run.output=" + (dir_->path() / name).string();
  }
  static std::filesystem::path run(const std::string& name) { return dir_->path() / name / "run"; }
  static test::TempDir* dir_;
};
test::TempDir* Training::dir_ = nullptr;

// The model weights of a checkpoint; never empty for a real one.
std::vector<torch::Tensor> weights_of(const std::filesystem::path& checkpoint) {
  torch::serialize::InputArchive archive;
  archive.load_from(checkpoint.string());
  torch::serialize::InputArchive model;
  archive.read("model", model);
  test::NamedTensors named;
  test::collect_archive_tensors(model, "", named);
  EXPECT_FALSE(named.empty()) << checkpoint;
  std::vector<torch::Tensor> out;
  for (const auto& [name, tensor] : named) out.push_back(tensor);
  return out;
}

TEST_F(Training, TrainWritesCheckpointsAndMetrics) {
  const auto r = run_cpsd({"train", "--config", config(), "--set", out("plain")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("baseline: best mAP"), std::string::npos) << r.out;
  const auto dir = run("plain") / "baseline";
  const engine::CheckpointMeta last = engine::read_checkpoint_meta(dir / "last.ckpt");
  EXPECT_EQ(last.epoch, 3);
  EXPECT_EQ(last.step, 3 * 6);  // 96 images / 16
  EXPECT_EQ(last.class_names.size(), 30u);
  EXPECT_GT(last.best.map, 0);
  EXPECT_TRUE(std::filesystem::exists(dir / "best.ckpt"));
  const std::string csv = test::read_file(dir / "metrics.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4) << csv;  // header + 3 epochs
  EXPECT_NE(r.err.find("img/s"), std::string::npos);              // progress lines with rate
}

// Trains run `name` straight, then again killed during epoch 2 (after epoch 1's checkpoint)
// and resumed; the two must end with the same weights, bit for bit.
void expect_resume_equals_straight(const std::string& name, const std::vector<std::string>& sets) {
  // Bigger images and more epochs than the other tests, so that a kill lands mid-run.
  std::vector<std::string> slow = {"--set", "data.image_size=64",   "--set", "train.epochs=4",
                                   "--set", "train.log_seconds=100"};
  slow.insert(slow.end(), sets.begin(), sets.end());
  auto args = [&](const std::string& run_name) {
    std::vector<std::string> a = {"train", "--config", Training::config(), "--set",
                                  Training::out(run_name)};
    a.insert(a.end(), slow.begin(), slow.end());
    return a;
  };
  ASSERT_EQ(run_cpsd(args(name + "_straight")).exit_code, 0);
  const std::string last = (Training::run(name + "_killed") / "baseline" / "last.ckpt").string();
  const std::string cpsd = test::cpsd_binary().string();
  std::vector<std::string> argv = args(name + "_killed");
  argv.insert(argv.begin(), cpsd);
  std::vector<char*> c_argv;
  for (std::string& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  const pid_t child = fork();
  if (child == 0) {
    freopen("/dev/null", "w", stderr);
    execv(cpsd.c_str(), c_argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!std::filesystem::exists(last) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(child, SIGKILL);  // somewhere in epoch 2
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed";
  EXPECT_LT(engine::read_checkpoint_meta(last).epoch, 4);
  const auto r = run_cpsd(args(name + "_killed"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resuming after epoch"), std::string::npos) << r.err;
  const auto a = weights_of(Training::run(name + "_straight") / "baseline" / "last.ckpt");
  const auto b = weights_of(last);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::equal(a[i], b[i])) << "tensor " << i;
}

TEST_F(Training, ResumeAfterAKillGivesTheSameWeights) { expect_resume_equals_straight("nchw", {}); }

// The same in channels-last: a resumed NHWC run must compute as the uninterrupted one did.
// (Width 16: narrower strided 1x1 convolutions are refused in channels-last on the CPU.)
TEST_F(Training, ResumeAfterAKillGivesTheSameWeightsInChannelsLast) {
  expect_resume_equals_straight(
      "nhwc", {"--set", "runtime.channels_last=true", "--set", "backbone.resnet.width=16"});
}

// Validation from epoch 2 every 2 epochs, and after the last: epochs 1 and 3 have no mAP,
// the others the mAP a run validating every epoch has there (validation does not change
// training), and the best checkpoint is the best validated epoch's.
TEST_F(Training, ValidationFromAnEpochEveryFewEpochs) {
  auto train = [&](const std::string& name, const std::vector<std::string>& sets) {
    std::vector<std::string> a = {"train",   "--config", config(),        "--set",
                                  out(name), "--set",    "train.epochs=5"};
    a.insert(a.end(), sets.begin(), sets.end());
    const auto r = run_cpsd(a);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  };
  train("every_epoch", {});
  train("sparse", {"--set", "train.val_begin=2", "--set", "train.val_interval=2"});
  const auto dir = run("sparse") / "baseline";
  const Json every = Json::parse(test::read_file(run("every_epoch") / "baseline" / "metrics.json"));
  const Json sparse = Json::parse(test::read_file(dir / "metrics.json"));
  ASSERT_EQ(every.size(), 5u);
  ASSERT_EQ(sparse.size(), 5u);
  engine::Best expected;
  for (int64_t e = 1; e <= 5; ++e) {
    const Json& row = sparse[e - 1];
    EXPECT_EQ(row["epoch"], e);
    EXPECT_EQ(row["train_loss"], every[e - 1]["train_loss"]) << "epoch " << e;
    const bool validated = e == 2 || e == 4 || e == 5;
    ASSERT_EQ(row.contains("map"), validated) << "epoch " << e;
    if (!validated) continue;
    EXPECT_EQ(row["map"], every[e - 1]["map"]) << "epoch " << e;
    EXPECT_EQ(row["map_ema"], every[e - 1]["map_ema"]) << "epoch " << e;
    const double model = row["map"], ema = row["map_ema"];
    if (std::max(model, ema) > expected.map)
      expected = {std::max(model, ema), e, ema > model ? "ema" : "model"};
  }
  const engine::CheckpointMeta best = engine::read_checkpoint_meta(dir / "best.ckpt");
  EXPECT_EQ(best.best.epoch, expected.epoch);
  EXPECT_EQ(best.best.source, expected.source);
  EXPECT_DOUBLE_EQ(best.best.map, expected.map);
  // metrics.csv: epoch,train_loss,map,map_ema,lr,seconds; epoch 1 has empty mAP fields.
  std::istringstream csv(test::read_file(dir / "metrics.csv"));
  std::string header, epoch1;
  std::getline(csv, header);
  std::getline(csv, epoch1);
  std::vector<std::string> fields;
  std::istringstream cells(epoch1);
  for (std::string f; std::getline(cells, f, ',');) fields.push_back(f);
  ASSERT_EQ(fields.size(), 6u) << epoch1;
  EXPECT_EQ(fields[0], "1");
  EXPECT_TRUE(fields[2].empty() && fields[3].empty()) << epoch1;
  const auto a = weights_of(run("every_epoch") / "baseline" / "last.ckpt");
  const auto b = weights_of(dir / "last.ckpt");
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::equal(a[i], b[i])) << "tensor " << i;
}

TEST_F(Training, NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint) {
  // 6 steps per epoch: NaN on the 8th call, in epoch 2.
  const auto r = run_cpsd({"train", "--config", config(), "--set", out("nan"), "--set",
                           "train.loss=nan_after", "--set", "loss.nan_after.steps=8",
                           "--plugin-path", test::fixture_dir("nan_loss").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.last_error_line().find("the loss is nan at epoch 2, step 8"), std::string::npos)
      << r.err;
  EXPECT_EQ(engine::read_checkpoint_meta(run("nan") / "baseline" / "last.ckpt").epoch, 1);
}

TEST_F(Training, PipelineEvalAndPredict) {
  auto r = run_cpsd({"run", config(), "--set", out("pipeline"), "--set", "train.epochs=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| baseline |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| cpsd |"), std::string::npos) << r.out;
  const auto dir = run("pipeline");
  for (const char* f :
       {"config.toml", "statistics.json", "partitions/cgp.k2.json", "partitions/dgp.k2.png",
        "teachers/manifest.json", "teachers/cgp_1/best.ckpt", "teachers/dgp_0/best.ckpt",
        "cpsd/best.ckpt", "results.md", "results.json"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;
  }
  // Running again resumes everything: no training, same table.
  const auto again =
      run_cpsd({"run", config(), "--set", out("pipeline"), "--set", "train.epochs=1"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err.find("epoch 1/1"), std::string::npos) << "a finished stage trained again";
  EXPECT_EQ(again.out.substr(0, again.out.find("| stage")), r.out.substr(0, r.out.find("| stage")));
  // Another method in the same run adds its teacher; the manifest keeps the others.
  const auto sd = run_cpsd({"run", config(), "--set", out("pipeline"), "--set", "train.epochs=1",
                            "--set", "run.methods=[\"sd\"]"});
  ASSERT_EQ(sd.exit_code, 0) << sd.err;
  const std::string manifest = test::read_file(dir / "teachers" / "manifest.json");
  for (const char* teacher : {"cgp_1/best.ckpt", "dgp_0/best.ckpt", "full_0/best.ckpt"}) {
    EXPECT_NE(manifest.find(teacher), std::string::npos) << teacher << " missing from " << manifest;
  }

  const std::string ckpt = (dir / "cpsd" / "best.ckpt").string();
  r = run_cpsd({"eval", "--checkpoint", ckpt});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("mAP "), std::string::npos);
  EXPECT_NE(r.out.find("top-3"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(ckpt + ".ap.csv"));
  r = run_cpsd({"predict", "--checkpoint", ckpt, "--out", (dir_->path() / "p.csv").string(),
                (dir_->path() / "fs" / "val").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string csv = test::read_file(dir_->path() / "p.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 33);  // header + 32 images
  EXPECT_EQ(csv.rfind("image,red_tshirt,", 0), 0u);
  r = run_cpsd({"predict", "--checkpoint", ckpt, "--out", (dir_->path() / "p.json").string(),
                "--threshold", "0.3", (dir_->path() / "fs" / "val" / "000001.jpg").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(test::read_file(dir_->path() / "p.json").find("\"labels\""), std::string::npos);
}

// The baseline and every student start from the same weights and see the same batches: a
// student taught nothing (distillation weight 0, classification weight 1) is the baseline.
TEST_F(Training, AStudentTaughtNothingIsTheBaseline) {
  const auto r =
      run_cpsd({"run", config(), "--set", out("untaught"), "--set", "train.epochs=1", "--set",
                "run.methods=[\"baseline\", \"sd\"]", "--set", "distill.mode=\"online\"", "--set",
                "loss.distill.weight=0.0", "--set", "distill.cls_weight=1.0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto baseline = weights_of(run("untaught") / "baseline" / "last.ckpt");
  const auto student = weights_of(run("untaught") / "sd" / "last.ckpt");
  ASSERT_EQ(baseline.size(), student.size());
  ASSERT_FALSE(baseline.empty());
  for (std::size_t i = 0; i < baseline.size(); ++i)
    EXPECT_TRUE(torch::equal(baseline[i], student[i])) << "tensor " << i;
}

TEST_F(Training, UserErrors) {
  auto r = run_cpsd({"train", "--config", config(), "--part", "CGP:7"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.last_error_line().find("index must be 0..1"), std::string::npos) << r.err;
  r = run_cpsd({"eval", "--checkpoint", (dir_->path() / "tiny.toml").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.last_error_line().find("not a readable checkpoint"), std::string::npos) << r.err;
  r = run_cpsd({"run", config(), "--set", "run.methods=[\"cpds\"]"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.last_error_line().find("unknown method 'cpds'"), std::string::npos) << r.err;
  r = run_cpsd({"train", "--config", config(), "--set", "runtime.device=cuda"});
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.last_error_line().find("runtime.device: 'cuda' asks for CUDA"), std::string::npos)
        << r.err;
  }
  r = run_cpsd({"train", "--config", config(), "--set", "runtime.amp=bf16"});
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.last_error_line().find("runtime.amp: mixed precision needs a CUDA device"),
              std::string::npos)
        << r.err;
  }
  r = run_cpsd({"train", "--config", config(), "--set", "train.lr=-1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.last_error_line().find("train.lr: must be > 0"), std::string::npos) << r.err;
  r = run_cpsd({"train", "--config", config(), "--set", "train.val_interval=0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.last_error_line().find("train.val_interval: must be >= 1"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace cpsd
