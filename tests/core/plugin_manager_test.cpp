// SPDX-License-Identifier: Apache-2.0
// Loading real plugin files: the in-tree ones and fixtures that are broken on purpose.
#include "cpsd/core/plugin_manager.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include <torch/torch.h>

#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd {
namespace {

namespace fs = std::filesystem;

std::vector<SearchEntry> only(std::initializer_list<fs::path> paths) {
  std::vector<SearchEntry> out;
  for (const auto& p : paths) out.push_back({p, "test"});
  return out;
}

const PluginReport& report_for(const PluginManager& m, const std::string& file_part) {
  for (const PluginReport& r : m.reports()) {
    if (r.file.find(file_part) != std::string::npos) return r;
  }
  throw std::runtime_error("no report for " + file_part);
}

TEST(PluginManager, LoadsInTreePlugins) {
  PluginManager m;
  m.load(only({test::plugin_dir()}));
  EXPECT_TRUE(m.registry().contains(Kind::head, "linear"));
  EXPECT_TRUE(m.registry().contains(Kind::loss, "asl"));
  EXPECT_TRUE(m.registry().contains(Kind::loss, "bce"));
  const PluginReport& r = report_for(m, "cpsd_plugin_losses.so");
  EXPECT_TRUE(r.loaded);
  EXPECT_EQ(r.plugin_name, "losses");
  EXPECT_EQ(r.abi_major, 2u);
  EXPECT_NE(r.fingerprint.find("torch 1.13"), std::string::npos);
  const FactoryInfo& info = m.registry().info(Kind::loss, "asl");
  EXPECT_EQ(info.plugin_name, "losses");
  EXPECT_NE(info.defaults_toml.find("gamma_neg"), std::string::npos);
}

TEST(PluginManager, SameFileTwiceIsReadOnce) {
  PluginManager m;
  m.load(only({test::plugin_dir(), test::plugin_dir() / "cpsd_plugin_losses.so"}));
  std::size_t n = 0;
  for (const auto& r : m.reports()) n += r.file.find("cpsd_plugin_losses.so") != std::string::npos;
  EXPECT_EQ(n, 1u);
}

TEST(PluginManager, SkipsPluginOfAnotherAbiMajor) {
  PluginManager m;
  m.load(only({test::fixture_dir("wrong_abi")}));
  const PluginReport& r = report_for(m, "wrong_abi");
  EXPECT_FALSE(r.loaded);
  EXPECT_NE(r.reason.find("built for plugin ABI 1"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("reads ABI 2"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("rebuild"), std::string::npos) << r.reason;
}

TEST(PluginManager, SkipsDescriptorOfAnotherAbi) {
  PluginManager m;
  m.load(only({test::fixture_dir("bad_descriptor")}));
  const PluginReport& r = report_for(m, "bad_descriptor");
  EXPECT_FALSE(r.loaded);
  EXPECT_NE(r.reason.find("declares plugin ABI 99"), std::string::npos) << r.reason;
}

TEST(PluginManager, SkipsEntryThatRefuses) {
  PluginManager m;
  m.load(only({test::fixture_dir("null_entry")}));
  EXPECT_NE(report_for(m, "null_entry").reason.find("returned no descriptor"), std::string::npos);
}

TEST(PluginManager, NeverRunsCodeOfFilesWithoutEntry) {
  // The fixture aborts in a static initializer: reaching the assertions proves it was
  // never loaded.
  PluginManager m;
  m.load(only({test::fixture_dir("missing_entry")}));
  const PluginReport& r = report_for(m, "missing_entry");
  EXPECT_FALSE(r.loaded);
  EXPECT_NE(r.reason.find("not a cpsd plugin"), std::string::npos) << r.reason;
}

TEST(PluginManager, SkipsRandomSharedObjectsAndNonElfFiles) {
  test::TempDir tmp;
  fs::copy_file("/usr/lib/x86_64-linux-gnu/libz.so.1", tmp / "cpsd_plugin_random.so");
  test::write_file(tmp / "cpsd_plugin_text.so", "not a library\n");
  test::write_file(tmp / "README.txt", "ignored: not named like a plugin\n");
  PluginManager m;
  m.load(only({tmp.path()}));
  ASSERT_EQ(m.reports().size(), 2u);
  EXPECT_NE(report_for(m, "random").reason.find("not a cpsd plugin"), std::string::npos);
  EXPECT_NE(report_for(m, "text").reason.find("not a loadable ELF"), std::string::npos);
}

TEST(PluginManager, SkipsOtherLibTorchAndExplainsOnLookup) {
  PluginManager m;
  m.load(only({test::fixture_dir("torch_mismatch")}));
  const PluginReport& r = report_for(m, "torch_mismatch");
  EXPECT_FALSE(r.loaded);
  EXPECT_NE(r.reason.find("LibTorch 1.99"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("LibTorch 1.13"), std::string::npos) << r.reason;
  ASSERT_EQ(r.keys, std::vector<std::string>{"backbone/future_net"});
  EXPECT_FALSE(m.registry().contains(Kind::backbone, "future_net"));
  try {
    m.registry().info(Kind::backbone, "future_net");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("was not loaded: built against LibTorch 1.99"),
              std::string::npos)
        << e.what();
  }
}

TEST(PluginManager, DuplicateNameIsAnErrorNamingBothFiles) {
  PluginManager m;
  try {
    m.load(only({test::plugin_dir(), test::fixture_dir("duplicate_name")}));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("head/linear"), std::string::npos) << what;
    EXPECT_NE(what.find("cpsd_plugin_heads_basic.so"), std::string::npos) << what;
    EXPECT_NE(what.find("cpsd_plugin_duplicate_name.so"), std::string::npos) << what;
  }
}

TEST(PluginManager, AllowOverrideKeepsTheFirst) {
  PluginManager m;
  m.load(only({test::plugin_dir(), test::fixture_dir("duplicate_name")}), true);
  EXPECT_NE(m.registry().info(Kind::head, "linear").file.find("heads_basic"), std::string::npos);
}

TEST(PluginManager, ExceptionsInCreateComeBackTyped) {
  PluginManager m;
  m.load(only({test::fixture_dir("throws_in_create")}));
  try {
    m.registry().create_backbone("throws_runtime", BackboneArgs{});
    FAIL() << "expected RuntimeError";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("backbone/throws_runtime"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("out of coffee"), std::string::npos);
  }
  BackboneArgs bad{Options::parse("depth = 17", "backbone.throws_config")};
  try {
    m.registry().create_backbone("throws_config", bad);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("backbone.throws_config.depth: must be 18"),
              std::string::npos)
        << e.what();
  }
  // The host is still alive and the plugin still works.
  BackboneArgs good{Options::parse("depth = 18", "backbone.throws_config")};
  EXPECT_EQ(m.registry().create_backbone("throws_config", good)->num_features(), 1);
}

TEST(PluginManager, AliasesAndShutdownHook) {
  test::TempDir tmp;
  const fs::path marker = tmp / "shutdown-called";
  setenv("CPSD_TEST_SHUTDOWN_MARKER", marker.c_str(), 1);
  {
    PluginManager m;
    m.load(only({test::fixture_dir("aliased")}));
    EXPECT_TRUE(m.registry().contains(Kind::backbone, "old_net"));
    auto net = m.registry().create_backbone("old_net", BackboneArgs{});
    EXPECT_EQ(net->num_features(), 3);
    EXPECT_FALSE(fs::exists(marker));
  }
  EXPECT_TRUE(fs::exists(marker));
  unsetenv("CPSD_TEST_SHUTDOWN_MARKER");
}

TEST(PluginManager, ObjectsOutliveTheManager) {
  std::shared_ptr<Backbone> net;
  {
    PluginManager m;
    m.load(only({test::fixture_dir("hello")}));
    net = m.registry().create_backbone(
        "hello_cnn", BackboneArgs{Options::parse("width = 4", "backbone.hello_cnn")});
  }
  // The code stays mapped: the object still runs and is destroyed by its plugin.
  const auto maps = net->forward_features(torch::rand({2, 3, 16, 12}));
  ASSERT_EQ(maps.size(), 2u);
  EXPECT_EQ(maps[1].sizes(), (std::vector<int64_t>{2, 8, 4, 3}));
  net.reset();
}

TEST(PluginManager, SearchPathOrderAndErrors) {
  setenv("CPSD_PLUGIN_PATH", "/env/one::/env/two", 1);
  const auto path = PluginManager::search_path({test::plugin_dir().string()}, true);
  unsetenv("CPSD_PLUGIN_PATH");
  ASSERT_EQ(path.size(), 4u);
  EXPECT_EQ(path[0].origin, "--plugin-path");
  EXPECT_EQ(path[1].path, "/env/one");
  EXPECT_EQ(path[2].path, "/env/two");
  EXPECT_EQ(path[3].origin, "default");
  EXPECT_EQ(fs::weakly_canonical(path[3].path), fs::weakly_canonical(test::plugin_dir()));
  EXPECT_THROW(PluginManager::search_path({"/no/such/dir"}), ConfigError);
}

TEST(Registry, UnknownNameListsWhatExistsAndSuggests) {
  PluginManager m;
  m.load(only({test::plugin_dir()}));
  try {
    m.registry().info(Kind::loss, "asll");
    FAIL();
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("unknown loss 'asll'"), std::string::npos) << what;
    EXPECT_NE(what.find("available: asl, bce, distill, softmax_ce"), std::string::npos) << what;
    EXPECT_NE(what.find("did you mean 'asl'"), std::string::npos) << what;
  }
  EXPECT_EQ(m.registry().names(Kind::loss),
            (std::vector<std::string>{"asl", "bce", "distill", "softmax_ce"}));
}

}  // namespace
}  // namespace cpsd
