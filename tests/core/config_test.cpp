// SPDX-License-Identifier: Apache-2.0
// Run configs: defaults, plugin tables, bases, overrides, and the errors users get.
#include "cpsd/core/run_config.h"

#include <gtest/gtest.h>

#include "cpsd/core/plugin_manager.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd {
namespace {

namespace fs = std::filesystem;

class RunConfigTest : public test::SharedFixture<RunConfigTest> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    manager_ = new PluginManager();
    manager_->load({{test::plugin_dir(), "test"}, {test::fixture_dir("hello"), "test"}});
  }
  static void TearDownTestSuite() { delete manager_; }
  const Registry& registry() const { return manager_->registry(); }

  RunConfig parse(const std::string& text, const std::vector<std::string>& overrides = {}) {
    return RunConfig::parse(text, "run.toml", overrides, registry());
  }
  // The ConfigError message of parsing `text`, or "" if it parsed.
  std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
    try {
      parse(text, overrides);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }

  static PluginManager* manager_;
};
PluginManager* RunConfigTest::manager_ = nullptr;

TEST_F(RunConfigTest, EmptyConfigGetsHostDefaults) {
  const RunConfig c = parse("");
  EXPECT_EQ(c.section("runtime").get_int("threads"), 0);
  EXPECT_EQ(c.section("runtime").get_string("log_level"), "info");
  EXPECT_EQ(c.selected(Kind::backbone), "");
  // The host chooses no plugin: configs name theirs (configs/_base_ holds the usual ones).
  EXPECT_EQ(c.selected(Kind::head), "");
  EXPECT_EQ(c.selected(Kind::loss), "");
  // Selected implementations get their plugin defaults.
  const RunConfig s = parse("[model]\nhead = \"linear\"\n[train]\nloss = \"asl\"\n");
  EXPECT_DOUBLE_EQ(s.plugin_options(Kind::loss, "asl").get_double("gamma_neg"), 4.0);
  EXPECT_EQ(s.plugin_options(Kind::head, "linear").scope(), "head.linear");
}

TEST_F(RunConfigTest, PluginTableOverridesDefaults) {
  const RunConfig c = parse(R"(
[model]
backbone = "hello_cnn"
[backbone.hello_cnn]
width = 4
[loss.asl]
gamma_neg = 2     # an integer where a float is expected is fine
)");
  EXPECT_EQ(c.selected(Kind::backbone), "hello_cnn");
  EXPECT_EQ(c.plugin_options(Kind::backbone, "hello_cnn").get_int("width"), 4);
  EXPECT_DOUBLE_EQ(c.plugin_options(Kind::loss, "asl").get_double("gamma_neg"), 2.0);
  EXPECT_DOUBLE_EQ(c.plugin_options(Kind::loss, "asl").get_double("clip"), 0.05);
  EXPECT_EQ(c.plugin_options(Kind::backbone, "hello_cnn").where("width"), "run.toml:5:9");
}

TEST_F(RunConfigTest, OverridesFromTheCommandLine) {
  const RunConfig c = parse("[model]\nbackbone = \"hello_cnn\"\n",
                            {"runtime.threads=3", "backbone.hello_cnn.width=16",
                             "model.head=linear", "loss.asl.reduction=\"mean\""});
  EXPECT_EQ(c.section("runtime").get_int("threads"), 3);
  EXPECT_EQ(c.plugin_options(Kind::backbone, "hello_cnn").get_int("width"), 16);
  EXPECT_EQ(c.plugin_options(Kind::backbone, "hello_cnn").where("width"),
            "--set backbone.hello_cnn.width=16");
  EXPECT_EQ(c.plugin_options(Kind::loss, "asl").get_string("reduction"), "mean");
}

TEST_F(RunConfigTest, UnknownOptionNamesFileLineColumnAndSuggests) {
  const std::string e =
      error_of("[model]\nbackbone = \"hello_cnn\"\n[backbone.hello_cnn]\nwidht = 4\n");
  EXPECT_NE(e.find("run.toml:4:9"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown option 'backbone.hello_cnn.widht'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'width'"), std::string::npos) << e;
}

TEST_F(RunConfigTest, WrongTypeIsAnError) {
  const std::string e = error_of("[runtime]\nthreads = \"two\"\n");
  EXPECT_NE(e.find("run.toml:2:11: runtime.threads: expected integer, found string"),
            std::string::npos)
      << e;
  const std::string list = error_of("[runtime]\nseed = [1]\n");
  EXPECT_NE(list.find("expected integer, found array"), std::string::npos) << list;
  const std::string from_set = error_of("", {"runtime.threads=1.5"});
  EXPECT_NE(
      from_set.find("--set runtime.threads=1.5: runtime.threads: expected integer, found float"),
      std::string::npos)
      << from_set;
}

TEST_F(RunConfigTest, UnknownSectionAndUnknownImplementation) {
  std::string e = error_of("[modle]\nbackbone = \"x\"\n");
  EXPECT_NE(e.find("unknown section 'modle'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'model'"), std::string::npos) << e;

  e = error_of("[model]\nbackbone = \"helo_cnn\"\n");
  EXPECT_NE(e.find("run.toml:2:12: model.backbone: unknown backbone 'helo_cnn'"), std::string::npos)
      << e;
  EXPECT_NE(e.find("did you mean 'hello_cnn'"), std::string::npos) << e;

  e = error_of("[head.linaer]\ndropout = 0.1\n");
  EXPECT_NE(e.find("[head.linaer]: unknown head 'linaer'"), std::string::npos) << e;

  e = error_of("", {"model.head=nothing_like_it"});
  EXPECT_NE(e.find("--set model.head=nothing_like_it: model.head: unknown head"), std::string::npos)
      << e;
}

TEST_F(RunConfigTest, SyntaxErrorsCarryLineAndColumn) {
  const std::string e = error_of("[runtime]\nthreads = = 2\n");
  EXPECT_NE(e.find("run.toml:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("invalid TOML"), std::string::npos) << e;
}

TEST_F(RunConfigTest, MalformedOverrides) {
  EXPECT_NE(error_of("", {"runtime.threads"}).find("expected KEY=VALUE"), std::string::npos);
  EXPECT_NE(error_of("", {"=3"}).find("expected KEY=VALUE"), std::string::npos);
  EXPECT_NE(error_of("", {"runtime..threads=3"}).find("empty part"), std::string::npos);
  EXPECT_NE(
      error_of("", {"runtime.threads.x=3"}).find("runtime.threads: expected integer, found table"),
      std::string::npos);
  EXPECT_NE(error_of("[runtime]\nthreads = 2\n", {"runtime.threads.x=3"})
                .find("'runtime.threads' is not a table (it is integer)"),
            std::string::npos);
}

TEST_F(RunConfigTest, BasesMergeInOrderAndTheFileWins) {
  test::TempDir tmp;
  test::write_file(tmp / "_base_" / "runtime.toml", "[runtime]\nthreads = 1\nseed = 7\n");
  test::write_file(tmp / "_base_" / "model.toml",
                   "base = \"runtime.toml\"\n[model]\nbackbone = \"hello_cnn\"\n"
                   "[backbone.hello_cnn]\nwidth = 2\n[runtime]\nthreads = 2\n");
  test::write_file(tmp / "run.toml",
                   "base = [\"_base_/model.toml\"]\n[backbone.hello_cnn]\nwidth = 6\n");
  const RunConfig c = RunConfig::load(tmp / "run.toml", {}, registry());
  EXPECT_EQ(c.section("runtime").get_int("seed"), 7);     // from the deepest base
  EXPECT_EQ(c.section("runtime").get_int("threads"), 2);  // a base overrides its base
  EXPECT_EQ(c.plugin_options(Kind::backbone, "hello_cnn").get_int("width"), 6);  // file wins
  EXPECT_EQ(c.selected(Kind::backbone), "hello_cnn");
  // Messages point into the base file a value came from.
  EXPECT_NE(c.section("runtime").where("seed").find("runtime.toml:3:8"), std::string::npos);
}

TEST_F(RunConfigTest, PathsAreRelativeToTheFileThatWroteThem) {
  test::TempDir tmp;
  test::write_file(tmp / "configs" / "_base_" / "data.toml",
                   "[partition]\nstatistics = \"../../stats/s.json\"\n");
  test::write_file(tmp / "configs" / "run.toml", "base = \"_base_/data.toml\"\n");
  const RunConfig c = RunConfig::load(tmp / "configs" / "run.toml", {}, registry());
  EXPECT_EQ(fs::weakly_canonical(path_option(c.section("partition"), "statistics")),
            fs::weakly_canonical(tmp / "stats" / "s.json"));
  const RunConfig over =
      RunConfig::load(tmp / "configs" / "run.toml", {"partition.statistics=x.json"}, registry());
  EXPECT_EQ(path_option(over.section("partition"), "statistics"), fs::path("x.json"));
  EXPECT_EQ(path_option(parse("").section("partition"), "statistics"), fs::path());
}

TEST_F(RunConfigTest, BaseErrors) {
  test::TempDir tmp;
  test::write_file(tmp / "a.toml", "base = \"b.toml\"\n");
  test::write_file(tmp / "b.toml", "base = \"a.toml\"\n");
  test::write_file(tmp / "missing.toml", "base = [\"nope.toml\"]\n");
  test::write_file(tmp / "bad.toml", "base = [3]\n");
  auto error = [&](const char* f) {
    try {
      RunConfig::load(tmp / f, {}, registry());
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("a.toml").find("cycle"), std::string::npos);
  const std::string missing = error("missing.toml");
  EXPECT_NE(missing.find("missing.toml:1:9: base 'nope.toml' not found"), std::string::npos)
      << missing;
  EXPECT_NE(error("bad.toml").find("expected a file name"), std::string::npos);
  EXPECT_NE(error("absent.toml").find("config file not found"), std::string::npos);
}

TEST_F(RunConfigTest, DeepBaseChainsAreRefused) {
  test::TempDir tmp;
  for (int i = 0; i < 6; ++i) {
    test::write_file(tmp / ("c" + std::to_string(i) + ".toml"),
                     "base = \"c" + std::to_string(i + 1) + ".toml\"\n");
  }
  test::write_file(tmp / "c6.toml", "");
  EXPECT_THROW(RunConfig::load(tmp / "c0.toml", {}, registry()), ConfigError);
}

TEST_F(RunConfigTest, ResolvedConfigRoundTrips) {
  const RunConfig c = parse("[model]\nbackbone = \"hello_cnn\"\n[runtime]\nseed = 5\n",
                            {"backbone.hello_cnn.width=3"});
  const std::string once = c.to_toml();
  const RunConfig again = RunConfig::parse(once, "resolved.toml", {}, registry());
  EXPECT_EQ(again.plugin_options(Kind::backbone, "hello_cnn").get_int("width"), 3);
  EXPECT_EQ(again.section("runtime").get_int("seed"), 5);
  // Same content (the header line names the source).
  EXPECT_EQ(once.substr(once.find('\n')), again.to_toml().substr(again.to_toml().find('\n')));
}

TEST_F(RunConfigTest, PluginOptionsOfUnselectedPluginIsAnError) {
  const RunConfig c = parse("");
  EXPECT_THROW(c.plugin_options(Kind::backbone, "hello_cnn"), ConfigError);
}

TEST(Options, GettersCheckTypes) {
  const Options o = Options::parse(
      "a = 1\nb = 2.5\nc = \"x\"\nd = [1, 2]\ne = [1.5, 2]\n"
      "[t]\nf = true\n",
      "scope");
  EXPECT_EQ(o.get_int("a"), 1);
  EXPECT_DOUBLE_EQ(o.get_double("a"), 1.0);
  EXPECT_DOUBLE_EQ(o.get_double("b"), 2.5);
  EXPECT_EQ(o.get_string("c"), "x");
  EXPECT_EQ(o.get_int_list("d"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(o.get_double_list("e"), (std::vector<double>{1.5, 2.0}));
  EXPECT_TRUE(o.get_bool("t.f"));
  EXPECT_TRUE(o.get_table("t").get_bool("f"));
  EXPECT_EQ(o.get_table("t").scope(), "scope.t");
  EXPECT_EQ(o.keys(), (std::vector<std::string>{"a", "b", "c", "d", "e", "t"}));
  EXPECT_THROW(o.get_int("b"), ConfigError);
  EXPECT_THROW(o.get_string("a"), ConfigError);
  EXPECT_THROW(o.get_int("missing"), ConfigError);
  EXPECT_THROW(o.get_int_list("e"), ConfigError);
  try {
    o.fail("a", "too small");
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "scope:1:5: scope.a: too small");
  }
  EXPECT_THROW(Options::parse("a = ", "x"), ConfigError);
}

}  // namespace
}  // namespace cpsd
