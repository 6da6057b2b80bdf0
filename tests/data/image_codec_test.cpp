// SPDX-License-Identifier: Apache-2.0
// JPEG (YCbCr, grey, Adobe CMYK) and PNG decoding against PIL (tests/data/image_codec_reference.py
// writes the files and PIL's decodings); encoding checked by PIL reading what cpsd wrote.
#include "cpsd/core/image_codec.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd::image {
namespace {

namespace fs = std::filesystem;

const std::string kScript =
    std::string(CPSD_TEST_SOURCE_DIR) + "/tests/data/image_codec_reference.py";

// A "width height" line, then RGB bytes: what the reference script writes.
cv::Mat read_expected(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  int w = 0, h = 0;
  in >> w >> h;
  in.get();
  cv::Mat rgb(h, w, CV_8UC3);
  in.read(reinterpret_cast<char*>(rgb.data), static_cast<std::streamsize>(rgb.total() * 3));
  EXPECT_TRUE(in) << file;
  return rgb;
}

std::vector<uint8_t> bytes_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

double max_difference(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return 1e9;
  return cv::norm(a, b, cv::NORM_INF);
}

class ImageCodec : public test::SharedFixture<ImageCodec> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
    dir_ = new test::TempDir();
    const std::string command =
        std::string(CPSD_TEST_PYTHON) + " " + kScript + " " + dir_->path().string();
    ASSERT_EQ(std::system(command.c_str()), 0) << "python3-pil is needed: " << command;
  }
  static void TearDownTestSuite() { delete dir_; }

 protected:
  static fs::path file(const std::string& name) { return dir_->path() / name; }
  static test::TempDir* dir_;
};
test::TempDir* ImageCodec::dir_ = nullptr;

TEST_F(ImageCodec, JpegDecodesAsPilDoesAtEveryReduction) {
  const std::vector<std::pair<std::string, std::vector<int>>> cases = {
      {"photo420", {1, 2, 4, 8}}, {"photo444", {1, 2}}, {"grey", {1, 2}}, {"cmyk", {1, 2}}};
  for (const auto& [name, reductions] : cases) {
    const std::vector<uint8_t> bytes = bytes_of(file(name + ".jpg"));
    for (int r : reductions) {
      const cv::Mat expected = read_expected(file(name + ".r" + std::to_string(r) + ".rgb"));
      const cv::Mat rgb = decode(bytes, name, Order::rgb, r);
      EXPECT_EQ(max_difference(rgb, expected), 0) << name << " at 1/" << r;
      cv::Mat bgr = decode(bytes, name, Order::bgr, r), swapped;
      cv::cvtColor(bgr, swapped, cv::COLOR_BGR2RGB);
      EXPECT_EQ(max_difference(swapped, expected), 0) << name << " BGR at 1/" << r;
    }
  }
}

TEST_F(ImageCodec, ReadPicksTheLargestReductionThatKeepsTheShorterSide) {
  // photo420 is 97x61: 61 >= 8 x 7, 4 x 8, 2 x 16, but not 2 x 31.
  const std::vector<uint8_t> bytes = bytes_of(file("photo420.jpg"));
  const std::vector<std::pair<int64_t, int>> cases = {{7, 8},  {8, 4},  {15, 4}, {16, 2},
                                                      {30, 2}, {31, 1}, {200, 1}};
  for (const auto& [min_side, reduction] : cases) {
    EXPECT_EQ(jpeg_reduction_for(bytes, min_side), reduction) << min_side;
    const cv::Mat expected = read_expected(file("photo420.r" + std::to_string(reduction) + ".rgb"));
    EXPECT_EQ(max_difference(read(file("photo420.jpg"), Order::rgb, min_side), expected), 0)
        << min_side;
  }
  EXPECT_EQ(jpeg_reduction_for(bytes_of(file("rgb.png")), 1), 1);  // PNG: no reduction
}

TEST_F(ImageCodec, PngOfEveryColourTypeDecodesAsPilDoes) {
  for (const char* name : {"rgb", "rgba", "grey_alpha", "palette", "grey16"}) {
    const cv::Mat expected = read_expected(file(std::string(name) + ".r1.rgb"));
    EXPECT_EQ(max_difference(read(file(std::string(name) + ".png"), Order::rgb), expected), 0)
        << name;
    // A reduction is for JPEG only; a PNG comes back whole.
    EXPECT_EQ(
        max_difference(decode(bytes_of(file(std::string(name) + ".png")), name, Order::rgb, 4),
                       expected),
        0)
        << name;
  }
}

TEST_F(ImageCodec, PilReadsWhatCpsdWrites) {
  cv::Mat rgb = read(file("photo420.jpg"), Order::rgb), grey;
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  write_png(file("ours_rgb.png"), rgb, Order::rgb);
  write_png(file("ours_grey.png"), grey, Order::rgb);
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  write_png(file("ours_bgr.png"), bgr, Order::bgr);
  write_jpeg(file("ours.jpg"), bgr, Order::bgr, 92);
  const std::string command = std::string(CPSD_TEST_PYTHON) + " " + kScript + " --decode " +
                              file("ours_rgb.png").string() + " " + file("ours_grey.png").string() +
                              " " + file("ours_bgr.png").string() + " " + file("ours.jpg").string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  cv::Mat grey_rgb;
  cv::cvtColor(grey, grey_rgb, cv::COLOR_GRAY2RGB);
  EXPECT_EQ(max_difference(read_expected(file("ours_rgb.png.pil.rgb")), rgb), 0);
  EXPECT_EQ(max_difference(read_expected(file("ours_bgr.png.pil.rgb")), rgb), 0);
  EXPECT_EQ(max_difference(read_expected(file("ours_grey.png.pil.rgb")), grey_rgb), 0);
  // Lossy, but PIL and cpsd decode the same bytes to the same pixels, close to the source.
  const cv::Mat pil_jpeg = read_expected(file("ours.jpg.pil.rgb"));
  EXPECT_EQ(max_difference(pil_jpeg, read(file("ours.jpg"), Order::rgb)), 0);
  EXPECT_GT(cv::PSNR(pil_jpeg, rgb), 30.0);
}

TEST_F(ImageCodec, RefusesWhatItCannotDecodeNamingTheSource) {
  auto message = [](const std::vector<uint8_t>& bytes, int reduction = 1) {
    try {
      decode(bytes, "images/x.jpg", Order::rgb, reduction);
    } catch (const RuntimeError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
  EXPECT_NE(message(text).find("images/x.jpg: not a JPEG or PNG file"), std::string::npos);
  std::vector<uint8_t> png = bytes_of(file("rgb.png"));
  png.resize(png.size() / 2);
  EXPECT_NE(message(png).find("images/x.jpg: cannot decode PNG"), std::string::npos)
      << message(png);
  std::vector<uint8_t> jpeg = bytes_of(file("photo420.jpg"));
  jpeg.resize(40);
  EXPECT_NE(message(jpeg).find("images/x.jpg: truncated JPEG"), std::string::npos) << message(jpeg);
  EXPECT_NE(message(bytes_of(file("photo420.jpg")), 3).find("reduction must be 1, 2, 4 or 8"),
            std::string::npos);
  EXPECT_THROW(read(file("missing.png"), Order::rgb), RuntimeError);
  // Headers that declare gigapixels are refused before anything that size is allocated.
  const fs::path regressions = test::source_dir() / "tests" / "fuzz" / "regressions" / "image";
  EXPECT_NE(message(bytes_of(regressions / "huge_dimensions.jpg"))
                .find("declares 65500x65500 pixels, more than cpsd decodes"),
            std::string::npos);
  EXPECT_NE(message(bytes_of(regressions / "huge_dimensions.png"))
                .find("declares 100000x100000 pixels, more than cpsd decodes"),
            std::string::npos);
}

}  // namespace
}  // namespace cpsd::image
