// SPDX-License-Identifier: Apache-2.0
// The demo generator: classes, label structure and split disjointness, read back through
// the COCO reader like any dataset.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "cpsd/core/data/dataset.h"
#include "cpsd/core/data/fashion_scenes.h"
#include "cpsd/core/data/readers.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd::data {
namespace {

class FashionScenes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    FashionScenesOptions o;
    o.train_images = 1500;
    o.val_images = 300;
    o.seed = 3;
    make_fashion_scenes(dir_->path() / "fs", o);
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path root() { return dir_->path() / "fs"; }
  static test::TempDir* dir_;
};
test::TempDir* FashionScenes::dir_ = nullptr;

TEST_F(FashionScenes, LoadsThroughTheCocoReaderWithItsStructure) {
  const Dataset d = read_coco(root() / "annotations" / "instances_train.json", root() / "train", {});
  const FashionScenesDesign design = fashion_scenes_design();
  ASSERT_EQ(d.class_names, design.class_names);
  EXPECT_GE(d.num_classes(), 24);
  ASSERT_EQ(d.samples.size(), 1500u);
  EXPECT_TRUE(std::filesystem::exists(d.samples[0].path));
  const LabelStatistics s = dataset_statistics(d);
  double labels = 0;
  for (const Sample& x : d.samples) labels += x.labels.size();
  EXPECT_GE(labels / 1500, 2.0);
  EXPECT_LE(labels / 1500, 4.0);
  // Long tail: the most frequent class is several times the least frequent.
  const auto [lo, hi] = std::minmax_element(s.counts.begin(), s.counts.end());
  EXPECT_GT(*hi / std::max(*lo, 1.0), 3.0);
  // Never-together types never co-occur, in any tints.
  const int64_t m = d.num_classes();
  for (const auto& [a, b] : design.never_together) {
    for (int ta = 0; ta < 3; ++ta) {
      for (int tb = 0; tb < 3; ++tb) {
        EXPECT_EQ(s.cooccurrence[(ta * 10 + a) * m + (tb * 10 + b)], 0.0)
            << design.class_names[ta * 10 + a] << " with " << design.class_names[tb * 10 + b];
      }
    }
  }
  // Outfit items in one tint co-occur far above chance (red t-shirt with red trousers).
  const double n = 1500, tshirt = s.counts[0], trouser = s.counts[1];
  EXPECT_GT(s.cooccurrence[0 * m + 1], 2.0 * tshirt * trouser / n);
}

TEST_F(FashionScenes, TrainAndValUseDisjointFashionMnistItems) {
  auto sources = [&](const char* split) {
    std::set<std::string> out;
    std::ifstream in(root() / "annotations" / (std::string("instances_") + split + ".json"));
    const auto j = nlohmann::json::parse(in);
    for (const auto& a : j["annotations"]) out.insert(a["fashion_mnist"]["split"].get<std::string>());
    return out;
  };
  EXPECT_EQ(sources("train"), std::set<std::string>{"train"});
  EXPECT_EQ(sources("val"), std::set<std::string>{"test"});
}

TEST_F(FashionScenes, DeterministicAndRefusesToOverwrite) {
  FashionScenesOptions o;
  o.train_images = 20;
  o.val_images = 5;
  o.seed = 3;
  make_fashion_scenes(dir_->path() / "again", o);
  EXPECT_THROW(make_fashion_scenes(dir_->path() / "again", o), ConfigError);
  make_fashion_scenes(dir_->path() / "again", o, true);
  EXPECT_EQ(test::read_file(dir_->path() / "again" / "train" / "000007.jpg"),
            test::read_file(dir_->path() / "again" / "train" / "000007.jpg"));
  const std::string first = test::read_file(dir_->path() / "again" / "annotations" / "instances_train.json");
  make_fashion_scenes(dir_->path() / "again", o, true);
  EXPECT_EQ(test::read_file(dir_->path() / "again" / "annotations" / "instances_train.json"), first);
  o.fashion_mnist = dir_->path() / "nowhere";
  try {
    make_fashion_scenes(dir_->path() / "x", o);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("dataset-fashion-mnist"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(dir_->path() / "x"));
}

}  // namespace
}  // namespace cpsd::data
