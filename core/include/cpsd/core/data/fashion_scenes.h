// SPDX-License-Identifier: Apache-2.0
// fashion-scenes: the built-in demo dataset, made of real Fashion-MNIST pixels.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cpsd/core/export.h"

namespace cpsd::data {

/// Each image is a small RGB canvas holding several tinted Fashion-MNIST items; a label is
/// an item type in a colour tint ("red_dress"). Images are composed from "outfits" (types
/// that usually appear together, mostly in one tint), so labels co-occur in blocks; some
/// pairs of types never meet; outfits and tints have skewed popularity, giving long-tailed
/// class frequencies; bags and sandals are drawn small and items may overlap, so context
/// helps. Train images use Fashion-MNIST's training items only, validation images its test
/// items. The design says which structure:
///   scenes (the demo's): 3 tints x 10 types = 30 classes, 6 outfits of 3 types, 3 exclusions,
///     tints and outfits strongly coherent;
///   wardrobe: 4 tints x 10 types = 40 classes, 8 outfits of 2 to 4 types that share types,
///     5 exclusions, a steeper outfit but flatter tint profile, weaker tint coherence and more
///     items per image.
struct FashionScenesDesign {
  std::string name;
  std::vector<std::string> types;  ///< 10 item types, in Fashion-MNIST label order
  std::vector<std::string> tints;
  std::vector<std::array<double, 3>> tint_rgb;                    ///< per tint, 0..255
  std::vector<double> tint_popularity;                            ///< per tint, relative
  std::vector<std::string> class_names;                           ///< tint_type, tint-major
  std::vector<std::pair<std::string, std::vector<int>>> outfits;  ///< name, types
  std::vector<double> outfit_popularity;                          ///< per outfit, relative
  std::vector<std::pair<int, int>> never_together;                ///< pairs of types
  double second_outfit = 0.2;  ///< chance of an image holding two outfits
  double keep_item = 0.75;     ///< chance of each of an outfit's types appearing
  double same_tint = 0.85;     ///< chance of an item taking its outfit's tint
  double extra_item = 0.2;     ///< chance of one more item of any type and tint
  int max_items = 5;
  int64_t train_images = 6000, val_images = 2000;  ///< default sizes
};
/// The designs by name: "scenes", "wardrobe". ConfigError naming them for another name.
CPSD_CORE_API FashionScenesDesign fashion_scenes_design(const std::string& name = "scenes");
CPSD_CORE_API std::vector<std::string> fashion_scenes_design_names();

struct FashionScenesOptions {
  std::filesystem::path fashion_mnist = "/usr/share/datasets/fashion-mnist";
  std::string design = "scenes";
  int64_t train_images = 0;  ///< 0 = the design's default
  int64_t val_images = 0;    ///< 0 = the design's default
  int canvas = 64;           ///< side in pixels
  uint64_t seed = 0;
  int jpeg_quality = 92;
};

/// Writes DIR/{train,val}/*.jpg, DIR/annotations/instances_{train,val}.json (COCO format,
/// each annotation also records its Fashion-MNIST split and index) and DIR/design.json.
/// Builds in a temporary directory renamed to `out` at the end, so an interrupted run
/// leaves nothing behind. Throws ConfigError if `out` exists (unless overwrite) or the
/// Fashion-MNIST files are missing.
CPSD_CORE_API void make_fashion_scenes(const std::filesystem::path& out,
                                       const FashionScenesOptions& options, bool overwrite = false);

/// fashion-items: single-label pretraining data for the demo's backbones, as ImageNet is for
/// the paper's. Each Fashion-MNIST *training* item is drawn once on a canvas like the
/// scenes' (noise background, the scenes' item sizes, a random place) in a random colour
/// (any hue, not only the scenes' three tints); its label is the item type (10 classes).
/// The test items, which the scenes' validation images are made of, are never used.
struct FashionItemsOptions {
  std::filesystem::path fashion_mnist = "/usr/share/datasets/fashion-mnist";
  int64_t val_items = 5000;  ///< the last items of the training file go to val/
  int64_t train_items = 0;   ///< items before those for train/ (0 = all of them)
  int canvas = 64;
  uint64_t seed = 0;
  int jpeg_quality = 92;
};

/// Writes DIR/{train,val}/<type>/<index>.jpg (a `folder` dataset; index = the item's
/// position in Fashion-MNIST's training file) and DIR/items.json. Same temp-then-rename and
/// errors as make_fashion_scenes.
CPSD_CORE_API void make_fashion_items(const std::filesystem::path& out,
                                      const FashionItemsOptions& options, bool overwrite = false);

}  // namespace cpsd::data
