// SPDX-License-Identifier: Apache-2.0
// fashion-items: Fashion-MNIST's training items on the demo's canvases, for pretraining.
#include <unistd.h>

#include <chrono>

#include <opencv2/imgproc.hpp>

#include "../json_file.h"
#include "augment.h"
#include "canvas_paint.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/data/fashion_scenes.h"
#include "cpsd/core/image_codec.h"
#include "cpsd/core/log.h"
#include "cpsd/sdk/error.h"
#include "idx_file.h"

namespace fs = std::filesystem;

namespace cpsd::data {
namespace {

using augment::uniform01;
using augment::uniform_int;

constexpr int kSandal = 5, kBag = 8;

// A random colour: any hue, fairly saturated and bright, so the item stands out as in the scenes.
cv::Vec3d random_tint(Rng& rng) {
  cv::Mat hsv(1, 1, CV_8UC3,
              cv::Scalar(static_cast<int>(uniform_int(rng, 180)),
                         static_cast<int>(115 + 140 * uniform01(rng)),
                         static_cast<int>(170 + 85 * uniform01(rng))));
  cv::Mat rgb;
  cv::cvtColor(hsv, rgb, cv::COLOR_HSV2RGB);
  const cv::Vec3b c = rgb.at<cv::Vec3b>(0, 0);
  return {double(c[0]), double(c[1]), double(c[2])};
}

}  // namespace

void make_fashion_items(const fs::path& out, const FashionItemsOptions& options, bool overwrite) {
  if (options.canvas < 32) throw ConfigError("fashion-items canvas must be >= 32 pixels");
  const IdxImages images =
      read_idx_images(fashion_mnist_file(options.fashion_mnist, "train-images-idx3-ubyte.gz"));
  const std::vector<uint8_t> labels =
      read_idx_labels(fashion_mnist_file(options.fashion_mnist, "train-labels-idx1-ubyte.gz"));
  if (static_cast<int64_t>(labels.size()) != images.count) {
    throw ConfigError(options.fashion_mnist.string() +
                      ": the training images and labels differ in count");
  }
  if (options.val_items < 1 || options.val_items >= images.count) {
    throw ConfigError("fashion-items: --val-items must be in 1.." +
                      std::to_string(images.count - 1));
  }
  const int64_t val_start = images.count - options.val_items;
  const int64_t train_count =
      options.train_items > 0 ? std::min(options.train_items, val_start) : val_start;
  const FashionScenesDesign design = fashion_scenes_design();
  build_directory_atomically(out, overwrite, [&](const fs::path& temp) {
    for (const char* split : {"train", "val"}) {
      for (const std::string& type : design.types) fs::create_directories(temp / split / type);
    }
    const double scale = options.canvas / 64.0;
    const auto start = std::chrono::steady_clock::now();
    std::vector<int64_t> chosen;
    for (int64_t i = 0; i < train_count; ++i) chosen.push_back(i);
    for (int64_t i = val_start; i < images.count; ++i) chosen.push_back(i);
    for (std::size_t n = 0; n < chosen.size(); ++n) {
      const int64_t i = chosen[n];
      Rng rng(sample_seed(options.seed, 3, i));
      const int type = labels[static_cast<std::size_t>(i)];
      cv::Mat canvas = noise_background(options.canvas, rng);
      const bool small = type == kBag || type == kSandal;
      const int size =
          static_cast<int>((small ? 16 + 4 * uniform01(rng) : 26 + 10 * uniform01(rng)) * scale);
      const int x0 = static_cast<int>(uniform_int(rng, options.canvas - size + 1));
      const int y0 = static_cast<int>(uniform_int(rng, options.canvas - size + 1));
      paste_tinted(canvas, images.image(i), static_cast<int>(images.rows),
                   static_cast<int>(images.cols), size, x0, y0, random_tint(rng));
      char name[32];
      std::snprintf(name, sizeof(name), "%05lld.jpg", static_cast<long long>(i));
      const fs::path file = temp / (i < val_start ? "train" : "val") / design.types[type] / name;
      image::write_jpeg(file, to_bgr(canvas), image::Order::bgr, options.jpeg_quality);
      if ((n + 1) % 10000 == 0 || n + 1 == chosen.size()) {
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double rate = (n + 1) / std::max(elapsed, 1e-9);
        log::info("fashion-items: {}/{} images, {:.0f} images/s, ETA {:.0f} s", n + 1,
                  chosen.size(), rate, (chosen.size() - n - 1) / rate);
      }
    }
    const Json info = {{"source", "Fashion-MNIST training items (never its test items)"},
                       {"classes", design.types},
                       {"train_items", train_count},
                       {"val_items", options.val_items},
                       {"val_from_index", val_start},
                       {"seed", options.seed},
                       {"canvas", options.canvas}};
    write_file_atomically(temp / "items.json", json_text(info));
  });
}

}  // namespace cpsd::data
