// SPDX-License-Identifier: Apache-2.0
// `cpsd data check|stats|make-fashion-scenes|bench`.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli.h"
#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/data/fashion_scenes.h"
#include "cpsd/core/label_statistics_io.h"
#include "cpsd/core/log.h"
#include "cpsd/core/progress.h"
#include "cpsd/sdk/error.h"

namespace cpsd::cli {
namespace {

// Where the dataset comes from: a run config, or the format's paths given directly (they
// are shorthands for --set data.* overrides).
struct Source {
  std::string config;
  std::string format, annotations, images, classes, split;
  std::vector<std::string> overrides;

  void add_options(po::options_description& o) {
    o.add_options()("config", po::value(&config),
                    "run config whose [data] section describes the dataset")(
        "format", po::value(&format), "coco | nuswide | voc | csv (= --set data.format=...)")(
        "annotations", po::value(&annotations), "annotations file or directory of the train split")(
        "images", po::value(&images), "image directory of the train split")(
        "classes", po::value(&classes), "class list file (csv; optional for nuswide)")(
        "split", po::value(&split), "nuswide Train|Test, voc train|val|trainval|test")(
        "set", po::value(&overrides)->composing(), "override a config key (repeatable)");
  }

  RunConfig load(const Registry& registry) const {
    std::vector<std::string> all = overrides;
    auto add = [&all](const std::string& key, const std::string& value) {
      if (!value.empty()) all.push_back(key + "=" + value);
    };
    add("data.format", format);
    add("data.train.annotations", annotations);
    add("data.train.images", images);
    add("data.classes", classes);
    add("data.train.split", split);
    if (config.empty()) {
      if (annotations.empty()) {
        throw ConfigError("give --config RUN.toml, or --format with --annotations (and --images)");
      }
      return RunConfig::parse("", "command line", all, registry);
    }
    return RunConfig::load(config, all, registry);
  }
};

void print_dataset_summary(const data::Dataset& d) {
  const auto m = static_cast<std::size_t>(d.num_classes());
  std::vector<int64_t> frequency(m, 0);
  std::size_t total = 0, most = 0, least = SIZE_MAX, empty = 0;
  for (const data::Sample& s : d.samples) {
    for (int64_t l : s.labels) ++frequency[l];
    total += s.labels.size();
    most = std::max(most, s.labels.size());
    least = std::min(least, s.labels.size());
    empty += s.labels.empty();
  }
  const double n = static_cast<double>(std::max<std::size_t>(d.samples.size(), 1));
  std::printf("%s: %zu images, %zu classes\n", d.name.c_str(), d.samples.size(), m);
  std::printf("labels per image: mean %.2f, min %zu, max %zu; images without labels: %zu\n",
              total / n, d.samples.empty() ? 0 : least, most, empty);
  std::vector<std::size_t> order(m);
  for (std::size_t c = 0; c < m; ++c) order[c] = c;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return frequency[a] > frequency[b]; });
  std::printf("class frequencies (images with the class):\n");
  for (std::size_t c : order) {
    std::printf("  %-28s %8lld  %5.1f%%\n", d.class_names[c].c_str(),
                static_cast<long long>(frequency[c]), 100.0 * frequency[c] / n);
  }
}

// Decodes every image with the eval pipeline on all workers; returns unusable files.
std::vector<std::string> check_files(const data::Dataset& d, const data::PipelineOptions& options,
                                     int workers) {
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex mutex;
  std::vector<std::string> bad;
  data::ImagePipeline pipeline(options);
  const int64_t s = options.image_size;
  auto work = [&] {
    std::vector<float> buffer(static_cast<std::size_t>(3 * s * s));
    for (std::size_t i; (i = next++) < d.samples.size(); ++done) {
      data::Rng rng(0);
      try {
        pipeline.load(d.samples[i].path, rng, buffer.data());
      } catch (const data::BadImage& e) {
        std::lock_guard<std::mutex> lock(mutex);
        bad.push_back(e.what());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) threads.emplace_back(work);
  Progress progress("checking images", d.samples.size());
  while (done < d.samples.size()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    progress.update(done);
  }
  for (auto& t : threads) t.join();
  progress.finish();
  std::sort(bad.begin(), bad.end());
  return bad;
}

int data_check(const Source& source, const std::string& splits, bool decode,
               const Registry& registry) {
  const RunConfig config = source.load(registry);
  std::vector<data::Split> wanted;
  if (splits == "train" || splits == "both") wanted.push_back(data::Split::train);
  if (splits == "val" || splits == "both") wanted.push_back(data::Split::val);
  if (wanted.empty()) throw ConfigError("cpsd data check: --split must be train, val or both");
  if (source.config.empty() && splits == "both") wanted = {data::Split::train};
  const data::LoaderOptions loader = data::loader_options(config, false, 1);
  const int workers =
      loader.workers > 0 ? loader.workers : static_cast<int>(std::thread::hardware_concurrency());
  bool usable = true;
  std::vector<std::string> names;
  for (data::Split split : wanted) {
    const data::Dataset d = data::load_dataset(config, split);
    std::printf("== %s split ==\n", data::split_name(split));
    print_dataset_summary(d);
    if (!names.empty() && names != d.class_names) {
      std::printf("PROBLEM: the val split's classes differ from the train split's\n");
      usable = false;
    }
    names = d.class_names;
    if (d.samples.empty()) {
      std::printf("PROBLEM: no images\n");
      usable = false;
      continue;
    }
    std::vector<std::string> bad;
    if (decode) {
      bad = check_files(d, data::pipeline_options(config, false), std::max(1, workers));
    } else {
      for (const data::Sample& s : d.samples) {
        if (!std::filesystem::exists(s.path)) bad.push_back(s.path + ": missing");
      }
    }
    std::printf("files: %zu checked, %zu unusable\n", d.samples.size(), bad.size());
    for (std::size_t i = 0; i < bad.size() && i < 20; ++i) std::printf("  %s\n", bad[i].c_str());
    if (bad.size() > 20) std::printf("  ... and %zu more\n", bad.size() - 20);
    if (!bad.empty() &&
        (!loader.skip_bad_images || static_cast<int64_t>(bad.size()) > loader.max_bad_images)) {
      std::printf(
          "PROBLEM: unusable images (fix them, or set data.on_bad_image = \"skip\" to skip up to "
          "data.max_bad_images of them)\n");
      usable = false;
    }
  }
  std::printf("%s\n", usable ? "dataset is usable" : "dataset is NOT usable");
  return usable ? 0 : 1;
}

int data_bench(const Source& source, int64_t batch_size, int64_t batches,
               const Registry& registry) {
  const RunConfig config = source.load(registry);
  auto dataset =
      std::make_shared<const data::Dataset>(data::load_dataset(config, data::Split::train));
  auto loader = data::make_loader(config, dataset, true, batch_size);
  const auto start = std::chrono::steady_clock::now();
  int64_t images = 0, done = 0;
  for (int64_t epoch = 0; done < batches; ++epoch) {
    loader->start_epoch(epoch);
    while (done < batches) {
      auto batch = loader->next();
      if (!batch) break;
      images += batch->images.size(0);
      ++done;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%lld batches, %lld images in %.2f s: %.1f images/s\n", static_cast<long long>(done),
              static_cast<long long>(images), seconds, images / seconds);
  return 0;
}

}  // namespace

int run_data(const std::vector<std::string>& args, Context& context) {
  Source source;
  std::string action, out, splits = "both", fashion_mnist, design = "scenes";
  bool no_decode = false, overwrite = false;
  int64_t seed = 0, train_images = 0, val_images = 0, canvas = 64, batch_size = 32, batches = 50;
  int64_t val_items = 5000;
  CommandLine cli("data", "check|stats|make-fashion-scenes|make-fashion-items|bench [options]");
  cli.positional("action", &action,
                 "check | stats | make-fashion-scenes | make-fashion-items | bench");
  source.add_options(cli.options());
  cli.add()("out", po::value(&out), "stats: statistics JSON to write; make-fashion-*: directory")(
      "check-split", po::value(&splits), "check: train | val | both (default)")(
      "no-decode", po::bool_switch(&no_decode), "check: only test that files exist")(
      "seed", po::value(&seed), "make-fashion-*: seed")(
      "design", po::value(&design),
      "make-fashion-scenes: scenes (30 classes, the demo's) | wardrobe (40 classes, another label "
      "structure)")("train-images", po::value(&train_images),
                    "make-fashion-scenes: training images (scenes 6000, wardrobe 8000); "
                    "make-fashion-items: at most this many")(
      "val-images", po::value(&val_images), "make-fashion-scenes: validation images (2000)")(
      "val-items", po::value(&val_items),
      "make-fashion-items: last training items held out for val/ (5000)")(
      "canvas", po::value(&canvas), "make-fashion-*: image side in pixels (64)")(
      "fashion-mnist", po::value(&fashion_mnist), "make-fashion-*: Fashion-MNIST IDX directory")(
      "overwrite", po::bool_switch(&overwrite), "make-fashion-*: replace an existing --out")(
      "batch-size", po::value(&batch_size), "bench: batch size (32)")(
      "batches", po::value(&batches), "bench: batches to time (50)");
  if (!cli.parse(args)) return 0;
  if (action == "make-fashion-scenes") {
    if (!cli.common.log_level.empty()) log::force_level(cli.common.log_level);
    if (out.empty()) throw ConfigError("cpsd data make-fashion-scenes: missing --out DIR");
    data::FashionScenesOptions o;
    if (!fashion_mnist.empty()) o.fashion_mnist = fashion_mnist;
    if (seed < 0) throw ConfigError("cpsd data make-fashion-scenes: --seed must be >= 0");
    o.seed = static_cast<uint64_t>(seed);
    if (train_images < 0 || val_images < 0)
      throw ConfigError("cpsd data make-fashion-scenes: image counts must be >= 1");
    o.design = design;
    const data::FashionScenesDesign d = data::fashion_scenes_design(design);
    o.train_images = train_images > 0 ? train_images : d.train_images;
    o.val_images = val_images > 0 ? val_images : d.val_images;
    o.canvas = static_cast<int>(canvas);
    const auto start = std::chrono::steady_clock::now();
    data::make_fashion_scenes(out, o, overwrite);
    std::printf("wrote fashion-%s to %s (%lld train, %lld val images, %zu classes) in %.1f s\n",
                design.c_str(), out.c_str(), static_cast<long long>(o.train_images),
                static_cast<long long>(o.val_images), d.class_names.size(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
  }
  if (action == "make-fashion-items") {
    if (!cli.common.log_level.empty()) log::force_level(cli.common.log_level);
    if (out.empty()) throw ConfigError("cpsd data make-fashion-items: missing --out DIR");
    if (seed < 0) throw ConfigError("cpsd data make-fashion-items: --seed must be >= 0");
    data::FashionItemsOptions o;
    if (!fashion_mnist.empty()) o.fashion_mnist = fashion_mnist;
    o.seed = static_cast<uint64_t>(seed);
    o.val_items = val_items;
    if (cli.given("train-images")) o.train_items = train_images;
    o.canvas = static_cast<int>(canvas);
    const auto start = std::chrono::steady_clock::now();
    data::make_fashion_items(out, o, overwrite);
    std::printf("wrote fashion-items to %s in %.1f s\n", out.c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
  }
  const Registry& registry = context.plugins(cli.common).registry();
  if (action == "check") return data_check(source, splits, !no_decode, registry);
  if (action == "stats") {
    if (out.empty()) throw ConfigError("cpsd data stats: missing --out stats.json");
    const RunConfig config = source.load(registry);
    const LabelStatistics stats =
        data::dataset_statistics(data::load_dataset(config, data::Split::train));
    write_statistics(stats, out);
    std::printf("wrote %s: %lld images, %lld classes (%s)\n", out.c_str(),
                static_cast<long long>(stats.num_images),
                static_cast<long long>(stats.num_classes()), statistics_hash(stats).c_str());
    return 0;
  }
  if (action == "bench") return data_bench(source, batch_size, batches, registry);
  throw ConfigError(
      "cpsd data: expected check, stats, make-fashion-scenes, make-fashion-items or bench" +
      (action.empty() ? std::string() : ", got '" + action + "'"));
}

}  // namespace cpsd::cli
