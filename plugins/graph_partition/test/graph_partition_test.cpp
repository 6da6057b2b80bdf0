// SPDX-License-Identifier: Apache-2.0
// decomposer/cgp, dgp and random on statistics with planted structure, loaded from the
// built plugin file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "cpsd/core/label_statistics_io.h"
#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd {
namespace {

using Groups = std::vector<std::vector<int64_t>>;

const Registry& registry() { return test::in_tree_plugins().registry(); }

Partition run(const std::string& name, const LabelStatistics& s, int64_t k, uint64_t seed = 0,
              const std::string& options = "") {
  auto d = registry().create_decomposer(
      name, DecomposerArgs{plugin_options(registry(), Kind::decomposer, name, options)});
  return d->decompose(s, k, seed);
}

std::vector<std::string> names(int m) {
  std::vector<std::string> out;
  for (int i = 0; i < m; ++i) out.push_back("c" + std::to_string(i));
  return out;
}

// Images drawn from blocks of `block` consecutive classes; each image holds 1-3 classes of
// one block, so classes of different blocks never co-occur.
LabelStatistics planted_blocks(int blocks, int block, int images_per_block) {
  std::vector<std::vector<int64_t>> images;
  for (int b = 0; b < blocks; ++b) {
    for (int i = 0; i < images_per_block; ++i) {
      std::vector<int64_t> labels;
      for (int c = 0; c < block; ++c) {
        if ((i + c) % 3 != 0 || c == i % block) labels.push_back(b * block + c);
      }
      images.push_back(labels);
    }
  }
  return count_label_statistics(names(blocks * block), images);
}

Groups block_groups(int blocks, int block) {
  Groups g(blocks);
  for (int b = 0; b < blocks; ++b) {
    for (int c = 0; c < block; ++c) g[b].push_back(b * block + c);
  }
  return g;
}

void expect_valid(const Partition& p, int64_t m, int64_t k) {
  ASSERT_EQ(static_cast<int64_t>(p.groups.size()), k);
  std::multiset<int64_t> seen;
  for (const auto& g : p.groups) {
    EXPECT_FALSE(g.empty());
    EXPECT_TRUE(std::is_sorted(g.begin(), g.end()));
    seen.insert(g.begin(), g.end());
  }
  for (int64_t c = 0; c < m; ++c) EXPECT_EQ(seen.count(c), 1u) << "class " << c;
  for (const auto& [name, value] : p.diagnostics) EXPECT_TRUE(std::isfinite(value)) << name;
  for (double a : p.affinity) ASSERT_TRUE(std::isfinite(a));
}

TEST(Cgp, RecoversPlantedCooccurrenceBlocks) {
  const LabelStatistics s = planted_blocks(4, 5, 30);
  for (double tau : {1.0, 2.0, 3.0}) {
    const Partition p = run("cgp", s, 4, 0, "tau = " + std::to_string(tau));
    expect_valid(p, 20, 4);
    EXPECT_EQ(p.groups, block_groups(4, 5)) << "tau " << tau;
  }
}

TEST(Cgp, RecoversBlocksDespiteCrossBlockNoise) {
  LabelStatistics s = planted_blocks(3, 4, 40);
  // A few images joining classes of different blocks.
  const int m = 12;
  for (auto [a, b] : {std::pair{0, 5}, std::pair{3, 9}, std::pair{6, 11}}) {
    s.cooccurrence[a * m + b] += 2;
    s.cooccurrence[b * m + a] += 2;
  }
  EXPECT_EQ(run("cgp", s, 3).groups, block_groups(3, 4));
}

// Pairs (0,1), (2,3), ... never co-occur; every other pair co-occurs equally often.
LabelStatistics exclusive_pairs(int pairs) {
  const int m = 2 * pairs;
  std::vector<std::vector<int64_t>> images;
  for (int a = 0; a < m; ++a) {
    for (int b = a + 1; b < m; ++b) {
      if (a / 2 == b / 2) continue;
      for (int r = 0; r < 5; ++r) images.push_back({a, b});
    }
  }
  return count_label_statistics(names(m), images);
}

TEST(Dgp, GroupsLabelsThatNeverMeet) {
  const LabelStatistics s = exclusive_pairs(4);
  const Partition p = run("dgp", s, 4);
  expect_valid(p, 8, 4);
  EXPECT_EQ(p.groups, (Groups{{0, 1}, {2, 3}, {4, 5}, {6, 7}}));
  // CGP does the opposite: no group holds both classes of an exclusive pair.
  for (const auto& g : run("cgp", s, 4).groups) {
    const std::set<int64_t> members(g.begin(), g.end());
    for (int64_t c = 0; c < 8; c += 2) {
      EXPECT_FALSE(members.count(c) && members.count(c + 1))
          << "cgp grouped " << c << ", " << c + 1;
    }
  }
}

TEST(Decomposers, KOfOneAndKOfM) {
  const LabelStatistics s = planted_blocks(3, 4, 20);
  for (const char* name : {"cgp", "dgp", "random"}) {
    const Partition one = run(name, s, 1);
    expect_valid(one, 12, 1);
    EXPECT_EQ(one.groups[0].size(), 12u) << name;
    const Partition all = run(name, s, 12);
    expect_valid(all, 12, 12);
    for (const auto& g : all.groups) EXPECT_EQ(g.size(), 1u) << name;
  }
}

TEST(Decomposers, InvalidKIsAConfigError) {
  const LabelStatistics s = planted_blocks(2, 3, 10);
  for (const char* name : {"cgp", "dgp", "random"}) {
    EXPECT_THROW(run(name, s, 0), ConfigError) << name;
    EXPECT_THROW(run(name, s, 7), ConfigError) << name;
    try {
      run(name, s, 7);
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("choose 1 <= k <= 6"), std::string::npos) << e.what();
    }
  }
}

TEST(Decomposers, ZeroCountAndIsolatedClassesGiveNoNaN) {
  // Class 6 never appears; class 7 appears only alone.
  std::vector<std::vector<int64_t>> images = {{0, 1}, {0, 1}, {1, 2}, {3, 4}, {4, 5},
                                              {3, 5}, {7},    {7},    {0, 2}, {3, 4}};
  const LabelStatistics s = count_label_statistics(names(8), images);
  ASSERT_EQ(s.counts[6], 0);
  for (const char* name : {"cgp", "dgp", "random"}) {
    for (int64_t k : {1, 2, 3, 4, 8}) {
      const Partition p = run(name, s, k);
      expect_valid(p, 8, k);
    }
  }
  // CGP clusters the six connected classes into k groups and deals the isolated ones, the
  // more frequent (7) first, to the smallest group (the first one on ties).
  EXPECT_EQ(run("cgp", s, 2).groups, (Groups{{0, 1, 2, 7}, {3, 4, 5, 6}}));
  EXPECT_EQ(run("cgp", s, 3).groups, (Groups{{0, 1, 6}, {2, 7}, {3, 4, 5}}));
  // With more groups than connected classes, isolated classes open the missing groups.
  EXPECT_EQ(run("cgp", s, 8).groups, (Groups{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}}));
}

TEST(Decomposers, DeterministicForASeed) {
  const LabelStatistics s = planted_blocks(5, 4, 12);
  for (const char* name : {"cgp", "dgp", "random"}) {
    EXPECT_EQ(run(name, s, 3, 42).groups, run(name, s, 3, 42).groups) << name;
  }
  std::set<Groups> seen;
  for (uint64_t seed = 0; seed < 5; ++seed) seen.insert(run("random", s, 4, seed).groups);
  EXPECT_GT(seen.size(), 1u) << "random partitions ignore the seed";
}

TEST(Random, NearEqualSizes) {
  const LabelStatistics s = planted_blocks(1, 23, 5);
  const Partition p = run("random", s, 5, 7);
  expect_valid(p, 23, 5);
  std::vector<std::size_t> sizes;
  for (const auto& g : p.groups) sizes.push_back(g.size());
  std::sort(sizes.begin(), sizes.end());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{4, 4, 5, 5, 5}));
}

TEST(Decomposers, ReturnTheirAffinity) {
  const LabelStatistics s = exclusive_pairs(2);
  const Partition cgp = run("cgp", s, 2, 0, "tau = 2.0");
  ASSERT_EQ(cgp.affinity.size(), 16u);
  // P+_01 = 0 (never together); P+_02 = (sqrt(e/n0) + sqrt(e/n2)) / 2 with e = 5, n = 10.
  EXPECT_DOUBLE_EQ(cgp.affinity[0 * 4 + 1], 0.0);
  EXPECT_NEAR(cgp.affinity[0 * 4 + 2], std::sqrt(0.5), 1e-12);
  const Partition dgp = run("dgp", s, 2, 0, "tau = 2.0");
  EXPECT_DOUBLE_EQ(dgp.affinity[0 * 4 + 1], 1.0);
  EXPECT_NEAR(dgp.affinity[0 * 4 + 2], 1 - std::sqrt(0.5), 1e-12);
  EXPECT_DOUBLE_EQ(dgp.affinity[0], 0.0);  // diagonal ignored
}

// ML-GCN's NUS-WIDE file counts pairs twice, so e_ij can exceed n_j: the paper's formula is
// computed on it as it is (the authors' S = e / n without a clamp), and both graphs partition.
TEST(Decomposers, PairsCountedTwiceKeepThePapersFormula) {
  LabelStatistics s;
  s.class_names = names(4);
  s.num_images = 20;
  s.counts = {10, 4, 8, 6};
  s.cooccurrence = {0, 8, 2, 0,  //
                    8, 0, 0, 1,  //
                    2, 0, 0, 9,  //
                    0, 1, 9, 0};
  EXPECT_NE(statistics_excess(s).find("2 pairs co-occur"), std::string::npos)
      << statistics_excess(s);
  EXPECT_NE(statistics_excess(s).find("'c0' and 'c1', 8 images together, 4 alone"),
            std::string::npos)
      << statistics_excess(s);
  const Partition cgp = run("cgp", s, 2, 0, "tau = 2.0");
  const Partition dgp = run("dgp", s, 2, 0, "tau = 2.0");
  expect_valid(cgp, 4, 2);
  expect_valid(dgp, 4, 2);
  const double p01 = (std::sqrt(8.0 / 10) + std::sqrt(8.0 / 4)) / 2;  // > 1
  const double p23 = (std::sqrt(9.0 / 8) + std::sqrt(9.0 / 6)) / 2;
  EXPECT_NEAR(cgp.affinity[0 * 4 + 1], p01, 1e-12);
  EXPECT_NEAR(cgp.affinity[2 * 4 + 3], p23, 1e-12);
  EXPECT_NEAR(dgp.affinity[0 * 4 + 1], 1 - p01, 1e-12);  // negative, as the authors'
  EXPECT_EQ(cgp.groups, (Groups{{0, 1}, {2, 3}}));
}

TEST(Decomposers, RejectBadOptions) {
  const LabelStatistics s = planted_blocks(2, 3, 10);
  EXPECT_THROW(run("cgp", s, 2, 0, "tau = 0.0"), ConfigError);
  EXPECT_THROW(run("dgp", s, 2, 0, "n_init = 0"), ConfigError);
  EXPECT_THROW(run("cgp", s, 2, 0, "tau = \"big\""), ConfigError);
}

}  // namespace
}  // namespace cpsd
