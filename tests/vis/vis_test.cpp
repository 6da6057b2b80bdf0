// SPDX-License-Identifier: Apache-2.0
// `cpsd cam`, `cpsd plot` and `cpsd report` on models trained here: activation maps where the
// answer is known, picture sizes, and a report whose links resolve and that a browser renders.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <regex>

#include <opencv2/imgproc.hpp>

#include "cpsd/core/image_codec.h"
#include "test_support.h"

namespace cpsd {
namespace {

namespace fs = std::filesystem;
using test::run_cpsd;

constexpr int kSide = 64, kSquare = 14;

// A grey noise canvas with a red square (class "red") and/or a blue square (class "blue").
cv::Mat canvas(const cv::Point* red, const cv::Point* blue) {
  cv::Mat image(kSide, kSide, CV_8UC3);
  cv::randu(image, cv::Scalar(90, 90, 90), cv::Scalar(140, 140, 140));
  if (red != nullptr)
    cv::rectangle(image, cv::Rect(red->x, red->y, kSquare, kSquare), cv::Scalar(30, 30, 230),
                  cv::FILLED);
  if (blue != nullptr)
    cv::rectangle(image, cv::Rect(blue->x, blue->y, kSquare, kSquare), cv::Scalar(230, 40, 30),
                  cv::FILLED);
  return image;
}

// Mean of a grey map over one quadrant (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right).
double quadrant_mean(const cv::Mat& grey, int q) {
  const int h = grey.rows / 2, w = grey.cols / 2;
  return cv::mean(grey(cv::Rect((q % 2) * w, (q / 2) * h, w, h)))[0];
}

class Vis : public test::SharedFixture<Vis> {
 public:  // make_shared() is called by test::make_shared_once
  // Squares at random places while training (the model learns colour, not position); a
  // tiny ResNet learns both classes within a few epochs.
  static void make_shared() {
    dir_ = new test::TempDir();
    const fs::path data = dir_->path() / "squares";
    fs::create_directories(data / "img");
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> place(0, kSide - kSquare), coin(0, 3);
    std::string train = "image,labels\n", val = "image,labels\n";
    for (int i = 0; i < 320; ++i) {
      const int which = coin(rng);  // 0 none, 1 red, 2 blue, 3 both
      cv::Point r(place(rng), place(rng)), b(place(rng), place(rng));
      const std::string name = "s" + std::to_string(i) + ".png";
      image::write_png(data / "img" / name,
                       canvas(which & 1 ? &r : nullptr, which & 2 ? &b : nullptr),
                       image::Order::bgr);
      std::string labels =
          std::string(which & 1 ? "red" : "") + (which == 3 ? ";" : "") + (which & 2 ? "blue" : "");
      (i < 256 ? train : val) += name + "," + labels + "\n";
    }
    test::write_file(data / "train.csv", train);
    test::write_file(data / "val.csv", val);
    test::write_file(data / "classes.txt", "red\nblue\n");
    test::write_file(dir_->path() / "squares.toml", R"([runtime]
threads = 1
seed = 3
[data]
format = "csv"
root = "squares"
classes = "classes.txt"
image_size = 64
workers = 2
[data.train]
annotations = "train.csv"
images = "img"
[data.val]
annotations = "val.csv"
images = "img"
[augment]
cutout = 0.0
randaugment = false
[model]
backbone = "resnet"
head = "linear"
[backbone.resnet]
width = 8
stem = "small"
[train]
loss = "asl"
epochs = 8
batch_size = 16
lr = 3e-3
log_seconds = 5
)");
    const auto r = run_cpsd({"train", "--config", (dir_->path() / "squares.toml").string(), "--set",
                             "run.output=" + (dir_->path() / "runs").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The test picture: red square top-left, blue square bottom-right.
    cv::Point red(3, 3), blue(kSide - kSquare - 3, kSide - kSquare - 3);
    image::write_png(dir_->path() / "corners.png", canvas(&red, &blue), image::Order::bgr);
    // A wide copy keeps its aspect in the panel.
    cv::Mat wide;
    cv::resize(canvas(&red, &blue), wide, cv::Size(2 * kSide, kSide));
    image::write_png(dir_->path() / "wide.png", wide, image::Order::bgr);
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path checkpoint() { return dir_->path() / "runs" / "run" / "baseline" / "best.ckpt"; }
  static test::TempDir* dir_;
};
test::TempDir* Vis::dir_ = nullptr;

TEST_F(Vis, ActivationMapsLightUpTheClassesEvidence) {
  const fs::path out = dir_->path() / "cam";
  for (const char* cls : {"red", "blue"}) {
    const auto r = run_cpsd({"cam", "--checkpoint", checkpoint().string(), "--class", cls, "--out",
                             out.string(), "--save-maps", (dir_->path() / "corners.png").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("corners.png  baseline "), std::string::npos) << r.out;
    cv::Mat grey;
    cv::cvtColor(image::read(out / "corners_baseline.png", image::Order::bgr), grey,
                 cv::COLOR_BGR2GRAY);
    ASSERT_EQ(grey.rows, kSide);  // the map is at the model's input size
    ASSERT_EQ(grey.cols, kSide);
    const int expected = std::string(cls) == "red" ? 0 : 3;
    double others = 0;
    for (int q = 0; q < 4; ++q)
      others = q == expected ? others : std::max(others, quadrant_mean(grey, q));
    EXPECT_GT(quadrant_mean(grey, expected), 1.5 * others + 5)
        << cls << ": quadrant means " << quadrant_mean(grey, 0) << " " << quadrant_mean(grey, 1)
        << " " << quadrant_mean(grey, 2) << " " << quadrant_mean(grey, 3);
    cv::Point peak;
    cv::minMaxLoc(grey, nullptr, nullptr, nullptr, &peak);
    EXPECT_EQ((peak.y >= kSide / 2) * 2 + (peak.x >= kSide / 2), expected)
        << cls << " peaks at " << peak;
  }
}

TEST_F(Vis, PanelGridsKeepAspectAndHaveOneColumnPerModel) {
  const fs::path out = dir_->path() / "grid";
  const std::string ckpt = checkpoint().string();
  const std::string last = (checkpoint().parent_path() / "last.ckpt").string();
  const auto r = run_cpsd({"cam", "--checkpoint", ckpt, "--checkpoint", last, "--class", "red",
                           "--out", out.string(), (dir_->path() / "corners.png").string(),
                           (dir_->path() / "wide.png").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const cv::Mat grid = image::read(out / "cam_red.png", image::Order::bgr);
  ASSERT_FALSE(grid.empty());
  // Two columns as wide as the widest panel (the 2:1 image at 224 px high) plus 6 px gaps;
  // two rows of 224 px images with two caption lines.
  EXPECT_EQ(grid.cols, 2 * (448 + 6) + 6);
  EXPECT_EQ(grid.rows, 2 * (224 + 8 + 2 * 17 + 6) + 6);
  // Errors: unknown class, no such image.
  auto bad = run_cpsd({"cam", "--checkpoint", ckpt, "--class", "green", "--out", out.string(),
                       (dir_->path() / "corners.png").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.last_error_line().find("does not predict 'green'"), std::string::npos) << bad.err;
  bad = run_cpsd(
      {"cam", "--checkpoint", ckpt, "--class", "red", "--out", out.string(), "missing.png"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.last_error_line().find("missing.png: no such image"), std::string::npos) << bad.err;
}

// A whole run (baseline, teachers, cpsd student) on a tiny fashion-scenes.
class VisRun : public test::SharedFixture<VisRun> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    dir_ = new test::TempDir();
    test::make_tiny_run_base(dir_->path(), 64, 24, 4);
    test::write_file(dir_->path() / "tiny.toml", R"(base = "tiny_base.toml"
[train]
epochs = 2
batch_size = 16
[partition]
k = 2
[distill]
mode = "cached"
[run]
name = "tiny"
methods = ["baseline", "cpsd"]
)");
    const auto r = run_cpsd({"run", (dir_->path() / "tiny.toml").string(), "--set",
                             "run.output=" + (dir_->path() / "runs").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path run_dir() { return dir_->path() / "runs" / "tiny"; }
  static test::TempDir* dir_;
};
test::TempDir* VisRun::dir_ = nullptr;

TEST_F(VisRun, PlotDrawsEveryStage) {
  const auto r = run_cpsd({"plot", run_dir().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* stage : {"baseline", "teachers", "student_cpsd"}) {
    const cv::Mat png =
        image::read(run_dir() / "plots" / (std::string(stage) + ".png"), image::Order::bgr);
    ASSERT_FALSE(png.empty()) << stage;
    EXPECT_EQ(png.cols, 3 * 500) << stage;  // loss, mAP, learning rate
    EXPECT_EQ(png.rows, 300) << stage;
  }
  // A run whose stages are links to another run's (as the ablation study shares teachers).
  const fs::path shared = dir_->path() / "shared-run";
  fs::create_directories(shared);
  for (const char* stage : {"baseline", "teachers", "cpsd"})
    fs::create_directory_symlink(run_dir() / stage, shared / stage);
  const auto linked = run_cpsd({"plot", shared.string()});
  ASSERT_EQ(linked.exit_code, 0) << linked.err;
  for (const char* stage : {"baseline", "teachers", "student_cpsd"}) {
    EXPECT_TRUE(fs::exists(shared / "plots" / (std::string(stage) + ".png"))) << stage;
  }
  const auto bad = run_cpsd({"plot", dir_->path().string() + "/fs"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.last_error_line().find("no training metrics found"), std::string::npos) << bad.err;
}

TEST_F(VisRun, CamOfARunShowsBothTeachersAndTheStudent) {
  const fs::path out = dir_->path() / "cam";
  const auto r = run_cpsd({"cam", "--run", run_dir().string(), "--class", "red_dress", "--out",
                           out.string(), (dir_->path() / "fs" / "val" / "000001.jpg").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("CGP teacher "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DGP teacher "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cpsd student "), std::string::npos) << r.out;
  const cv::Mat grid = image::read(out / "cam_red_dress.png", image::Order::bgr);
  EXPECT_EQ(grid.cols, 3 * (224 + 6) + 6);  // three square panels
}

TEST_F(VisRun, ReportLinksResolveAndItRendersHeadless) {
  const auto r = run_cpsd({"report", run_dir().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path page = run_dir() / "report" / "index.html";
  const std::string html = test::read_file(page);
  for (const char* section :
       {"<h2>Results</h2>", "<h2>Learning curves</h2>", "<h2>Activation maps</h2>",
        "<h2>Partitions</h2>", "<h2>Teachers</h2>", "<h2>Teachers against the baseline</h2>",
        "<h2>Per-class AP", "<h2>Config</h2>"}) {
    EXPECT_NE(html.find(section), std::string::npos) << section;
  }
  EXPECT_EQ(html.find("http://"), std::string::npos);  // nothing from the network
  EXPECT_EQ(html.find("https://"), std::string::npos);
  const std::regex reference(R"((src|href)=\"([^\"]+)\")");
  int images = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), reference);
       it != std::sregex_iterator(); ++it) {
    const fs::path target = fs::weakly_canonical(page.parent_path() / (*it)[2].str());
    EXPECT_TRUE(fs::is_regular_file(target)) << (*it)[2];
    const std::string inside =
        fs::relative(target, fs::weakly_canonical(run_dir())).generic_string();
    EXPECT_NE(inside.rfind("..", 0), 0u) << (*it)[2] << " is outside the run directory";
    images += (*it)[1] == "src";
  }
  EXPECT_GE(images, 3 + 2 + 2);  // three curve pictures, two CAM grids, two affinity pictures

  // Debian's chromium renders it; the screenshot has the page's content, not a blank canvas.
  const fs::path shot = dir_->path() / "report.png";
  const std::string command =
      "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1600"
      " --screenshot=" +
      shot.string() + " file://" + page.string() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0)
      << "chromium failed (scripts/install-deps.sh installs it)";
  const cv::Mat screenshot = image::read(shot, image::Order::bgr);
  ASSERT_FALSE(screenshot.empty());
  EXPECT_EQ(screenshot.cols, 1200);
  cv::Mat grey, mean, spread;
  cv::cvtColor(screenshot, grey, cv::COLOR_BGR2GRAY);
  cv::meanStdDev(grey, mean, spread);
  EXPECT_GT(spread.at<double>(0), 20) << "the screenshot is nearly uniform";
  cv::Mat hsv;  // colour from the charts and heat maps, not only black text
  cv::cvtColor(screenshot, hsv, cv::COLOR_BGR2HSV);
  std::vector<cv::Mat> channels;
  cv::split(hsv, channels);
  EXPECT_GT(cv::countNonZero(channels[1] > 100), 5000)
      << "no coloured pixels: the pictures did not render";
}

}  // namespace
}  // namespace cpsd
