// SPDX-License-Identifier: Apache-2.0
// Decoding, resizing, augmentation and the loader on real image files written here.
#include <gtest/gtest.h>

#include <set>

#include <ATen/ATen.h>
#include <opencv2/imgproc.hpp>

#include "augment.h"
#include "cpsd/core/data/image_pipeline.h"
#include "cpsd/core/data/loader.h"
#include "cpsd/core/image_codec.h"
#include "test_support.h"

namespace cpsd::data {
namespace {

// A w x h image: red left half, blue right half (RGB), with a gradient for texture.
void write_image(const std::filesystem::path& path, int w, int h) {
  cv::Mat bgr(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const auto g = static_cast<uchar>((x + y) % 256);
      bgr.at<cv::Vec3b>(y, x) = x < w / 2 ? cv::Vec3b(0, g, 255) : cv::Vec3b(255, g, 0);
    }
  }
  std::filesystem::create_directories(path.parent_path());
  if (path.extension() == ".jpg") {
    image::write_jpeg(path, bgr, image::Order::bgr, 95);
  } else {
    image::write_png(path, bgr, image::Order::bgr);
  }
}

std::vector<float> load(const ImagePipeline& p, const std::string& path, uint64_t seed) {
  const int64_t s = p.options().image_size;
  std::vector<float> out(static_cast<std::size_t>(3 * s * s));
  Rng rng(seed);
  p.load(path, rng, out.data());
  return out;
}

TEST(ImagePipeline, DecodesResizesAndConverts) {
  test::TempDir tmp;
  write_image(tmp / "a.png", 40, 20);
  PipelineOptions o;
  o.image_size = 16;
  const std::vector<float> x = load(ImagePipeline(o), (tmp / "a.png").string(), 0);
  // Channel-major RGB in [0, 1]: left half red, right half blue.
  const int s = 16, plane = s * s;
  EXPECT_NEAR(x[0 * plane + 5 * s + 1], 1.0f, 1e-6);   // R, left
  EXPECT_NEAR(x[2 * plane + 5 * s + 1], 0.0f, 1e-6);   // B, left
  EXPECT_NEAR(x[2 * plane + 5 * s + 14], 1.0f, 1e-6);  // B, right
  o.normalization = Normalization::imagenet;
  const std::vector<float> n = load(ImagePipeline(o), (tmp / "a.png").string(), 0);
  EXPECT_NEAR(n[0 * plane + 5 * s + 1], (1.0f - 0.485f) / 0.229f, 1e-4);
}

TEST(ImagePipeline, PadKeepsTheAspect) {
  test::TempDir tmp;
  write_image(tmp / "wide.png", 40, 20);
  PipelineOptions o;
  o.image_size = 20;
  o.resize = ResizeMode::pad;
  const std::vector<float> x = load(ImagePipeline(o), (tmp / "wide.png").string(), 0);
  const int s = 20, plane = s * s;
  // 40x20 -> 20x10 centred: rows 0-4 and 15-19 are black padding.
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(x[c * plane + 2 * s + 3], 0.0f);
    EXPECT_EQ(x[c * plane + 17 * s + 3], 0.0f);
  }
  EXPECT_NEAR(x[0 * plane + 10 * s + 3], 1.0f, 1e-6);
}

TEST(ImagePipeline, BadFilesAreNamedNeverZeroImages) {
  test::TempDir tmp;
  write_image(tmp / "ok.jpg", 64, 48);
  const std::string bytes = test::read_file(tmp / "ok.jpg");
  test::write_file(tmp / "truncated.jpg", bytes.substr(0, bytes.size() / 2));
  test::write_file(tmp / "text.jpg", "this is not an image");
  test::write_file(tmp / "empty.png", "");
  const ImagePipeline p(PipelineOptions{});
  auto what = [&](const char* name) {
    try {
      load(p, (tmp / name).string(), 0);
    } catch (const BadImage& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(what("truncated.jpg").find("truncated.jpg: truncated JPEG"), std::string::npos);
  EXPECT_NE(what("text.jpg").find("text.jpg: not a JPEG or PNG file"), std::string::npos);
  EXPECT_NE(what("empty.png").find("empty file"), std::string::npos);
  EXPECT_NE(what("missing.jpg").find("missing.jpg: cannot open"), std::string::npos);
  EXPECT_EQ(what("ok.jpg"), "no error");
}

TEST(ImagePipeline, FastDecodeMatchesFullDecodeClosely) {
  test::TempDir tmp;
  write_image(tmp / "big.jpg", 640, 480);
  PipelineOptions o;
  o.image_size = 112;
  const std::vector<float> fast = load(ImagePipeline(o), (tmp / "big.jpg").string(), 0);
  o.fast_decode = false;
  const std::vector<float> full = load(ImagePipeline(o), (tmp / "big.jpg").string(), 0);
  double diff = 0;
  for (std::size_t i = 0; i < fast.size(); ++i) diff += std::abs(fast[i] - full[i]);
  EXPECT_LT(diff / fast.size(), 0.02);
}

TEST(Augment, DeterministicForASeedAndDifferentAcrossSeeds) {
  test::TempDir tmp;
  write_image(tmp / "a.png", 48, 48);
  PipelineOptions o;
  o.image_size = 32;
  o.flip = true;
  o.cutout = 0.5;
  o.randaugment = true;
  const ImagePipeline p(o);
  const std::string path = (tmp / "a.png").string();
  EXPECT_EQ(load(p, path, 7), load(p, path, 7));
  std::set<std::vector<float>> distinct;
  for (uint64_t seed = 0; seed < 6; ++seed) distinct.insert(load(p, path, seed));
  EXPECT_GE(distinct.size(), 5u);
}

TEST(Augment, EveryRandAugmentOpKeepsSizeAndChangesSomething) {
  // Texture (not a smooth gradient, which the sharpness filter would leave unchanged).
  cv::Mat base(32, 32, CV_8UC3);
  Rng pixels(0);
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) {
      base.at<cv::Vec3b>(y, x) = cv::Vec3b(pixels() % 200 + 20, y * 8, 200 - x * 3);
    }
  }
  for (int op = 0; op < augment::kNumOps; ++op) {
    cv::Mat img = base.clone();
    Rng rng(1);
    augment::apply(static_cast<augment::Op>(op), 9, img, rng);
    EXPECT_EQ(img.size(), base.size()) << "op " << op;
    EXPECT_EQ(img.type(), CV_8UC3) << "op " << op;
    EXPECT_GT(cv::norm(img, base, cv::NORM_L1), 0.0) << "op " << op << " did nothing";
  }
  // Invert twice is the identity; solarize at magnitude 9 (threshold 0) is invert.
  cv::Mat a = base.clone(), b = base.clone();
  Rng rng(2);
  augment::apply(augment::Op::invert, 5, a, rng);
  augment::apply(augment::Op::solarize, 9, b, rng);
  EXPECT_EQ(cv::norm(a, b, cv::NORM_L1), 0.0);
}

TEST(Augment, CutoutFillsOneColouredBox) {
  cv::Mat img(40, 40, CV_8UC3, cv::Scalar(0, 0, 0));
  Rng rng(5);
  augment::cutout(img, 0.5, rng);
  int changed = 0;
  for (int y = 0; y < img.rows; ++y) {
    for (int x = 0; x < img.cols; ++x) changed += img.at<cv::Vec3b>(y, x) != cv::Vec3b(0, 0, 0);
  }
  EXPECT_GT(changed, 100);  // up to a 21 x 21 box, clipped at the border
  EXPECT_LE(changed, 21 * 21);
}

std::shared_ptr<Dataset> image_dataset(const test::TempDir& tmp, int n) {
  auto d = std::make_shared<Dataset>();
  d->class_names = {"a", "b", "c"};
  for (int i = 0; i < n; ++i) {
    const auto path = tmp / ("img" + std::to_string(i) + ".png");
    write_image(path, 20 + i, 18);
    d->samples.push_back({path.string(), {i % 3}, {}});
  }
  return d;
}

std::vector<int64_t> epoch_indices(DataLoader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<int64_t> seen;
  while (auto b = loader.next()) seen.insert(seen.end(), b->indices.begin(), b->indices.end());
  return seen;
}

TEST(DataLoader, EverySampleOncePerEpochInABatchOrderThatChangesWithTheEpoch) {
  test::TempDir tmp;
  auto d = image_dataset(tmp, 23);
  PipelineOptions po;
  po.image_size = 16;
  LoaderOptions lo;
  lo.batch_size = 5;
  lo.workers = 3;
  lo.shuffle = true;
  lo.seed = 11;
  DataLoader loader(d, ImagePipeline(po), lo);
  EXPECT_EQ(loader.num_batches(), 5);
  const auto e0 = epoch_indices(loader, 0), e1 = epoch_indices(loader, 1);
  for (const auto& e : {e0, e1}) {
    std::vector<int64_t> sorted = e;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int64_t> all(23);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(sorted, all);
  }
  EXPECT_NE(e0, e1);
  EXPECT_EQ(epoch_indices(loader, 0), e0);  // the same epoch again: the same order
}

TEST(DataLoader, BatchesDoNotDependOnTheNumberOfWorkers) {
  test::TempDir tmp;
  auto d = image_dataset(tmp, 9);
  PipelineOptions po;
  po.image_size = 16;
  po.randaugment = true;
  po.cutout = 0.5;
  po.flip = true;
  auto run = [&](int workers) {
    LoaderOptions lo;
    lo.batch_size = 4;
    lo.workers = workers;
    lo.shuffle = true;
    DataLoader loader(d, ImagePipeline(po), lo);
    loader.start_epoch(3);
    std::vector<at::Tensor> out;
    while (auto b = loader.next()) {
      EXPECT_TRUE(b->images.is_contiguous());
      EXPECT_EQ(b->targets.sum().item<float>(), static_cast<float>(b->images.size(0)));
      out.push_back(b->images);
    }
    return out;
  };
  const auto one = run(1), three = run(3);
  ASSERT_EQ(one.size(), three.size());
  for (std::size_t i = 0; i < one.size(); ++i)
    EXPECT_TRUE(at::equal(one[i], three[i])) << "batch " << i;
}

TEST(DataLoader, ShardsByRank) {
  test::TempDir tmp;
  auto d = image_dataset(tmp, 10);
  PipelineOptions po;
  po.image_size = 8;
  std::vector<int64_t> union_of_ranks;
  for (int64_t rank = 0; rank < 3; ++rank) {
    LoaderOptions lo;
    lo.batch_size = 2;
    lo.world_size = 3;
    lo.rank = rank;
    lo.even_shards = false;
    DataLoader loader(d, ImagePipeline(po), lo);
    const auto seen = epoch_indices(loader, 0);
    EXPECT_EQ(static_cast<int64_t>(seen.size()), loader.num_samples());
    union_of_ranks.insert(union_of_ranks.end(), seen.begin(), seen.end());
    lo.even_shards = true;
    DataLoader even(d, ImagePipeline(po), lo);
    EXPECT_EQ(epoch_indices(even, 0).size(), 4u);  // 10 samples padded to 12
  }
  std::sort(union_of_ranks.begin(), union_of_ranks.end());
  std::vector<int64_t> all(10);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(union_of_ranks, all);
}

TEST(DataLoader, BadImagePolicies) {
  test::TempDir tmp;
  auto d = image_dataset(tmp, 6);
  test::write_file(d->samples[2].path, "corrupt");
  PipelineOptions po;
  po.image_size = 8;
  LoaderOptions lo;
  lo.batch_size = 4;
  {
    DataLoader loader(d, ImagePipeline(po), lo);
    loader.start_epoch(0);
    try {
      while (loader.next()) {
      }
      FAIL() << "expected BadImage";
    } catch (const BadImage& e) {
      EXPECT_NE(std::string(e.what()).find("img2.png"), std::string::npos);
      EXPECT_NE(std::string(e.what()).find("on_bad_image"), std::string::npos);
    }
  }
  lo.skip_bad_images = true;
  {
    DataLoader loader(d, ImagePipeline(po), lo);
    const auto seen = epoch_indices(loader, 0);
    EXPECT_EQ(seen.size(), 5u);
    EXPECT_EQ(loader.bad_images(), 1);
  }
  lo.max_bad_images = 0;
  DataLoader capped(d, ImagePipeline(po), lo);
  EXPECT_THROW(epoch_indices(capped, 0), BadImage);
}

}  // namespace
}  // namespace cpsd::data
