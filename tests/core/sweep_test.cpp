// SPDX-License-Identifier: Apache-2.0
// cpsd sweep's pieces without training: the sweep file, the grid, the overrides of a run,
// and the summary against numbers computed here from hand-written run results.
#include <gtest/gtest.h>

#include <cmath>

#include "cpsd/core/sweep/spec.h"
#include "cpsd/core/sweep/summary.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd {
namespace {

namespace fs = std::filesystem;

std::string error_of(const fs::path& file, const sweep::SpecOverrides& cli = {}) {
  try {
    sweep::load_spec(file, cli);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

class SweepSpec : public ::testing::Test {
 protected:
  void SetUp() override { test::write_file(dir_ / "run.toml", "# a run config\n"); }
  fs::path sweep(const std::string& body) {
    test::write_file(dir_ / "s.toml", "[sweep]\nconfig = \"run.toml\"\n" + body);
    return dir_ / "s.toml";
  }
  test::TempDir dir_;
};

TEST_F(SweepSpec, GridIsTheProductOfTheAxesThenTheSeeds) {
  const sweep::Spec spec = sweep::load_spec(
      sweep("seeds = [4, 7]\nmethods = [\"baseline\", \"cpsd\"]\nset = [\"train.epochs=2\"]\n"
            "[[sweep.axis]]\nkey = \"partition.k\"\nvalues = [2, 3]\n"
            "[[sweep.axis]]\nkey = \"loss.distill.metric\"\nlabel = \"metric\"\n"
            "values = [\"kl\", \"mse\"]\n"),
      {});
  EXPECT_EQ(spec.config, dir_ / "run.toml");
  EXPECT_EQ(spec.root, fs::absolute("runs/sweeps/s"));
  ASSERT_EQ(spec.axes.size(), 2u);
  EXPECT_TRUE(spec.axes[0].numeric);
  EXPECT_FALSE(spec.axes[1].numeric);
  const std::vector<sweep::Cell> cells = sweep::cells(spec);
  ASSERT_EQ(cells.size(), 8u);
  const std::vector<std::string> names = {"k=2,metric=kl", "k=2,metric=mse", "k=3,metric=kl",
                                          "k=3,metric=mse"};
  for (std::size_t i = 0; i < cells.size(); ++i) {
    EXPECT_EQ(cells[i].name, names[i / 2]);
    EXPECT_EQ(cells[i].seed, i % 2 == 0 ? 4 : 7);
  }
  EXPECT_EQ(cells[3].dir, spec.root / "cells" / "k=2,metric=mse" / "seed7");
  EXPECT_EQ(cells[3].overrides,
            (std::vector<std::string>{"partition.k=2", "loss.distill.metric='mse'"}));
  const std::vector<std::string> run = sweep::run_overrides(spec, cells[3]);
  const std::vector<std::string> expected = {
      "train.epochs=2",
      "run.methods=[\"baseline\", \"cpsd\"]",
      "partition.k=2",
      "loss.distill.metric='mse'",
      "runtime.seed=7",
      "run.output=\"" + (spec.root / "cells" / "k=2,metric=mse").generic_string() + "\"",
      "run.name=\"seed7\""};
  EXPECT_EQ(run, expected);
}

TEST_F(SweepSpec, ArraysAndTheCommandLine) {
  sweep::SpecOverrides cli;
  cli.config = dir_ / "run.toml";
  cli.axes = {"run.methods=[[\"baseline\", \"sd\"], [\"baseline\", \"cpsd\"]]"};
  cli.seeds = {1};
  cli.name = "mine";
  cli.output = (dir_ / "out").string();
  const sweep::Spec spec = sweep::load_spec("", cli);
  EXPECT_EQ(spec.root, dir_ / "out" / "mine");
  const auto cells = sweep::cells(spec);
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells[1].name, "methods=baseline+cpsd");
  EXPECT_EQ(cells[1].overrides.front(), "run.methods=[ 'baseline', 'cpsd' ]");
}

TEST_F(SweepSpec, NamedSettingsAreAnAxis) {
  const sweep::Spec spec = sweep::load_spec(
      sweep("seeds = [0]\n[[sweep.axis]]\nlabel = \"teachers\"\nvalues = [\n"
            "  {name = \"defaults\", set = []},\n"
            "  {name = \"early stop\", set = [\"teachers.epochs=12\", \"teachers.patience=2\"]},\n"
            "]\n"),
      {});
  const auto cells = sweep::cells(spec);
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_FALSE(spec.axes[0].numeric);
  EXPECT_EQ(cells[0].overrides, std::vector<std::string>{});
  EXPECT_EQ(cells[1].name, "teachers=early-stop");
  EXPECT_EQ(cells[1].values, std::vector<std::string>{"early stop"});
  EXPECT_EQ(cells[1].overrides,
            (std::vector<std::string>{"teachers.epochs=12", "teachers.patience=2"}));
  EXPECT_NE(error_of(sweep("[[sweep.axis]]\nvalues = [{name = \"a\", sett = []}]\n"))
                .find("unknown key 'sett' in a setting"),
            std::string::npos);
}

TEST_F(SweepSpec, MistakesNameTheKeyAndWhere) {
  EXPECT_NE(error_of(sweep("sed = [1]\n")).find("s.toml:3:1: unknown key sweep.sed"),
            std::string::npos)
      << error_of(sweep("sed = [1]\n"));
  EXPECT_NE(error_of(sweep("seeds = [1, 1]\n")).find("repeats a seed"), std::string::npos);
  EXPECT_NE(error_of(sweep("seeds = [\"a\"]\n")).find("s.toml:3:10: sweep.seeds must hold"),
            std::string::npos)
      << error_of(sweep("seeds = [\"a\"]\n"));
  EXPECT_NE(error_of(sweep("[[sweep.axis]]\nkey = \"runtime.seed\"\nvalues = [1]\n"))
                .find("set by the sweep itself"),
            std::string::npos);
  EXPECT_NE(error_of(sweep("[[sweep.axis]]\nkey = \"a.k\"\nvalues = [1]\n"
                           "[[sweep.axis]]\nkey = \"b.k\"\nvalues = [2]\n"))
                .find("two axes are labelled 'k'"),
            std::string::npos);
  test::write_file(dir_ / "none.toml", "[sweep]\nconfig = \"missing.toml\"\n");
  EXPECT_NE(error_of(dir_ / "none.toml").find("missing.toml not found"), std::string::npos);
  sweep::SpecOverrides cli;
  cli.config = dir_ / "run.toml";
  cli.axes = {"partition.k=2,3"};
  EXPECT_NE(error_of("", cli).find("--axis partition.k=2,3: the values"), std::string::npos)
      << error_of("", cli);
}

// One run's results.json as `cpsd run` writes it (the fields the summary reads).
void write_run(const fs::path& dir, double base, double cpsd, double cf1, double seconds) {
  const auto row = [](const std::string& m, bool b, double map, double cf1) {
    return "{\"method\": \"" + m + "\", \"baseline\": " + (b ? "true" : "false") +
           ", \"map\": " + std::to_string(map) + ", \"cf1\": " + std::to_string(cf1) +
           ", \"of1\": " + std::to_string(cf1 + 1) + "}";
  };
  test::write_file(dir / "results.json",
                   "{\"results\": [" + row("baseline", true, base, cf1) + ", " +
                       row("cpsd", false, cpsd, cf1 + 2) + "], \"stages\": [{\"stage\": " +
                       "\"baseline\", \"seconds\": " + std::to_string(seconds) +
                       "}], \"teacher_check\": {\"branches\": [{\"branch\": \"cgp\", " +
                       "\"merged_map\": " + std::to_string(base + 1) + ", \"baseline_map\": " +
                       std::to_string(base) + ", \"teachers\": 5, \"teachers_behind\": 2}]}}");
}

TEST_F(SweepSpec, SummaryEqualsTheNumbersByHand) {
  sweep::SpecOverrides cli;
  cli.output = (dir_ / "out").string();
  const sweep::Spec spec =
      sweep::load_spec(sweep("seeds = [0, 1, 2]\n[[sweep.axis]]\nkey = \"partition.k\"\n"
                             "values = [2, 5]\n"),
                       cli);
  const auto cells = sweep::cells(spec);
  // k = 2: all three seeds; k = 5: seeds 0 and 2 (seed 1 not finished).
  write_run(cells[0].dir, 70, 72, 50, 10);
  write_run(cells[1].dir, 72, 73, 52, 20);
  write_run(cells[2].dir, 71, 74.5, 54, 30);
  write_run(cells[3].dir, 70, 71, 40, 5);
  write_run(cells[5].dir, 74, 77, 44, 7);
  const sweep::Summary s = sweep::summarize(spec, cells);
  EXPECT_EQ(s.runs, 6);
  EXPECT_EQ(s.runs_done, 5);
  EXPECT_EQ(s.methods, (std::vector<std::string>{"baseline", "cpsd"}));
  ASSERT_EQ(s.cells.size(), 2u);
  const sweep::MethodSummary& base2 = s.cells[0].methods[0];
  const sweep::MethodSummary& cpsd2 = s.cells[0].methods[1];
  EXPECT_TRUE(base2.baseline);
  EXPECT_NEAR(base2.map.mean, 71.0, 1e-9);
  EXPECT_NEAR(base2.map.std, 1.0, 1e-9);  // sqrt(((70-71)^2 + 1^2 + 0) / 2)
  EXPECT_NEAR(cpsd2.map.mean, (72 + 73 + 74.5) / 3, 1e-9);
  // Paired differences 2, 1, 3.5: mean 13/6, std sqrt(sum (d - mean)^2 / 2).
  const double mean = 6.5 / 3;
  const double sd =
      std::sqrt((std::pow(2 - mean, 2) + std::pow(1 - mean, 2) + std::pow(3.5 - mean, 2)) / 2);
  EXPECT_NEAR(cpsd2.vs_baseline.mean, mean, 1e-9);
  EXPECT_NEAR(cpsd2.vs_baseline.std, sd, 1e-9);
  EXPECT_NEAR(cpsd2.cf1.mean, 54.0, 1e-9);  // 52, 54, 56
  EXPECT_NEAR(cpsd2.of1.std, 2.0, 1e-9);
  EXPECT_EQ(base2.vs_baseline.n, 0);
  const sweep::MethodSummary& cpsd5 = s.cells[1].methods[1];
  EXPECT_EQ(cpsd5.map.n, 2);
  EXPECT_NEAR(cpsd5.vs_baseline.mean, 2.0, 1e-9);  // 1 and 3
  EXPECT_NEAR(cpsd5.vs_baseline.std, std::sqrt(2.0), 1e-9);
  ASSERT_EQ(s.cells[1].stage_seconds.size(), 1u);
  EXPECT_NEAR(s.cells[1].stage_seconds[0].second.mean, 6.0, 1e-9);
  ASSERT_EQ(s.cells[1].seeds.size(), 2u);
  EXPECT_EQ(s.cells[1].seeds[1].seed, 2);
  const std::string md = sweep::summary_markdown(s);
  EXPECT_NE(md.find("| 2 | 71.00 ± 1.00 | 73.17 ± 1.26 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 5 | +2.00 ± 1.41 (n = 2) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 5 | 2 | 74.00 | 77.00 | cpsd |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 2 | 0 | 71.00 (+1.00; 3/5) |"), std::string::npos) << md;
  sweep::write_summary(s, spec.root);
  EXPECT_TRUE(fs::file_size(spec.root / "results.png") > 1000);
  EXPECT_NE(test::read_file(spec.root / "results.json").find("\"runs_done\": 5"),
            std::string::npos);
}

TEST(SweepStat, SampleStandardDeviation) {
  const sweep::Stat one = sweep::stat_of({3.0});
  EXPECT_EQ(one.n, 1);
  EXPECT_TRUE(std::isnan(one.std));
  const sweep::Stat s = sweep::stat_of({1.0, 2.0, 6.0});
  EXPECT_NEAR(s.mean, 3.0, 1e-12);
  EXPECT_NEAR(s.std, std::sqrt((4.0 + 1.0 + 9.0) / 2), 1e-12);
  EXPECT_EQ(sweep::stat_of({}).n, 0);
}

}  // namespace
}  // namespace cpsd
