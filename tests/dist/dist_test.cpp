// SPDX-License-Identifier: Apache-2.0
// Two ranks on loopback over Gloo: same weights as one process on the union of their
// batches, a clean failure when a rank dies, and resume after a crash.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "cpsd/core/distributed.h"
#include "cpsd/core/engine/checkpoint.h"
#include "cpsd/core/state_dict.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd {
namespace {

using test::run_cpsd;

class TwoRanks : public test::SharedFixture<TwoRanks> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    dir_ = new test::TempDir();
    test::make_tiny_run_base(dir_->path(), 64, 16, 4);
    // BatchNorm frozen (per-rank batch statistics would differ from one process's), mean
    // loss (data parallelism averages gradients), no augmentation randomness needed.
    test::write_file(dir_->path() / "ddp.toml", R"(base = "tiny_base.toml"
[runtime]
dist_timeout = 30
[data]
workers = 1
[backbone.resnet]
frozen_bn = true
[train]
loss = "bce"
epochs = 3
batch_size = 8
lr = 1e-3
ema = 0.0
)");
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::vector<std::string> train(const std::string& name,
                                        std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"train",
                                  "--config",
                                  (dir_->path() / "ddp.toml").string(),
                                  "--set",
                                  "run.output=" + (dir_->path() / "runs").string(),
                                  "--set",
                                  "run.name=" + name};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  static std::vector<std::string> launch(std::vector<std::string> command) {
    std::vector<std::string> a = {"launch", "--nproc", "2", "--"};
    a.insert(a.end(), command.begin(), command.end());
    return a;
  }
  static std::filesystem::path last(const std::string& name) {
    return dir_->path() / "runs" / name / "baseline" / "last.ckpt";
  }
  static test::TempDir* dir_;
};
test::TempDir* TwoRanks::dir_ = nullptr;

void expect_same_weights(const std::filesystem::path& a, const std::filesystem::path& b,
                         double tolerance) {
  const StateDict x = read_state_dict(a), y = read_state_dict(b);
  ASSERT_EQ(x.size(), y.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(x[i].first, y[i].first);
    EXPECT_LE((x[i].second.to(torch::kDouble) - y[i].second.to(torch::kDouble))
                  .abs()
                  .max()
                  .item<double>(),
              tolerance)
        << x[i].first;
  }
}

TEST_F(TwoRanks, EqualOneProcessOnTheUnionOfTheirBatches) {
  auto r = run_cpsd(launch(train("two")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("rank 0/2 joined"), std::string::npos) << r.err;
  r = run_cpsd(train("one", {"--set", "train.batch_size=16"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(engine::read_checkpoint_meta(last("two")).step, 3 * 4);  // 64 images / (2 x 8)
  expect_same_weights(last("one"), last("two"), 1e-5);
}

TEST_F(TwoRanks, ADeadRankStopsTheOthersWithAClearError) {
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_cpsd(launch(train("dead")), {{"CPSD_FAULT_INJECT_EXIT", "1:5"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("rank 1 exited with 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("another process stopped or stopped answering"), std::string::npos) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));  // no hang
}

TEST_F(TwoRanks, ResumeAfterACrash) {
  ASSERT_EQ(run_cpsd(launch(train("straight"))).exit_code, 0);
  // Rank 0 dies in epoch 2 (steps 4..7); both stop; the epoch-1 checkpoint remains.
  const auto crashed = run_cpsd(launch(train("crashed")), {{"CPSD_FAULT_INJECT_EXIT", "0:6"}});
  ASSERT_NE(crashed.exit_code, 0);
  EXPECT_EQ(engine::read_checkpoint_meta(last("crashed")).epoch, 1);
  const auto resumed = run_cpsd(launch(train("crashed")));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming after epoch 1"), std::string::npos) << resumed.err;
  expect_same_weights(last("straight"), last("crashed"), 1e-6);
  // And on another number of processes: one process continues the 2-rank run.
  const auto single =
      run_cpsd(train("crashed", {"--set", "train.epochs=4", "--set", "train.batch_size=16"}));
  ASSERT_EQ(single.exit_code, 0) << single.err;
  EXPECT_EQ(engine::read_checkpoint_meta(last("crashed")).epoch, 4);
}

TEST_F(TwoRanks, ResumeInsideAnEpochAfterACrashIsExact) {
  ASSERT_EQ(run_cpsd(launch(train("straight_mid"))).exit_code, 0);
  // Rank 1 dies before step 7 (epoch 2 has steps 4..7); rank 0 checkpointed after step 6.
  const std::vector<std::string> every_step = {"--set", "train.checkpoint_steps=1"};
  const auto crashed =
      run_cpsd(launch(train("mid", every_step)), {{"CPSD_FAULT_INJECT_EXIT", "1:6"}});
  ASSERT_NE(crashed.exit_code, 0);
  const engine::CheckpointMeta meta = engine::read_checkpoint_meta(last("mid"));
  EXPECT_EQ(meta.epoch, 1);
  EXPECT_EQ(meta.position.batch, 2);
  EXPECT_EQ(meta.position.world_size, 2);
  const auto resumed = run_cpsd(launch(train("mid", every_step)));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming in epoch 2 at step 3/4"), std::string::npos) << resumed.err;
  expect_same_weights(last("straight_mid"), last("mid"), 0.0);  // bit for bit
  // Another number of processes goes on after the same share of the epoch, and says so.
  ASSERT_NE(
      run_cpsd(launch(train("other", every_step)), {{"CPSD_FAULT_INJECT_EXIT", "0:6"}}).exit_code,
      0);
  const auto single = run_cpsd(train("other", {"--set", "train.batch_size=16"}));
  ASSERT_EQ(single.exit_code, 0) << single.err;
  EXPECT_NE(single.err.find("written by 2 processes and this run has 1"), std::string::npos)
      << single.err;
  EXPECT_EQ(engine::read_checkpoint_meta(last("other")).step, 3 * 4);
}

TEST(DistEnv, ReadsLauncherVariables) {
  setenv("RANK", "1", 1);
  setenv("WORLD_SIZE", "4", 1);
  setenv("LOCAL_RANK", "1", 1);
  setenv("MASTER_ADDR", "10.0.0.5", 1);
  setenv("MASTER_PORT", "29511", 1);
  DistEnv e = detect_dist_env();
  EXPECT_EQ(e.rank, 1);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.master_addr, "10.0.0.5");
  EXPECT_EQ(e.port, 29511);
  setenv("RANK", "4", 1);
  EXPECT_THROW(detect_dist_env(), ConfigError);
  for (const char* v : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_PORT"}) unsetenv(v);
  setenv("SLURM_NTASKS", "2", 1);
  setenv("SLURM_PROCID", "1", 1);
  e = detect_dist_env();
  EXPECT_EQ(e.world_size, 2);
  EXPECT_EQ(e.source, "Slurm");
  unsetenv("MASTER_ADDR");
  EXPECT_THROW(detect_dist_env(), ConfigError);  // Slurm needs MASTER_ADDR
  unsetenv("SLURM_NTASKS");
  unsetenv("SLURM_PROCID");
  EXPECT_EQ(detect_dist_env().world_size, 1);
}

}  // namespace
}  // namespace cpsd
