// SPDX-License-Identifier: Apache-2.0
// A whole run (baseline, lockstep teachers, a student with online train-mode teachers) killed
// with SIGKILL at many random moments and resumed each time ends with the weights, EMA and
// optimizer state of an uninterrupted run, bit for bit; every file on disk stays readable.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <random>
#include <set>
#include <thread>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "archive_tensors.h"
#include "cpsd/core/engine/checkpoint.h"
#include "test_support.h"

namespace cpsd {
namespace {

namespace fs = std::filesystem;
using test::run_cpsd;

class KillAnywhere : public test::SharedFixture<KillAnywhere> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    dir_ = new test::TempDir();
    test::make_tiny_run_base(dir_->path(), 96, 64, 2);
    test::write_file(dir_->path() / "kill.toml", R"(base = "tiny_base.toml"
[data]
image_size = 64
[train]
epochs = 4
batch_size = 16
lr = 1e-3
ema = 0.9
log_seconds = 100
[head.linear]
dropout = 0.3
[partition]
k = 2
[distill]
mode = "online"
teacher_mode = "train"
[run]
methods = ["baseline", "cpsd"]
)");
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::vector<std::string> args(const std::string& name, bool every_step) {
    std::vector<std::string> a = {"run", (dir_->path() / "kill.toml").string(), "--set",
                                  "run.output=" + (dir_->path() / name).string()};
    if (every_step) a.insert(a.end(), {"--set", "train.checkpoint_steps=1"});
    return a;
  }
  static fs::path run(const std::string& name) { return dir_->path() / name / "run"; }
  static test::TempDir* dir_;
};
test::TempDir* KillAnywhere::dir_ = nullptr;

// Starts `cpsd args...` with its output discarded; returns its pid.
pid_t start_cpsd(const std::vector<std::string>& args) {
  const pid_t child = fork();
  if (child == 0) {
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    const std::string binary = test::cpsd_binary().string();
    std::vector<char*> argv = {const_cast<char*>(binary.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return child;
}

// The optimizer's per-parameter state, named by group and position: LibTorch keys it by
// tensor addresses, which differ between processes.
void collect_optimizer(torch::serialize::InputArchive& optimizer, test::NamedTensors& out) {
  torch::serialize::InputArchive state, groups;
  optimizer.read("state", state);
  optimizer.read("param_groups", groups);
  torch::Tensor count;
  groups.read("param_groups/size", count);
  for (int64_t g = 0; g < count.item<int64_t>(); ++g) {
    torch::serialize::InputArchive group;
    groups.read("param_groups/" + std::to_string(g), group);
    torch::Tensor size;
    group.read("params/size", size);
    for (int64_t i = 0; i < size.item<int64_t>(); ++i) {
      c10::IValue key;
      group.read("params/" + std::to_string(i), key);
      torch::serialize::InputArchive param;
      if (!state.try_read(key.toStringRef(), param)) continue;  // no step taken for it
      const std::string name = "optimizer." + std::to_string(g) + "." + std::to_string(i) + ".";
      test::collect_archive_tensors(param, name, out);
      c10::IValue step;
      if (param.try_read("step", step) && step.isInt())
        out.emplace_back(name + "step", torch::tensor(step.toInt()));
    }
  }
}

// Model, EMA and optimizer state of a checkpoint; fails the test if it cannot be read.
test::NamedTensors training_state(const fs::path& checkpoint) {
  test::NamedTensors out;
  torch::serialize::InputArchive archive;
  archive.load_from(checkpoint.string());
  for (const char* part : {"model", "ema"}) {
    torch::serialize::InputArchive nested;
    if (archive.try_read(part, nested))
      test::collect_archive_tensors(nested, std::string(part) + ".", out);
  }
  torch::serialize::InputArchive optimizer;
  if (archive.try_read("optimizer", optimizer)) collect_optimizer(optimizer, out);
  return out;
}

// Each checkpoint, JSON and CSV file of the run directory reads whole.
void expect_all_files_readable(const fs::path& dir, int kill) {
  if (!fs::exists(dir)) return;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    const fs::path& p = entry.path();
    if (!entry.is_regular_file() || p.filename().string().front() == '.') continue;
    SCOPED_TRACE("after kill " + std::to_string(kill) + ": " + p.string());
    if (p.extension() == ".ckpt") {
      EXPECT_NO_THROW(engine::read_checkpoint_meta(p));
      EXPECT_NO_THROW(EXPECT_FALSE(training_state(p).empty()));
    } else if (p.extension() == ".json") {
      EXPECT_FALSE(nlohmann::json::parse(test::read_file(p), nullptr, false).is_discarded());
    }
  }
}

// Where the kills left the jobs: their last checkpoints' positions, e.g. "cgp_0 2.3" (epoch
// 3 after 3 of its batches) or "baseline 4.0" (after epoch 4).
void record_positions(const fs::path& run, std::set<std::string>& positions) {
  if (!fs::exists(run)) return;
  for (const auto& entry : fs::recursive_directory_iterator(run)) {
    if (entry.path().filename() != "last.ckpt") continue;
    const engine::CheckpointMeta meta = engine::read_checkpoint_meta(entry.path());
    positions.insert(meta.job + " " + std::to_string(meta.epoch) + "." +
                     std::to_string(meta.position.batch));
  }
}

// The jobs of a run: every directory that holds a last.ckpt.
std::vector<fs::path> job_dirs(const fs::path& run) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::recursive_directory_iterator(run)) {
    if (entry.path().filename() == "last.ckpt") out.push_back(fs::relative(entry.path(), run));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void expect_same_state(const fs::path& a, const fs::path& b) {
  const auto x = training_state(a), y = training_state(b);
  ASSERT_EQ(x.size(), y.size()) << a << " vs " << b;
  for (std::size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(x[i].first, y[i].first);
    EXPECT_TRUE(torch::equal(x[i].second, y[i].second)) << b << ": " << x[i].first;
  }
}

// The metrics rows of a job without their wall times.
nlohmann::json metrics_without_seconds(const fs::path& metrics) {
  nlohmann::json rows = nlohmann::json::parse(test::read_file(metrics));
  for (auto& row : rows) row.erase("seconds");
  return rows;
}

TEST_F(KillAnywhere, TwentyRandomKillsEndAsTheUninterruptedRun) {
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
  };
  auto start = Clock::now();
  const auto straight = run_cpsd(args("straight", false));
  ASSERT_EQ(straight.exit_code, 0) << straight.err;
  const double whole = seconds_since(start);
  // Start-up time: a finished run started again only evaluates.
  start = Clock::now();
  ASSERT_EQ(run_cpsd(args("straight", false)).exit_code, 0);
  const double startup = seconds_since(start);

  // Kills from half the start-up to a tenth of the training past it, scaled by this
  // machine's (or sanitizer's) speed: in start-up, steps, validation and checkpoint writes.
  std::mt19937 random(20221201);  // fixed: a failure repeats
  std::uniform_real_distribution<double> after(0.5 * startup, startup + 0.1 * whole);
  int kills = 0;
  std::set<std::string> positions;
  for (; kills < 20; ++kills) {
    const pid_t child = start_cpsd(args("killed", true));
    std::this_thread::sleep_for(std::chrono::duration<double>(after(random)));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFSIGNALED(status)) break;  // finished before the kill
    expect_all_files_readable(run("killed"), kills + 1);
    record_positions(run("killed"), positions);
  }
  ASSERT_EQ(kills, 20) << "the run finished after " << kills << " kills: make it longer";
  const auto inside = std::count_if(positions.begin(), positions.end(), [](const std::string& p) {
    return p.substr(p.size() - 2) != ".0";
  });
  std::cout << positions.size() << " positions left by the kills, " << inside
            << " inside an epoch\n";
  EXPECT_GT(inside, 0) << "no kill landed inside an epoch";
  const auto resumed = run_cpsd(args("killed", true));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming"), std::string::npos) << resumed.err;

  const std::vector<fs::path> jobs = job_dirs(run("straight"));
  ASSERT_EQ(jobs.size(), 6u);  // baseline, 2 + 2 teachers, the student
  ASSERT_EQ(job_dirs(run("killed")), jobs);
  for (const fs::path& job : jobs) {
    SCOPED_TRACE(job.string());
    expect_same_state(run("straight") / job, run("killed") / job);
    const fs::path dir = job.parent_path();
    expect_same_state(run("straight") / dir / "best.ckpt", run("killed") / dir / "best.ckpt");
    EXPECT_EQ(metrics_without_seconds(run("straight") / dir / "metrics.json"),
              metrics_without_seconds(run("killed") / dir / "metrics.json"));
  }
}

}  // namespace
}  // namespace cpsd
