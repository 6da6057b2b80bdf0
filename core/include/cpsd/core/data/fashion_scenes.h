// SPDX-License-Identifier: Apache-2.0
// fashion-scenes: the built-in demo dataset, made of real Fashion-MNIST pixels.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cpsd/core/export.h"

namespace cpsd::data {

/// Each image is a small RGB canvas holding several tinted Fashion-MNIST items; a label is
/// an item type in a colour tint ("red_dress"): 10 types x 3 tints = 30 classes. Images are
/// composed from "outfits" (types that usually appear together, in one dominant tint), so
/// labels co-occur in blocks; some pairs never meet (sandal/boot, dress/trouser,
/// coat/sandal); outfits and tints have skewed popularity, giving long-tailed class
/// frequencies; bags and sandals are drawn small and items may overlap, so context helps.
/// Train images use Fashion-MNIST's training items only, validation images its test items.
struct FashionScenesOptions {
  std::filesystem::path fashion_mnist = "/usr/share/datasets/fashion-mnist";
  int64_t train_images = 6000;
  int64_t val_images = 2000;
  int canvas = 64;          ///< side in pixels
  uint64_t seed = 0;
  int jpeg_quality = 92;
};

/// The design, for documentation and tests.
struct FashionScenesDesign {
  std::vector<std::string> types;   ///< 10 item types, in Fashion-MNIST label order
  std::vector<std::string> tints;   ///< 3 tints
  std::vector<std::string> class_names;  ///< tint_type, tint-major
  std::vector<std::pair<std::string, std::vector<int>>> outfits;  ///< name, types
  std::vector<std::pair<int, int>> never_together;                ///< pairs of types
};
CPSD_CORE_API FashionScenesDesign fashion_scenes_design();

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
  int64_t val_items = 5000;    ///< the last items of the training file go to val/
  int64_t train_items = 0;     ///< items before those for train/ (0 = all of them)
  int canvas = 64;
  uint64_t seed = 0;
  int jpeg_quality = 92;
};

/// Writes DIR/{train,val}/<type>/<index>.jpg (a `folder` dataset; index = the item's
/// position in Fashion-MNIST's training file) and DIR/items.json. Same temp-then-rename and
/// errors as make_fashion_scenes.
CPSD_CORE_API void make_fashion_items(const std::filesystem::path& out, const FashionItemsOptions& options,
                                      bool overwrite = false);

}  // namespace cpsd::data
