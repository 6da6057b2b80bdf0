// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/data/dataset_config.h"

#include <cmath>
#include <numeric>
#include <random>

#include "cpsd/core/data/readers.h"
#include "cpsd/core/distributed.h"
#include "cpsd/sdk/error.h"

namespace cpsd::data {
namespace {

// A path option: relative to data.root when that is set, else to the file that wrote it.
fs::path resolve(const fs::path& root, const Options& options, const char* key) {
  const std::string value = options.get_string(key);
  if (value.empty()) return {};
  if (!root.empty() && !fs::path(value).is_absolute()) return root / value;
  return path_option(options, key);
}

}  // namespace

const char* split_name(Split split) {
  switch (split) {
    case Split::train:
      return "train";
    case Split::holdout:
      return "holdout";
    case Split::val:
      break;
  }
  return "val";
}

std::vector<bool> holdout_samples(int64_t n, double fraction, uint64_t seed) {
  std::vector<int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed ^ 0x686f6c646f7574ull);  // its own stream: "holdout"
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(order[static_cast<std::size_t>(i)],
              order[static_cast<std::size_t>(std::uniform_int_distribution<int64_t>(0, i)(rng))]);
  }
  const auto count = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(n)));
  std::vector<bool> held(static_cast<std::size_t>(n), false);
  for (std::size_t i = 0; i < count; ++i) held[static_cast<std::size_t>(order[i])] = true;
  return held;
}

namespace {

// Training images minus the held-out share, or the held-out share; order kept.
Dataset split_off_holdout(Dataset all, const RunConfig& config, Split split) {
  const Options data = config.section("data");
  const double fraction = data.get_double("holdout");
  if (fraction < 0 || fraction >= 0.5) data.fail("holdout", "must be in [0, 0.5) (0 = off)");
  if (split == Split::holdout && fraction == 0) {
    data.fail("holdout", "is 0, so there are no held-out training images (set e.g. 0.1)");
  }
  if (fraction == 0) return all;
  const std::vector<bool> held =
      holdout_samples(static_cast<int64_t>(all.samples.size()), fraction,
                      static_cast<uint64_t>(config.section("runtime").get_int("seed")));
  std::vector<Sample> kept;
  for (std::size_t i = 0; i < all.samples.size(); ++i) {
    if (held[i] == (split == Split::holdout)) kept.push_back(std::move(all.samples[i]));
  }
  if (kept.empty())
    data.fail("holdout", "leaves no images in the " + std::string(split_name(split)) + " part");
  all.samples = std::move(kept);
  return all;
}

Dataset read_split(const RunConfig& config, Split split);

}  // namespace

Dataset load_dataset(const RunConfig& config, Split split) {
  if (split == Split::val) return read_split(config, split);
  return split_off_holdout(read_split(config, Split::train), config, split);
}

namespace {

Dataset read_split(const RunConfig& config, Split split) {
  const Options data = config.section("data");
  const Options part = data.get_table(split_name(split));
  const fs::path root = path_option(data, "root");
  if (part.get_string("annotations").empty()) {
    part.fail("annotations", std::string("not set: the ") + split_name(split) +
                                 " split needs its annotations (a file or directory)");
  }
  const fs::path annotations = resolve(root, part, "annotations");
  const fs::path images = resolve(root, part, "images");
  const fs::path classes = resolve(root, data, "classes");
  const std::string format = data.get_string("format");
  if (format == "coco") {
    CocoOptions o;
    const std::string order = data.get_string("class_order");
    if (order != "id" && order != "name") data.fail("class_order", "must be \"id\" or \"name\"");
    o.order_by_name = order == "name";
    o.keep_empty = data.get_bool("keep_empty");
    return read_coco(annotations, images, o);
  }
  if (format == "nuswide")
    return read_nuswide(annotations, images, part.get_string("split"), classes);
  if (format == "voc") {
    const std::string d = data.get_string("difficult");
    Difficult difficult = Difficult::ignore;
    if (d == "positive") {
      difficult = Difficult::positive;
    } else if (d == "negative") {
      difficult = Difficult::negative;
    } else if (d != "ignore") {
      data.fail("difficult", "must be \"ignore\", \"positive\" or \"negative\"");
    }
    return read_voc(annotations, images.empty() ? annotations / "JPEGImages" : images,
                    part.get_string("split"), difficult);
  }
  if (format == "csv") return read_label_csv(annotations, images, classes);
  if (format == "folder") return read_image_folder(annotations, classes);
  data.fail("format", "unknown format '" + format + "': use coco, nuswide, voc, csv or folder");
}

}  // namespace

PipelineOptions pipeline_options(const RunConfig& config, bool train) {
  const Options data = config.section("data");
  PipelineOptions o;
  o.image_size = data.get_int("image_size");
  if (o.image_size < 8) data.fail("image_size", "must be >= 8 pixels");
  const std::string resize = data.get_string("resize");
  if (resize == "pad") {
    o.resize = ResizeMode::pad;
  } else if (resize != "squash") {
    data.fail("resize", "must be \"squash\" or \"pad\"");
  }
  const std::string normalize = data.get_string("normalize");
  if (normalize == "imagenet") {
    o.normalization = Normalization::imagenet;
  } else if (normalize != "none") {
    data.fail("normalize", "must be \"none\" or \"imagenet\"");
  }
  o.fast_decode = data.get_bool("fast_decode");
  if (train) {
    const Options augment = config.section("augment");
    o.flip = augment.get_bool("flip");
    o.cutout = augment.get_double("cutout");
    if (o.cutout < 0 || o.cutout > 1) augment.fail("cutout", "must be in [0, 1]");
    o.randaugment = augment.get_bool("randaugment");
  }
  return o;
}

LoaderOptions loader_options(const RunConfig& config, bool train, int64_t batch_size) {
  const Options data = config.section("data");
  LoaderOptions o;
  o.batch_size = batch_size;
  o.workers = static_cast<int>(data.get_int("workers"));
  if (o.workers < 0) data.fail("workers", "must be >= 0 (0 = all cores)");
  o.prefetch = static_cast<int>(data.get_int("prefetch"));
  if (o.prefetch < 1) data.fail("prefetch", "must be >= 1");
  o.shuffle = train;
  o.even_shards = train;
  o.seed = static_cast<uint64_t>(config.section("runtime").get_int("seed"));
  const std::string policy = data.get_string("on_bad_image");
  if (policy != "fail" && policy != "skip")
    data.fail("on_bad_image", "must be \"fail\" or \"skip\"");
  o.skip_bad_images = policy == "skip";
  o.max_bad_images = data.get_int("max_bad_images");
  if (const Distributed* group = distributed()) {
    o.rank = group->rank();
    o.world_size = group->world_size();
  }
  return o;
}

std::unique_ptr<DataLoader> make_loader(const RunConfig& config,
                                        std::shared_ptr<const Dataset> dataset, bool train,
                                        int64_t batch_size) {
  return std::make_unique<DataLoader>(std::move(dataset),
                                      ImagePipeline(pipeline_options(config, train)),
                                      loader_options(config, train, batch_size));
}

}  // namespace cpsd::data
