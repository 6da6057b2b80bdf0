// SPDX-License-Identifier: Apache-2.0
// The contract every implementation must keep, run over every kind/name found in the
// in-tree plugin directory (and the SDK example): new plugins are tested by existing.
#include <gtest/gtest.h>

#include <set>

#include <torch/torch.h>

#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd {
namespace {

PluginManager& manager() {
  static PluginManager* m = [] {
    auto* pm = new PluginManager();  // lives for the whole test program
    pm->load({{test::plugin_dir(), "test"}, {test::fixture_dir("hello"), "test"}});
    return pm;
  }();
  return *m;
}

struct Case {
  Kind kind;
  std::string name;
};
void PrintTo(const Case& c, std::ostream* os) { *os << kind_name(c.kind) << '/' << c.name; }

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (Kind k : kAllKinds) {
    for (const std::string& n : manager().registry().names(k)) out.push_back({k, n});
  }
  return out;
}

Options defaults_of(const FactoryInfo& info) {
  return plugin_options(manager().registry(), info.kind, info.name);
}

class Contract : public ::testing::TestWithParam<Case> {
 protected:
  const FactoryInfo& info() { return manager().registry().info(GetParam().kind, GetParam().name); }
};

TEST_P(Contract, HasSummaryAndParsableDefaults) {
  EXPECT_FALSE(info().summary.empty());
  EXPECT_EQ(info().summary.find('\n'), std::string::npos) << "summary must be one line";
  EXPECT_NO_THROW(defaults_of(info()));
}

void expect_all_parameters_get_gradients(torch::nn::Module& module) {
  for (const auto& p : module.named_parameters()) {
    if (!p.value().requires_grad()) continue;
    ASSERT_TRUE(p.value().grad().defined()) << "no gradient for " << p.key();
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
  }
}

TEST_P(Contract, BuildsFromDefaultsAndRuns) {
  torch::manual_seed(0);
  const Registry& reg = manager().registry();
  const std::string& name = GetParam().name;
  switch (GetParam().kind) {
    case Kind::backbone: {
      auto net = reg.create_backbone(name, BackboneArgs{defaults_of(info())});
      const auto infos = net->feature_info();
      ASSERT_FALSE(infos.empty());
      const int64_t h = 64, w = 48;
      const auto maps = net->forward_features(torch::rand({2, 3, h, w}));
      ASSERT_EQ(maps.size(), infos.size());
      for (std::size_t i = 0; i < maps.size(); ++i) {
        EXPECT_EQ(
            maps[i].sizes(),
            (std::vector<int64_t>{2, infos[i].channels, (h + infos[i].stride - 1) / infos[i].stride,
                                  (w + infos[i].stride - 1) / infos[i].stride}))
            << infos[i].module;
        EXPECT_TRUE(torch::isfinite(maps[i]).all().item<bool>());
      }
      EXPECT_EQ(net->num_features(), infos.back().channels);
      maps.back().sum().backward();
      expect_all_parameters_get_gradients(*net);
      break;
    }
    case Kind::head: {
      HeadArgs args;
      args.options = defaults_of(info());
      args.features = {{8, 16, "stage3"}, {16, 32, "stage4"}};
      args.num_classes = 7;
      for (int i = 0; i < 7; ++i) args.class_names.push_back("class_" + std::to_string(i));
      auto head = reg.create_head(name, args);
      EXPECT_EQ(head->num_classes(), 7);
      const auto logits = head->forward({torch::rand({2, 8, 4, 4}), torch::rand({2, 16, 2, 2})});
      EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 7}));
      logits.sum().backward();
      expect_all_parameters_get_gradients(*head);
      break;
    }
    case Kind::loss: {
      auto loss = reg.create_loss(name, LossArgs{defaults_of(info()), 5});
      LossInput in;
      in.logits = torch::randn({4, 5}, torch::requires_grad());
      in.targets = (torch::rand({4, 5}) > 0.5).to(torch::kFloat);
      in.teachers = {{"cgp", torch::randn({4, 5}), {}}, {"dgp", torch::randn({4, 5}), {}}};
      const LossOutput out = loss->forward(in);
      ASSERT_EQ(out.total.dim(), 0);
      EXPECT_TRUE(std::isfinite(out.total.item<double>()));
      ASSERT_FALSE(out.parts.empty());
      double sum = 0;
      for (const auto& [part, value] : out.parts) sum += value.item<double>();
      EXPECT_NEAR(sum, out.total.item<double>(), 1e-4 * (1 + std::abs(sum)));
      out.total.backward();
      ASSERT_TRUE(in.logits.grad().defined());
      EXPECT_GT(in.logits.grad().abs().sum().item<double>(), 0.0);
      break;
    }
    case Kind::decomposer: {
      auto d = reg.create_decomposer(name, DecomposerArgs{defaults_of(info())});
      LabelStatistics stats;
      const int m = 12;
      stats.num_images = 100;
      for (int i = 0; i < m; ++i) {
        stats.class_names.push_back("c" + std::to_string(i));
        stats.counts.push_back(10 + i);
      }
      stats.cooccurrence.assign(m * m, 0.0);
      for (int i = 0; i < m; ++i) {
        for (int j = 0; j < m; ++j) {
          if (i != j) stats.cooccurrence[i * m + j] = (i / 4 == j / 4) ? 5 : (i + j) % 2;
        }
      }
      // A decomposer may serve only some k (decomposer/full: 1), refusing the others.
      int64_t k = 3;
      Partition p;
      try {
        p = d->decompose(stats, k, 7);
      } catch (const ConfigError&) {
        k = 1;
        p = d->decompose(stats, k, 7);
      }
      ASSERT_EQ(p.groups.size(), static_cast<std::size_t>(k));
      std::multiset<int64_t> seen;
      for (const auto& g : p.groups) {
        EXPECT_FALSE(g.empty());
        EXPECT_TRUE(std::is_sorted(g.begin(), g.end()));
        seen.insert(g.begin(), g.end());
      }
      EXPECT_EQ(seen.size(), static_cast<std::size_t>(m));
      for (int i = 0; i < m; ++i) EXPECT_EQ(seen.count(i), 1u) << "class " << i;
      EXPECT_EQ(d->decompose(stats, k, 7).groups, p.groups) << "not deterministic";
      EXPECT_THROW(d->decompose(stats, 0, 7), ConfigError);
      EXPECT_THROW(d->decompose(stats, m + 1, 7), ConfigError);
      break;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllRegistered, Contract, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(kind_name(info.param.kind)) + "_" + info.param.name;
                         });

}  // namespace
}  // namespace cpsd
