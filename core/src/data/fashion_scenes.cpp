// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/data/fashion_scenes.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>

#include <opencv2/imgproc.hpp>

#include "../json_file.h"
#include "augment.h"
#include "canvas_paint.h"
#include "cpsd/core/atomic_file.h"
#include "cpsd/core/image_codec.h"
#include "cpsd/core/log.h"
#include "cpsd/sdk/error.h"
#include "idx_file.h"

namespace fs = std::filesystem;

namespace cpsd::data {
namespace {

using augment::uniform01;
using augment::uniform_int;

constexpr int kTypes = 10;
constexpr int kSandal = 5, kBag = 8;

int draw(const std::vector<double>& weights, Rng& rng) {
  const int n = static_cast<int>(weights.size());
  double total = 0;
  for (double w : weights) total += w;
  double r = uniform01(rng) * total;
  for (int i = 0; i < n; ++i) {
    if ((r -= weights[static_cast<std::size_t>(i)]) < 0) return i;
  }
  return n - 1;
}

struct Item {
  int type, tint;
};

class SceneMaker {
 public:
  SceneMaker(const FashionScenesDesign& design, const IdxImages& images,
             const std::vector<uint8_t>& labels, int canvas)
      : design_(design), images_(images), canvas_(canvas) {
    for (std::size_t i = 0; i < labels.size(); ++i)
      pool_[labels[i]].push_back(static_cast<int64_t>(i));
  }

  // Chooses the items of one image: 1 or 2 outfits, mostly in one tint each, plus noise.
  std::vector<Item> choose_items(Rng& rng) const {
    std::vector<Item> items;
    const int64_t tints = static_cast<int64_t>(design_.tints.size());
    const int outfits = uniform01(rng) < design_.second_outfit ? 2 : 1;
    for (int o = 0; o < outfits; ++o) {
      const auto& types =
          design_.outfits[static_cast<std::size_t>(draw(design_.outfit_popularity, rng))].second;
      const int tint = draw(design_.tint_popularity, rng);
      int added = 0;
      for (int attempt = 0; attempt < 2 && (added < 2 || attempt == 0); ++attempt) {
        for (int type : types) {
          if (attempt == 0 && uniform01(rng) >= design_.keep_item) continue;
          const int t =
              uniform01(rng) < design_.same_tint ? tint : static_cast<int>(uniform_int(rng, tints));
          added += add(items, {type, t}) ? 1 : 0;
        }
      }
    }
    if (uniform01(rng) < design_.extra_item) {
      add(items,
          {static_cast<int>(uniform_int(rng, kTypes)), static_cast<int>(uniform_int(rng, tints))});
    }
    return items;
  }

  // Draws the items in random order (later ones may cover earlier ones).
  cv::Mat render(const std::vector<Item>& items, Rng& rng, std::vector<std::array<int, 4>>& boxes,
                 std::vector<int64_t>& sources) const {
    const double scale = canvas_ / 64.0;
    cv::Mat canvas = noise_background(canvas_, rng);
    std::vector<std::size_t> order(items.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (std::size_t i = order.size(); i > 1; --i)
      std::swap(order[i - 1], order[uniform_int(rng, i)]);
    boxes.assign(items.size(), {});
    sources.assign(items.size(), -1);
    for (std::size_t k : order) {
      const Item& item = items[k];
      const bool small = item.type == kBag || item.type == kSandal;
      const int size =
          static_cast<int>((small ? 16 + 4 * uniform01(rng) : 26 + 10 * uniform01(rng)) * scale);
      const auto& pool = pool_[item.type];
      const int64_t source = pool[uniform_int(rng, static_cast<int64_t>(pool.size()))];
      const int x0 = static_cast<int>(uniform_int(rng, canvas_ - size + 1));
      const int y0 = static_cast<int>(uniform_int(rng, canvas_ - size + 1));
      const auto& rgb = design_.tint_rgb[static_cast<std::size_t>(item.tint)];
      cv::Vec3d tint(rgb[0], rgb[1], rgb[2]);
      for (int c = 0; c < 3; ++c)
        tint[c] = std::clamp(tint[c] + 40 * (uniform01(rng) - 0.5), 0.0, 255.0);
      paste_tinted(canvas, images_.image(source), static_cast<int>(images_.rows),
                   static_cast<int>(images_.cols), size, x0, y0, tint);
      boxes[k] = {x0, y0, size, size};
      sources[k] = source;
    }
    return to_bgr(canvas);
  }

 private:
  bool add(std::vector<Item>& items, Item candidate) const {
    for (const Item& i : items) {
      if (i.type == candidate.type && i.tint == candidate.tint) return false;
      for (const auto& [a, b] : design_.never_together) {
        if ((i.type == a && candidate.type == b) || (i.type == b && candidate.type == a))
          return false;
      }
    }
    if (static_cast<int>(items.size()) >= design_.max_items) return false;
    items.push_back(candidate);
    return true;
  }

  const FashionScenesDesign& design_;
  const IdxImages& images_;
  int canvas_;
  std::array<std::vector<int64_t>, kTypes> pool_;
};

void make_split(const fs::path& dir, const std::string& split, const char* fmnist_split,
                int64_t count, const SceneMaker& maker, const FashionScenesDesign& design,
                const FashionScenesOptions& options, uint64_t stream) {
  fs::create_directories(dir / split);
  Json images = Json::array(), annotations = Json::array(), categories = Json::array();
  for (std::size_t c = 0; c < design.class_names.size(); ++c) {
    categories.push_back({{"id", c + 1}, {"name", design.class_names[c]}});
  }
  const auto start = std::chrono::steady_clock::now();
  int64_t annotation_id = 1;
  for (int64_t i = 0; i < count; ++i) {
    Rng rng(sample_seed(options.seed, static_cast<int64_t>(stream), i));
    const std::vector<Item> items = maker.choose_items(rng);
    std::vector<std::array<int, 4>> boxes;
    std::vector<int64_t> sources;
    const cv::Mat bgr = maker.render(items, rng, boxes, sources);
    char name[32];
    std::snprintf(name, sizeof(name), "%06lld.jpg", static_cast<long long>(i));
    image::write_jpeg(dir / split / name, bgr, image::Order::bgr, options.jpeg_quality);
    images.push_back({{"id", i + 1},
                      {"file_name", name},
                      {"width", options.canvas},
                      {"height", options.canvas}});
    for (std::size_t k = 0; k < items.size(); ++k) {
      const auto& b = boxes[k];
      annotations.push_back({{"id", annotation_id++},
                             {"image_id", i + 1},
                             {"category_id", items[k].tint * kTypes + items[k].type + 1},
                             {"bbox", {b[0], b[1], b[2], b[3]}},
                             {"area", b[2] * b[3]},
                             {"iscrowd", 0},
                             {"fashion_mnist", {{"split", fmnist_split}, {"index", sources[k]}}}});
    }
    if ((i + 1) % 2000 == 0 || i + 1 == count) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double rate = (i + 1) / std::max(elapsed, 1e-9);
      log::info("fashion-{} {}: {}/{} images, {:.0f} images/s, ETA {:.0f} s", design.name, split,
                i + 1, count, rate, (count - i - 1) / rate);
    }
  }
  const Json coco = {
      {"info", {{"description", "fashion-" + design.name + " (cpsd demo dataset) " + split}}},
      {"images", images},
      {"annotations", annotations},
      {"categories", categories}};
  write_file_atomically(dir / "annotations" / ("instances_" + split + ".json"), coco.dump());
}

}  // namespace

namespace {

FashionScenesDesign with_classes(FashionScenesDesign d) {
  d.types = {"tshirt", "trouser", "pullover", "dress", "coat",
             "sandal", "shirt",   "sneaker",  "bag",   "boot"};
  for (const std::string& tint : d.tints) {
    for (const std::string& type : d.types) d.class_names.push_back(tint + "_" + type);
  }
  return d;
}

FashionScenesDesign scenes_design() {
  FashionScenesDesign d;
  d.name = "scenes";
  d.tints = {"red", "green", "blue"};
  d.tint_rgb = {{{225, 60, 50}}, {{60, 195, 80}}, {{70, 110, 235}}};
  d.tint_popularity = {0.5, 0.3, 0.2};
  d.outfits = {{"street", {0, 1, 7}}, {"summer", {3, 5, 8}}, {"winter", {4, 2, 9}},
               {"office", {6, 1, 8}}, {"party", {3, 9, 8}},  {"lounge", {2, 1, 5}}};
  d.outfit_popularity = {0.30, 0.22, 0.17, 0.13, 0.10, 0.08};
  d.never_together = {{5, 9}, {3, 1}, {4, 5}};
  return with_classes(d);
}

// Another label structure for confirming what was chosen on scenes: more classes, other
// groups (sharing types across outfits), more exclusions, items less tied to a tint.
FashionScenesDesign wardrobe_design() {
  FashionScenesDesign d;
  d.name = "wardrobe";
  d.tints = {"red", "green", "blue", "yellow"};
  d.tint_rgb = {{{225, 60, 50}}, {{60, 195, 80}}, {{70, 110, 235}}, {{230, 200, 40}}};
  d.tint_popularity = {0.3, 0.3, 0.2, 0.2};
  d.outfits = {{"gym", {0, 7, 8}},     {"snow", {4, 9, 2, 1}}, {"beach", {3, 5}},
               {"work", {6, 1, 9}},    {"casual", {2, 1, 7}},  {"travel", {4, 8, 7}},
               {"evening", {3, 8, 9}}, {"home", {6, 5}}};
  d.outfit_popularity = {0.35, 0.20, 0.12, 0.10, 0.08, 0.06, 0.05, 0.04};
  d.never_together = {{5, 9}, {7, 5}, {4, 3}, {0, 4}, {7, 9}};
  d.second_outfit = 0.3;
  d.keep_item = 0.7;
  d.same_tint = 0.6;
  d.extra_item = 0.3;
  d.max_items = 6;
  d.train_images = 8000;
  return with_classes(d);
}

}  // namespace

std::vector<std::string> fashion_scenes_design_names() { return {"scenes", "wardrobe"}; }

FashionScenesDesign fashion_scenes_design(const std::string& name) {
  if (name == "scenes") return scenes_design();
  if (name == "wardrobe") return wardrobe_design();
  throw ConfigError("unknown fashion-scenes design '" + name + "': use scenes or wardrobe");
}

void make_fashion_scenes(const fs::path& out, const FashionScenesOptions& options, bool overwrite) {
  const FashionScenesDesign design = fashion_scenes_design(options.design);
  FashionScenesOptions sized = options;
  if (sized.train_images == 0) sized.train_images = design.train_images;
  if (sized.val_images == 0) sized.val_images = design.val_images;
  if (sized.train_images < 1 || sized.val_images < 1) {
    throw ConfigError("fashion-scenes needs at least one train and one val image");
  }
  if (options.canvas < 32) throw ConfigError("fashion-scenes canvas must be >= 32 pixels");
  const fs::path src = options.fashion_mnist;
  auto need = [&](const char* name) { return fashion_mnist_file(src, name); };
  const IdxImages train_images = read_idx_images(need("train-images-idx3-ubyte.gz"));
  const std::vector<uint8_t> train_labels = read_idx_labels(need("train-labels-idx1-ubyte.gz"));
  const IdxImages test_images = read_idx_images(need("t10k-images-idx3-ubyte.gz"));
  const std::vector<uint8_t> test_labels = read_idx_labels(need("t10k-labels-idx1-ubyte.gz"));

  build_directory_atomically(out, overwrite, [&](const fs::path& temp) {
    make_split(temp, "train", "train", sized.train_images,
               SceneMaker(design, train_images, train_labels, options.canvas), design, sized, 1);
    make_split(temp, "val", "test", sized.val_images,
               SceneMaker(design, test_images, test_labels, options.canvas), design, sized, 2);
    Json outfits = Json::array(), never = Json::array();
    for (const auto& [name, types] : design.outfits) {
      std::vector<std::string> names;
      for (int t : types) names.push_back(design.types[t]);
      outfits.push_back({{"name", name}, {"types", names}});
    }
    for (const auto& [a, b] : design.never_together)
      never.push_back({design.types[a], design.types[b]});
    const Json info = {{"design", design.name},
                       {"classes", design.class_names},
                       {"outfits", outfits},
                       {"never_together", never},
                       {"seed", options.seed},
                       {"canvas", options.canvas},
                       {"train_images", sized.train_images},
                       {"val_images", sized.val_images}};
    write_file_atomically(temp / "design.json", json_text(info));
  });
}

}  // namespace cpsd::data
