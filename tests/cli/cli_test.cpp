// SPDX-License-Identifier: Apache-2.0
// The `cpsd` command as users run it: exit codes and the one-line errors.
#include <gtest/gtest.h>

#include "test_support.h"

namespace cpsd {
namespace {

using test::run_cpsd;

// A failed command ends with exactly one error line that says what and where.
void expect_error(const test::CommandResult& r, int code, const std::string& needle) {
  EXPECT_EQ(r.exit_code, code) << r.out << r.err;
  const std::string last = r.last_error_line();
  EXPECT_EQ(last.rfind("cpsd: error: ", 0), 0u) << r.err;
  EXPECT_NE(last.find(needle), std::string::npos) << "missing '" << needle << "' in: " << last;
}

TEST(Cli, UsageVersionAndUnknownCommand) {
  auto r = run_cpsd({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("usage: cpsd <command>"), std::string::npos);
  r = run_cpsd({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("plugins"), std::string::npos);
  r = run_cpsd({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("cpsd ", 0), 0u);
  expect_error(run_cpsd({"trian"}), 2, "unknown command 'trian'");
  expect_error(run_cpsd({"plugins", "--bogus"}), 2, "cpsd plugins --help");
}

TEST(Cli, PluginsListsInTreePlugins) {
  const auto r = run_cpsd({"plugins"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("head/linear"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("loss/asl"), std::string::npos);
  EXPECT_NE(r.out.find("cpsd_plugin_losses.so"), std::string::npos);
  EXPECT_NE(r.out.find("ABI 2.0"), std::string::npos);
  EXPECT_NE(r.out.find("[default]"), std::string::npos);
}

TEST(Cli, PluginsReportsSkippedFilesWithReasons) {
  const auto r = run_cpsd({"plugins", "--plugin-path", test::fixture_dir("wrong_abi").string(),
                           "--plugin-path", test::fixture_dir("torch_mismatch").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("skipped 2 files"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("built for plugin ABI 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("built against LibTorch 1.99"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("skipping plugin"), std::string::npos);  // and a warning on stderr
}

TEST(Cli, PluginPathFromEnvironment) {
  const auto r = run_cpsd({"plugins"}, {{"CPSD_PLUGIN_PATH", test::fixture_dir("hello").string()}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("backbone/hello_cnn"), std::string::npos);
  EXPECT_NE(r.out.find("[CPSD_PLUGIN_PATH]"), std::string::npos);
}

TEST(Cli, PluginErrors) {
  expect_error(run_cpsd({"plugins", "--plugin-path", test::fixture_dir("duplicate_name").string()}),
               2, "duplicate plugin name head/linear");
  expect_error(run_cpsd({"plugins", "--plugin-path", "/no/such/dir"}), 2, "/no/such/dir");
  expect_error(run_cpsd({"plugins", "show", "head/linaer"}), 2, "did you mean 'linear'");
  expect_error(run_cpsd({"plugins", "show", "linear"}), 2, "is not KIND/NAME");
  expect_error(run_cpsd({"plugins", "frobnicate"}), 2, "unknown action");
  expect_error(run_cpsd({"plugins", "--plugin-path", test::fixture_dir("torch_mismatch").string(),
                         "show", "backbone/future_net"}),
               2, "was not loaded: built against LibTorch 1.99");
}

TEST(Cli, PluginsShowPrintsDefaults) {
  const auto r = run_cpsd({"plugins", "show", "loss/asl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("gamma_neg = 4.0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[loss.asl]"), std::string::npos);
}

class CliConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_file(tmp_ / "good.toml",
                     "[model]\nbackbone = \"hello_cnn\"\nhead = \"linear\"\nnum_classes = 5\n"
                     "input_size = 32\n[train]\nloss = \"asl\"\n[backbone.hello_cnn]\nwidth = 4\n");
    test::write_file(tmp_ / "bad.toml",
                     "[model]\nbackbone = \"hello_cnn\"\nhead = \"linear\"\n[backbone.hello_cnn]\n"
                     "depth = 4\n");
  }
  std::vector<std::string> with_hello(std::vector<std::string> args) {
    args.push_back("--plugin-path");
    args.push_back(test::fixture_dir("hello").string());
    return args;
  }
  test::TempDir tmp_;
};

TEST_F(CliConfig, CheckAndShow) {
  auto r = run_cpsd(with_hello({"config", "check", (tmp_ / "good.toml").string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ok (backbone/hello_cnn, head/linear, loss/asl)"), std::string::npos)
      << r.out;
  r = run_cpsd(
      with_hello({"config", "show", (tmp_ / "good.toml").string(), "--set", "runtime.threads=3"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("threads = 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[backbone.hello_cnn]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gamma_neg = 4.0"), std::string::npos) << r.out;  // plugin defaults filled
  r = run_cpsd({"config", "show", "--defaults"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("[runtime]"), std::string::npos);
}

TEST_F(CliConfig, ConfigErrors) {
  expect_error(run_cpsd(with_hello({"config", "check", (tmp_ / "bad.toml").string()})), 2,
               "bad.toml:5:9: unknown option 'backbone.hello_cnn.depth'");
  expect_error(run_cpsd({"config", "check", (tmp_ / "absent.toml").string()}), 2,
               "config file not found");
  expect_error(run_cpsd(with_hello(
                   {"config", "check", (tmp_ / "good.toml").string(), "--set", "runtime.threads"})),
               2, "expected KEY=VALUE");
  expect_error(run_cpsd({"config", "check"}), 2, "missing the config FILE");
  expect_error(run_cpsd({"config", "validate", "x.toml"}), 2, "expected `check FILE`");
  // Without the plugin that provides the backbone, the name is unknown.
  expect_error(run_cpsd({"config", "check", (tmp_ / "good.toml").string()}), 2,
               "unknown backbone 'hello_cnn'");
}

TEST_F(CliConfig, ModelInfoBuildsAndRunsThePluginModel) {
  const auto r = run_cpsd(with_hello({"model", "info", "--config", (tmp_ / "good.toml").string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("backbone/hello_cnn + head/linear, 5 classes"), std::string::npos) << r.out;
  // hello_cnn(width 4): conv 3->4 (108) + bn (8) + conv 4->8 (288) + bn (16); linear 8->5 (45).
  EXPECT_NE(r.out.find("parameters: 465, trainable 465 (0.00 M)"), std::string::npos) << r.out;
  // BatchNorm statistics: running mean and var (2 x 12) and two num_batches_tracked.
  EXPECT_NE(r.out.find("backbone: trainable 420, frozen 0 (BatchNorm 0), buffers 26"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("head: trainable 45, frozen 0 (BatchNorm 0), buffers 0"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("forward [1, 3, 32, 32] -> [1, 5]"), std::string::npos) << r.out;
}

// Frozen BatchNorm counts apart from what trains (Q2L keeps it as buffers), and GloVe class
// tokens take their names from --classes.
TEST_F(CliConfig, ModelInfoCountsFrozenParametersAndReadsClassNames) {
  std::string glove;
  for (const char* word : {"cat", "dog", "sofa"}) {
    glove += word;
    for (int i = 0; i < 300; ++i) glove += " 0.01";
    glove += "\n";
  }
  test::write_file(tmp_ / "glove.txt", glove);
  test::write_file(tmp_ / "classes.txt", "cat\ndog\nsofa\n");
  test::write_file(
      tmp_ / "tf.toml",
      "[model]\nbackbone = \"resnet\"\nhead = \"transformer\"\ninput_size = 64\n"
      "[backbone.resnet]\nfrozen_bn = true\n[head.transformer]\nembeddings = \"glove\"\n"
      "glove = \"" +
          (tmp_ / "glove.txt").string() +
          "\"\ndim = 16\ndepth = 1\n"
          "heads = 2\ndim_head = 8\nmlp_dim = 16\n");
  const auto r = run_cpsd({"model", "info", "--config", (tmp_ / "tf.toml").string(), "--classes",
                           (tmp_ / "classes.txt").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(", 3 classes"), std::string::npos) << r.out;
  // resnet (width 32, one basic block per stage): 12 BatchNorms over 32 + 2 x 32 + 3 x 64 +
  // 3 x 128 + 3 x 256 = 1440 channels, a scale and a shift each frozen; statistics 2 x 1440
  // and 12 counters. The head's buffer is the three GloVe vectors.
  EXPECT_NE(r.out.find("frozen 2880 (BatchNorm 2880), buffers 2892"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("frozen 0 (BatchNorm 0), buffers 900"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("forward [1, 3, 64, 64] -> [1, 3]"), std::string::npos) << r.out;
}

TEST_F(CliConfig, ModelInfoErrorsFromInsidePlugins) {
  test::write_file(tmp_ / "w.toml",
                   "[model]\nbackbone = \"hello_cnn\"\nhead = \"linear\"\nnum_classes = 2\n"
                   "[backbone.hello_cnn]\nwidth = 0\n");
  expect_error(run_cpsd(with_hello({"model", "info", "--config", (tmp_ / "w.toml").string()})), 2,
               "w.toml:6:9: backbone.hello_cnn.width: must be in 1..1024");
  test::write_file(tmp_ / "t.toml",
                   "[model]\nbackbone = \"throws_runtime\"\nhead = \"linear\"\nnum_classes = 2\n");
  expect_error(run_cpsd({"model", "info", "--config", (tmp_ / "t.toml").string(), "--plugin-path",
                         test::fixture_dir("throws_in_create").string()}),
               1, "backbone/throws_runtime");
  test::write_file(tmp_ / "n.toml", "[model]\nbackbone = \"hello_cnn\"\nhead = \"linear\"\n");
  expect_error(run_cpsd(with_hello({"model", "info", "--config", (tmp_ / "n.toml").string()})), 2,
               "model.num_classes: must be >= 1");
}

}  // namespace
}  // namespace cpsd

namespace cpsd {
namespace {

class CliPartition : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two blocks that co-occur inside, never across.
    test::write_file(tmp_ / "stats.json", R"({
      "classes": ["cat", "dog", "sofa", "car", "road", "sign"],
      "num_images": 40,
      "counts": [10, 10, 10, 10, 10, 10],
      "cooccurrence": [[0, 6, 6, 0, 0, 0], [6, 0, 6, 0, 0, 0], [6, 6, 0, 0, 0, 0],
                       [0, 0, 0, 0, 6, 6], [0, 0, 0, 6, 0, 6], [0, 0, 0, 6, 6, 0]]})");
  }
  std::string path(const char* name) { return (tmp_ / name).string(); }
  test::TempDir tmp_;
};

// Width and height from a PNG's IHDR chunk.
std::pair<uint32_t, uint32_t> png_size(const std::string& bytes) {
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  auto be32 = [&](std::size_t at) {
    return (uint32_t(uint8_t(bytes[at])) << 24) | (uint32_t(uint8_t(bytes[at + 1])) << 16) |
           (uint32_t(uint8_t(bytes[at + 2])) << 8) | uint32_t(uint8_t(bytes[at + 3]));
  };
  return {be32(16), be32(20)};
}

TEST_F(CliPartition, WritesPartitionSummaryAndPicture) {
  const auto r = run_cpsd({"partition", "--decomposer", "cgp", "--stats", path("stats.json"), "--k",
                           "2", "--out", path("part.json"), "--set", "decomposer.cgp.tau=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("decomposer/cgp: k = 2, seed = 0, 6 classes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("100.0%  cat, dog, sofa"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("100.0%  car, road, sign"), std::string::npos) << r.out;
  const std::string json = test::read_file(tmp_ / "part.json");
  EXPECT_NE(json.find("\"tau\": 2"), std::string::npos) << json;
  EXPECT_NE(json.find("\"statistics_hash\": \"fnv1a64:"), std::string::npos);
  const auto [w, h] = png_size(test::read_file(tmp_ / "part.png"));
  EXPECT_EQ(w, 6u * 16u);  // 16 px cells for a small label set
  EXPECT_EQ(h, 6u * 16u);
}

TEST_F(CliPartition, ReferenceFormatAndOtherDecomposers) {
  auto r = run_cpsd({"partition", "--stats", path("stats.json"), "--decomposer", "dgp", "--k", "3",
                     "--out", path("dgp.json"), "--format", "reference", "--no-picture"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::read_file(tmp_ / "dgp.json").front(), '[');
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "dgp.png"));
  r = run_cpsd({"partition", "--stats", path("stats.json"), "--decomposer", "random", "--k", "3",
                "--seed", "9", "--out", path("random.json"), "--picture", path("pic.png")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(tmp_ / "pic.png"));
}

TEST_F(CliPartition, FromARunConfig) {
  test::write_file(tmp_ / "run.toml",
                   "[partition]\ndecomposer = \"cgp\"\nk = 2\nstatistics = \"stats.json\"\n"
                   "[decomposer.cgp]\ntau = 2.0\n");
  const auto r = run_cpsd(
      {"partition", "--decomposer", "cgp", "--config", path("run.toml"), "--out", path("p.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("decomposer/cgp: k = 2"), std::string::npos);
}

TEST_F(CliPartition, ErrorsAreOneLineAndWriteNothing) {
  expect_error(run_cpsd({"partition", "--decomposer", "cgp", "--stats", path("stats.json"), "--k",
                         "7", "--out", path("bad.json")}),
               2, "choose 1 <= k <= 6");
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "bad.json"));
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "bad.png"));
  expect_error(
      run_cpsd({"partition", "--decomposer", "cgp", "--stats", path("stats.json"), "--k", "2"}), 2,
      "missing --out");
  expect_error(run_cpsd({"partition", "--decomposer", "cgp", "--stats", path("nope.json"), "--out",
                         path("x.json")}),
               2, "nope.json: file not found");
  expect_error(run_cpsd({"partition", "--stats", path("stats.json"), "--decomposer", "cpg", "--out",
                         path("x.json")}),
               2, "did you mean 'cgp'");
  expect_error(run_cpsd({"partition", "--decomposer", "cgp", "--stats", path("stats.json"),
                         "--format", "csv", "--out", path("x.json")}),
               2, "unknown partition format 'csv'");
  expect_error(run_cpsd({"partition", "--decomposer", "cgp", "--stats", path("stats.json"), "--set",
                         "decomposer.cgp.tau=-1", "--out", path("x.json")}),
               2, "decomposer.cgp.tau: must be > 0");
  test::write_file(tmp_ / "nostats.toml", "[partition]\nk = 2\n");
  expect_error(run_cpsd({"partition", "--decomposer", "cgp", "--config", path("nostats.toml"),
                         "--out", path("x.json")}),
               2, "data.train.annotations: not set");
}

}  // namespace
}  // namespace cpsd

namespace cpsd {
namespace {

class CliData : public test::SharedFixture<CliData> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    dir_ = new test::TempDir();
    const auto r = run_cpsd({"data", "make-fashion-scenes", "--out", (dir_->path() / "fs").string(),
                             "--train-images", "80", "--val-images", "20", "--seed", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    test::write_file(
        dir_->path() / "run.toml",
        "[data]\nroot = \"fs\"\n[data.train]\nannotations = \"annotations/instances_train.json\"\n"
        "images = \"train\"\n[data.val]\nannotations = \"annotations/instances_val.json\"\n"
        "images = \"val\"\n[partition]\nk = 4\n");
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string path(const char* name) { return (dir_->path() / name).string(); }
  static test::TempDir* dir_;
};
test::TempDir* CliData::dir_ = nullptr;

TEST_F(CliData, CheckStatsAndPartitionFromTheTrainingSet) {
  auto r = run_cpsd({"data", "check", "--config", path("run.toml")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("instances_train.json: 80 images, 30 classes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("instances_val.json: 20 images, 30 classes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dataset is usable"), std::string::npos);
  r = run_cpsd({"data", "stats", "--config", path("run.toml"), "--out", path("stats.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(test::read_file(dir_->path() / "stats.json").find("\"num_images\": 80"),
            std::string::npos);
  r = run_cpsd(
      {"partition", "--decomposer", "cgp", "--config", path("run.toml"), "--out", path("p.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("k = 4, seed = 0, 30 classes"), std::string::npos) << r.out;
  // The same statistics from the file give the same partition.
  r = run_cpsd({"partition", "--decomposer", "cgp", "--stats", path("stats.json"), "--k", "4",
                "--out", path("q.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto groups = [](const std::string& text) { return text.substr(text.find("\"groups\"")); };
  EXPECT_EQ(groups(test::read_file(dir_->path() / "p.json")),
            groups(test::read_file(dir_->path() / "q.json")));
}

TEST_F(CliData, DirectFormatOptionsAndUnusableData) {
  test::TempDir tmp;
  test::write_file(tmp / "classes.txt", "cat\ndog\n");
  test::write_file(tmp / "train.csv", "image,labels\nmissing.jpg,cat\n");
  auto r =
      run_cpsd({"data", "check", "--format", "csv", "--annotations", (tmp / "train.csv").string(),
                "--images", tmp.path().string(), "--classes", (tmp / "classes.txt").string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("missing.jpg: cannot open"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dataset is NOT usable"), std::string::npos);
  test::write_file(tmp / "typo.csv", "image,labels\na.jpg,dgo\n");
  expect_error(run_cpsd({"data", "check", "--format", "csv", "--annotations",
                         (tmp / "typo.csv").string(), "--classes", (tmp / "classes.txt").string()}),
               2, "typo.csv:2: unknown class 'dgo' (did you mean 'dog'?)");
  expect_error(run_cpsd({"data", "check"}), 2, "give --config RUN.toml");
  expect_error(run_cpsd({"data", "make-fashion-scenes", "--out", path("fs")}), 2, "already exists");
  expect_error(run_cpsd({"data", "frob"}), 2, "expected check, stats");
}

}  // namespace
}  // namespace cpsd
