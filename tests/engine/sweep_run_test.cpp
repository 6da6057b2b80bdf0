// SPDX-License-Identifier: Apache-2.0
// `cpsd sweep` on a tiny fashion-scenes: a stage identical in two runs is trained once and
// gives the same models as a run alone, a stopped sweep continues, two processes on one
// sweep train each run once, a changed config is refused, the report and the grid listing.
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace cpsd {
namespace {

using Json = nlohmann::json;
using test::run_cpsd;
namespace fs = std::filesystem;

class SweepRuns : public test::SharedFixture<SweepRuns> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    dir_ = new test::TempDir();
    test::make_tiny_run_base(dir_->path(), 64, 32, 5);
    test::write_file(dir_->path() / "tiny.toml", R"(base = "tiny_base.toml"
[train]
epochs = 2
batch_size = 16
lr = 1e-3
ema = 0.0
[partition]
k = 2
)");
    // 2 methods x 2 seeds; each run also trains the baseline (2 per seed, 1 needed).
    test::write_file(dir_->path() / "s.toml", R"([sweep]
config = "tiny.toml"
seeds = [0, 1]
[[sweep.axis]]
key = "run.methods"
label = "methods"
values = [["baseline", "cgpd"], ["baseline", "dgpd"]]
)");
    first_ = new test::CommandResult(run_cpsd(sweep_args("s")));
    ASSERT_EQ(first_->exit_code, 0) << first_->err;
  }
  static void TearDownTestSuite() {
    delete first_;
    delete dir_;
  }
  static std::vector<std::string> sweep_args(const std::string& name,
                                             std::vector<std::string> more = {}) {
    std::vector<std::string> a = {"sweep",    (dir_->path() / "s.toml").string(),
                                  "--name",   name,
                                  "--output", dir_->path().string()};
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
  static fs::path root(const std::string& name) { return dir_->path() / name; }
  // {method: mAP} of one run of a sweep.
  static std::map<std::string, double> maps(const fs::path& run) {
    std::map<std::string, double> out;
    const Json results = Json::parse(test::read_file(run / "results.json"));
    for (const Json& r : results["results"])
      out[r["method"].get<std::string>()] = r["map"].get<double>();
    return out;
  }
  static fs::path run_dir(const std::string& sweep, const std::string& method, int seed) {
    return root(sweep) / "cells" / ("methods=baseline+" + method) / ("seed" + std::to_string(seed));
  }
  static int count(const std::string& text, const std::string& what) {
    int n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
      ++n;
    return n;
  }
  static test::TempDir* dir_;
  static test::CommandResult* first_;
};
test::TempDir* SweepRuns::dir_ = nullptr;
test::CommandResult* SweepRuns::first_ = nullptr;

TEST_F(SweepRuns, TwoMethodsTwoSeedsTrainTwoBaselines) {
  EXPECT_NE(first_->out.find("4 run(s) trained, 0 done before"), std::string::npos) << first_->out;
  int baselines = 0, teachers = 0;
  for (const auto& e : fs::directory_iterator(root("s") / "stages")) {
    if (!e.is_directory()) continue;
    const std::string name = e.path().filename().string();
    if (name.rfind("baseline-", 0) == 0) {
      ++baselines;
      EXPECT_TRUE(fs::exists(e.path() / "best.ckpt")) << name;
    }
    if (name.rfind("teachers-", 0) == 0) ++teachers;
  }
  EXPECT_EQ(baselines, 2);  // one per seed
  EXPECT_EQ(teachers, 4);   // cgp and dgp teachers differ, per seed
  // The baseline trained its 2 epochs twice in all, once per seed; the other runs load it.
  EXPECT_EQ(count(first_->err, "baseline epoch 2:"), 2) << first_->err;
  EXPECT_EQ(count(first_->err, "baseline: resuming after epoch 2"), 2) << first_->err;
  for (int seed : {0, 1}) {
    EXPECT_TRUE(fs::is_symlink(run_dir("s", "dgpd", seed) / "baseline"));
    EXPECT_EQ(maps(run_dir("s", "cgpd", seed)).at("baseline"),
              maps(run_dir("s", "dgpd", seed)).at("baseline"));
  }
}

// The dgpd runs reuse the baseline the cgpd runs trained; alone, the same config trains its
// own and must reach the very same models.
TEST_F(SweepRuns, ASharedBaselineGivesWhatARunAloneGives) {
  const auto r =
      run_cpsd({"run", (dir_->path() / "tiny.toml").string(), "--set", "runtime.seed=1", "--set",
                "run.methods=[\"baseline\", \"dgpd\"]", "--set",
                "run.output=\"" + dir_->path().string() + "\"", "--set", "run.name=\"alone\""});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(maps(dir_->path() / "alone"), maps(run_dir("s", "dgpd", 1)));
}

TEST_F(SweepRuns, SummaryTablesAndPicture) {
  const std::string md = test::read_file(root("s") / "results.md");
  EXPECT_NE(md.find("4 of 4 runs done"), std::string::npos) << md;
  EXPECT_NE(md.find("| methods | baseline | cgpd | dgpd |"), std::string::npos) << md;
  EXPECT_NE(md.find("## Merged teachers against the baseline per seed"), std::string::npos);
  EXPECT_TRUE(fs::exists(root("s") / "results.png"));
  const Json summary = Json::parse(test::read_file(root("s") / "results.json"));
  const Json& cell = summary["cells"][0];
  EXPECT_EQ(cell["name"], "methods=baseline+cgpd");
  const double b0 = maps(run_dir("s", "cgpd", 0)).at("baseline");
  const double b1 = maps(run_dir("s", "cgpd", 1)).at("baseline");
  EXPECT_NEAR(cell["methods"][0]["map"]["mean"].get<double>(), (b0 + b1) / 2, 1e-9);
  const double c0 = maps(run_dir("s", "cgpd", 0)).at("cgpd");
  const double c1 = maps(run_dir("s", "cgpd", 1)).at("cgpd");
  EXPECT_NEAR(cell["methods"][1]["vs_baseline"]["mean"].get<double>(), (c0 - b0 + c1 - b1) / 2,
              1e-9);
  const auto r = run_cpsd({"report", root("s").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = test::read_file(root("s") / "report" / "index.html");
  EXPECT_NE(html.find("<h2>mAP − baseline (paired)</h2>"), std::string::npos);
  EXPECT_NE(html.find("cells/methods=baseline+dgpd/seed1/results.md"), std::string::npos);
  const auto list = run_cpsd(sweep_args("s", {"--list"}));
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(count(list.out, "| done |"), 4) << list.out;
}

TEST_F(SweepRuns, AStoppedSweepContinuesWithTheSameResults) {
  const auto part = run_cpsd(sweep_args("part", {"--cell", "2"}));
  ASSERT_EQ(part.exit_code, 0) << part.err;
  EXPECT_NE(part.out.find("1 run(s) trained"), std::string::npos) << part.out;
  const auto rest = run_cpsd(sweep_args("part"));
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_NE(rest.out.find("3 run(s) trained, 1 done before"), std::string::npos) << rest.out;
  for (const char* m : {"cgpd", "dgpd"}) {
    for (int seed : {0, 1}) EXPECT_EQ(maps(run_dir("part", m, seed)), maps(run_dir("s", m, seed)));
  }
}

TEST_F(SweepRuns, TwoProcessesTrainEachRunOnce) {
  test::CommandResult a, b;
  std::thread other([&] { b = run_cpsd(sweep_args("both")); });
  a = run_cpsd(sweep_args("both"));
  other.join();
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const std::regex trained("([0-9]+) run\\(s\\) trained");
  std::smatch ma, mb;
  ASSERT_TRUE(std::regex_search(a.out, ma, trained)) << a.out;
  ASSERT_TRUE(std::regex_search(b.out, mb, trained)) << b.out;
  EXPECT_EQ(std::stoi(ma[1]) + std::stoi(mb[1]), 4) << a.out << b.out;
  EXPECT_EQ(count(a.err + b.err, "baseline epoch 2:"), 2) << a.err << b.err;
  for (const char* m : {"cgpd", "dgpd"}) {
    for (int seed : {0, 1}) EXPECT_EQ(maps(run_dir("both", m, seed)), maps(run_dir("s", m, seed)));
  }
}

TEST_F(SweepRuns, AChangedConfigIsRefused) {
  const auto r = run_cpsd(sweep_args("s", {"--set", "train.lr=2e-3"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.last_error_line().find("holds the results of another config"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace cpsd
