// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/data/image_pipeline.h"

#include <vector>

#include <opencv2/imgproc.hpp>

#include "augment.h"
#include "cpsd/core/image_codec.h"

namespace cpsd::data {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

cv::Mat decode_rgb(const std::string& path, const PipelineOptions& options) {
  try {
    return image::read(path, image::Order::rgb, options.fast_decode ? options.image_size : 0);
  } catch (const RuntimeError& e) {
    throw BadImage(e.what());
  }
}

cv::Mat resized(const cv::Mat& rgb, const PipelineOptions& options) {
  const int s = static_cast<int>(options.image_size);
  // Bilinear, as the reference; area averaging only when shrinking more than 2x, where
  // bilinear would alias (PIL antialiases every shrink, at several times the cost).
  auto interpolation = [](const cv::Size& from, const cv::Size& to) {
    return 2 * to.width < from.width || 2 * to.height < from.height ? cv::INTER_AREA
                                                                    : cv::INTER_LINEAR;
  };
  cv::Mat out;
  if (options.resize == ResizeMode::squash) {
    if (rgb.cols == s && rgb.rows == s) return rgb;
    cv::resize(rgb, out, cv::Size(s, s), 0, 0, interpolation(rgb.size(), cv::Size(s, s)));
    return out;
  }
  const double scale = static_cast<double>(s) / std::max(rgb.cols, rgb.rows);
  const cv::Size inner(std::max(1, static_cast<int>(std::lround(rgb.cols * scale))),
                       std::max(1, static_cast<int>(std::lround(rgb.rows * scale))));
  cv::Mat small;
  cv::resize(rgb, small, inner, 0, 0, interpolation(rgb.size(), inner));
  out = cv::Mat::zeros(s, s, CV_8UC3);
  small.copyTo(
      out(cv::Rect((s - inner.width) / 2, (s - inner.height) / 2, inner.width, inner.height)));
  return out;
}

}  // namespace

BadImage::~BadImage() = default;

uint64_t sample_seed(uint64_t seed, int64_t epoch, int64_t index) {
  return splitmix64(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(epoch)) ^
                    static_cast<uint64_t>(index));
}

ImagePipeline::ImagePipeline(PipelineOptions options) : options_(options) {
  if (options_.image_size < 8) throw ConfigError("data.image_size must be >= 8 pixels");
  if (options_.cutout < 0 || options_.cutout > 1)
    throw ConfigError("augment.cutout must be in [0, 1]");
}

void ImagePipeline::load(const std::string& path, Rng& rng, float* out) const {
  cv::Mat rgb = resized(decode_rgb(path, options_), options_);
  if (options_.flip && augment::uniform01(rng) < 0.5) augment::horizontal_flip(rgb);
  if (options_.cutout > 0) augment::cutout(rgb, options_.cutout, rng);
  if (options_.randaugment) augment::rand_augment(rgb, rng);
  // HWC uint8 -> three float planes written straight into `out` (vectorised by OpenCV).
  static constexpr double kMean[3] = {0.485, 0.456, 0.406};
  static constexpr double kStd[3] = {0.229, 0.224, 0.225};
  const bool imagenet = options_.normalization == Normalization::imagenet;
  const int s = static_cast<int>(options_.image_size);
  std::vector<cv::Mat> planes;
  cv::split(rgb, planes);
  for (int c = 0; c < 3; ++c) {
    cv::Mat target(s, s, CV_32FC1, out + static_cast<int64_t>(c) * s * s);
    const double scale = imagenet ? 1.0 / (255.0 * kStd[c]) : 1.0 / 255.0;
    const double shift = imagenet ? -kMean[c] / kStd[c] : 0.0;
    planes[c].convertTo(target, CV_32F, scale, shift);
  }
}

}  // namespace cpsd::data
