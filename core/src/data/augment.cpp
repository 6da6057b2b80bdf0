// SPDX-License-Identifier: Apache-2.0
// Augmentations with PIL's semantics (the reference recipe is PIL-based), on OpenCV images.
#include "augment.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace cpsd::data::augment {
namespace {

const cv::Scalar kGrey(128, 128, 128);

cv::Mat clip_to_u8(const cv::Mat& floats) {
  cv::Mat out;
  floats.convertTo(out, CV_8UC3);  // saturating, rounds to nearest
  return out;
}

// PIL's ImageEnhance: blend(degenerate, image, factor) = degenerate + factor * (image -
// degenerate).
void enhance(cv::Mat& rgb, const cv::Mat& degenerate, double factor) {
  cv::Mat a, b;
  rgb.convertTo(a, CV_32FC3);
  degenerate.convertTo(b, CV_32FC3);
  rgb = clip_to_u8(b + (a - b) * factor);
}

cv::Mat grey3(const cv::Mat& rgb) {
  cv::Mat grey, out;
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);  // 0.299 R + 0.587 G + 0.114 B, as PIL's "L"
  cv::cvtColor(grey, out, cv::COLOR_GRAY2RGB);
  return out;
}

// PIL transform(AFFINE, (a, b, c, d, e, f)) maps each output (x, y) to input (ax+by+c, dx+ey+f).
void affine(cv::Mat& rgb, double a, double b, double c, double d, double e, double f,
            int interpolation) {
  const cv::Mat m = (cv::Mat_<double>(2, 3) << a, b, c, d, e, f);
  cv::Mat out;
  cv::warpAffine(rgb, out, m, rgb.size(), interpolation | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT,
                 kGrey);
  rgb = out;
}

double sign(Rng& rng) { return uniform01(rng) < 0.5 ? -1.0 : 1.0; }

void box(cv::Mat& rgb, int x0, int y0, int x1, int y1, const cv::Scalar& colour) {
  x0 = std::clamp(x0, 0, rgb.cols - 1);
  x1 = std::clamp(x1, 0, rgb.cols - 1);
  y0 = std::clamp(y0, 0, rgb.rows - 1);
  y1 = std::clamp(y1, 0, rgb.rows - 1);
  if (x1 < x0 || y1 < y0) return;
  rgb(cv::Rect(x0, y0, x1 - x0 + 1, y1 - y0 + 1)).setTo(colour);  // both ends inclusive, as PIL
}

}  // namespace

double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

int64_t uniform_int(Rng& rng, int64_t n) {
  return static_cast<int64_t>(uniform01(rng) * static_cast<double>(n)) % n;
}

void horizontal_flip(cv::Mat& rgb) { cv::flip(rgb, rgb, 1); }

void cutout(cv::Mat& rgb, double factor, Rng& rng) {
  const int h = rgb.rows, w = rgb.cols;
  const int cut_h = static_cast<int>(factor * h + 0.5), cut_w = static_cast<int>(factor * w + 0.5);
  const int yc = static_cast<int>(uniform_int(rng, h)), xc = static_cast<int>(uniform_int(rng, w));
  const cv::Scalar colour(static_cast<double>(uniform_int(rng, 256)),
                          static_cast<double>(uniform_int(rng, 256)),
                          static_cast<double>(uniform_int(rng, 256)));
  box(rgb, xc - cut_w / 2, yc - cut_h / 2, xc + cut_w / 2, yc + cut_h / 2, colour);
}

// PIL rotates counter-clockwise about the centre, like OpenCV's positive angles.
void rotate(cv::Mat& rgb, double degrees) {
  const cv::Mat m =
      cv::getRotationMatrix2D(cv::Point2f(rgb.cols / 2.0f, rgb.rows / 2.0f), degrees, 1.0);
  cv::Mat out;
  cv::warpAffine(rgb, out, m, rgb.size(), cv::INTER_NEAREST, cv::BORDER_CONSTANT, kGrey);
  rgb = out;
}

// PIL's ImageEnhance.Contrast: blends with the rounded mean of the grey image.
void contrast(cv::Mat& rgb, double factor) {
  cv::Mat grey;
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  const double mean = std::floor(cv::mean(grey)[0] + 0.5);
  enhance(rgb, cv::Mat(rgb.size(), CV_8UC3, cv::Scalar(mean, mean, mean)), factor);
}

// PIL's ImageEnhance.Sharpness: blends with the SMOOTH-filtered image, whose border keeps the
// original pixels.
void sharpness(cv::Mat& rgb, double factor) {
  const int w = rgb.cols, h = rgb.rows;
  const cv::Mat kernel = (cv::Mat_<float>(3, 3) << 1, 1, 1, 1, 5, 1, 1, 1, 1) / 13.0f;
  cv::Mat smooth = rgb.clone();
  if (w > 2 && h > 2) {
    cv::Mat filtered;
    cv::filter2D(rgb, filtered, -1, kernel);
    filtered(cv::Rect(1, 1, w - 2, h - 2)).copyTo(smooth(cv::Rect(1, 1, w - 2, h - 2)));
  }
  enhance(rgb, smooth, factor);
}

void solarize(cv::Mat& rgb, double threshold) {
  rgb.forEach<cv::Vec3b>([threshold](cv::Vec3b& p, const int*) {
    for (int c = 0; c < 3; ++c) {
      if (p[c] >= threshold) p[c] = static_cast<uchar>(255 - p[c]);
    }
  });
}

// Stretches each channel to 0..255 (PIL's autocontrast with no cutoff).
void autocontrast(cv::Mat& rgb) {
  std::vector<cv::Mat> channels;
  cv::split(rgb, channels);
  for (cv::Mat& c : channels) {
    double lo = 0, hi = 0;
    cv::minMaxLoc(c, &lo, &hi);
    if (hi > lo) c.convertTo(c, CV_8U, 255.0 / (hi - lo), -lo * 255.0 / (hi - lo));
  }
  cv::merge(channels, rgb);
}

void equalize(cv::Mat& rgb) {
  std::vector<cv::Mat> channels;
  cv::split(rgb, channels);
  for (cv::Mat& c : channels) cv::equalizeHist(c, c);
  cv::merge(channels, rgb);
}

// RandAugment's cutout: a size x size grey square at a random centre.
void grey_square(cv::Mat& rgb, int size, Rng& rng) {
  const int x = static_cast<int>(uniform_int(rng, rgb.cols)),
            y = static_cast<int>(uniform_int(rng, rgb.rows));
  if (size > 0)
    box(rgb, x - size / 2, y - size / 2, x - size / 2 + size - 1, y - size / 2 + size - 1,
        cv::Scalar(125, 122, 113));
}

void apply(Op op, int magnitude, cv::Mat& rgb, Rng& rng) {
  const double level = std::clamp(magnitude, 0, 9) / 9.0;  // position in np.linspace(.., 10)
  const int w = rgb.cols, h = rgb.rows;
  switch (op) {
    case Op::shear_x:
      affine(rgb, 1, 0.3 * level * sign(rng), 0, 0, 1, 0, cv::INTER_CUBIC);
      break;
    case Op::shear_y:
      affine(rgb, 1, 0, 0, 0.3 * level * sign(rng), 1, 0, cv::INTER_CUBIC);
      break;
    case Op::translate_x:
      affine(rgb, 1, 0, 150.0 / 331.0 * level * w * sign(rng), 0, 1, 0, cv::INTER_NEAREST);
      break;
    case Op::translate_y:
      affine(rgb, 1, 0, 0, 0, 1, 150.0 / 331.0 * level * h * sign(rng), cv::INTER_NEAREST);
      break;
    case Op::rotate:
      rotate(rgb, 30.0 * level);
      break;
    case Op::color:
      enhance(rgb, grey3(rgb), 1 + 0.9 * level * sign(rng));
      break;
    case Op::contrast:
      contrast(rgb, 1 + 0.9 * level * sign(rng));
      break;
    case Op::brightness:
      enhance(rgb, cv::Mat::zeros(rgb.size(), CV_8UC3), 1 + 0.9 * level * sign(rng));
      break;
    case Op::sharpness:
      sharpness(rgb, 1 + 0.9 * level * sign(rng));
      break;
    case Op::posterize: {
      const int bits = static_cast<int>(std::lround(8 - 4 * level));
      const auto keep = static_cast<uchar>(0xFF << (8 - bits));
      cv::bitwise_and(rgb, cv::Scalar(keep, keep, keep), rgb);
      break;
    }
    case Op::solarize:
      solarize(rgb, 256 - 256 * level);
      break;
    case Op::autocontrast:
      autocontrast(rgb);
      break;
    case Op::equalize:
      equalize(rgb);
      break;
    case Op::invert:
      cv::bitwise_not(rgb, rgb);
      break;
    case Op::cutout:
      grey_square(rgb, static_cast<int>(20 * level), rng);
      break;
  }
}

void rand_augment(cv::Mat& rgb, Rng& rng) {
  for (int i = 0; i < 2; ++i) {
    const auto op = static_cast<Op>(uniform_int(rng, kNumOps));
    const int magnitude = 1 + static_cast<int>(uniform_int(rng, 9));
    if (uniform01(rng) < 0.5) apply(op, magnitude, rgb, rng);
  }
}

}  // namespace cpsd::data::augment
