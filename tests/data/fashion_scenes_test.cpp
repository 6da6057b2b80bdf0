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
#include "idx_file.h"
#include "test_support.h"

namespace cpsd::data {
namespace {

class FashionScenes : public test::SharedFixture<FashionScenes> {
 public:  // make_shared() is called by test::make_shared_once
  static void make_shared() {
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
  const Dataset d =
      read_coco(root() / "annotations" / "instances_train.json", root() / "train", {});
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
    for (const auto& a : j["annotations"])
      out.insert(a["fashion_mnist"]["split"].get<std::string>());
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
  const std::string image = test::read_file(dir_->path() / "again" / "train" / "000007.jpg");
  EXPECT_THROW(make_fashion_scenes(dir_->path() / "again", o), ConfigError);
  make_fashion_scenes(dir_->path() / "again", o, true);
  EXPECT_EQ(test::read_file(dir_->path() / "again" / "train" / "000007.jpg"), image);
  // The first images do not depend on how many are made.
  EXPECT_EQ(test::read_file(root() / "train" / "000007.jpg"), image);
  const std::string first =
      test::read_file(dir_->path() / "again" / "annotations" / "instances_train.json");
  make_fashion_scenes(dir_->path() / "again", o, true);
  EXPECT_EQ(test::read_file(dir_->path() / "again" / "annotations" / "instances_train.json"),
            first);
  o.fashion_mnist = dir_->path() / "nowhere";
  try {
    make_fashion_scenes(dir_->path() / "x", o);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("dataset-fashion-mnist"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(dir_->path() / "x"));
}

// The second design: another label structure, checked the same way.
TEST(FashionScenesDesigns, WardrobeHasItsOwnClassesGroupsAndExclusions) {
  test::TempDir tmp;
  FashionScenesOptions o;
  o.design = "wardrobe";
  o.train_images = 1200;
  o.val_images = 100;
  o.seed = 2;
  make_fashion_scenes(tmp / "w", o);
  const FashionScenesDesign design = fashion_scenes_design("wardrobe");
  const Dataset d =
      read_coco(tmp / "w" / "annotations" / "instances_train.json", tmp / "w" / "train", {});
  ASSERT_EQ(d.class_names, design.class_names);
  ASSERT_EQ(d.num_classes(), 40);
  EXPECT_EQ(d.class_names[39], "yellow_boot");
  const LabelStatistics s = dataset_statistics(d);
  double labels = 0;
  for (const Sample& x : d.samples) labels += x.labels.size();
  EXPECT_GT(labels / 1200, 2.5);  // more items per image than scenes
  EXPECT_LE(labels / 1200, 6.0);
  const int64_t m = 40;
  ASSERT_EQ(design.never_together.size(), 5u);
  for (const auto& [a, b] : design.never_together) {
    for (int ta = 0; ta < 4; ++ta) {
      for (int tb = 0; tb < 4; ++tb) {
        EXPECT_EQ(s.cooccurrence[(ta * 10 + a) * m + (tb * 10 + b)], 0.0)
            << design.class_names[ta * 10 + a] << " with " << design.class_names[tb * 10 + b];
      }
    }
  }
  // Its groups are not scenes': a gym t-shirt meets sneakers far above chance, and trousers
  // (scenes' street partner of the t-shirt) much less.
  const double n = 1200;
  auto lift = [&](int i, int j) {
    return s.cooccurrence[i * m + j] * n / (s.counts[i] * s.counts[j]);
  };
  EXPECT_GT(lift(0, 7), 2.0);         // red t-shirt, red sneaker
  EXPECT_LT(lift(0, 1), lift(0, 7));  // red t-shirt, red trouser
  EXPECT_THROW(fashion_scenes_design("nope"), ConfigError);
  EXPECT_EQ(fashion_scenes_design_names(), (std::vector<std::string>{"scenes", "wardrobe"}));
}

TEST(FashionItems, SingleLabelFolderOfTrainingItemsOnly) {
  test::TempDir tmp;
  FashionItemsOptions o;
  o.train_items = 200;
  o.val_items = 50;
  o.seed = 1;
  make_fashion_items(tmp / "items", o);
  const Dataset train = read_image_folder(tmp / "items" / "train");
  const Dataset val = read_image_folder(tmp / "items" / "val");
  EXPECT_EQ(train.class_names,
            (std::vector<std::string>{"bag", "boot", "coat", "dress", "pullover", "sandal", "shirt",
                                      "sneaker", "trouser", "tshirt"}));
  EXPECT_EQ(val.class_names, train.class_names);
  EXPECT_EQ(train.samples.size(), 200u);
  EXPECT_EQ(val.samples.size(), 50u);
  // Each file is named by its item's index in Fashion-MNIST's training file and sits in its
  // type's directory; validation items are the file's last ones, never a test item.
  const std::vector<uint8_t> labels =
      read_idx_labels("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz");
  const FashionScenesDesign design = fashion_scenes_design();
  for (const auto* d : {&train, &val}) {
    for (const Sample& s : d->samples) {
      const std::filesystem::path p(s.path);
      const long index = std::stol(p.stem().string());
      EXPECT_EQ(p.parent_path().filename().string(),
                design.types[labels[static_cast<std::size_t>(index)]])
          << s.path;
      EXPECT_EQ(d->class_names[s.labels.at(0)], p.parent_path().filename().string());
      if (d == &train) {
        EXPECT_LT(index, 200) << s.path;
      } else {
        EXPECT_GE(index, 60000 - 50) << s.path;
      }
    }
  }
  const auto info = nlohmann::json::parse(test::read_file(tmp / "items" / "items.json"));
  EXPECT_EQ(info["val_from_index"], 59950);
  // Deterministic for a seed; refuses to overwrite.
  make_fashion_items(tmp / "again", o);
  EXPECT_EQ(test::read_file(tmp / "again" / "val" / "bag" /
                            std::filesystem::path(val.samples[0].path).filename()),
            test::read_file(val.samples[0].path));
  EXPECT_THROW(make_fashion_items(tmp / "again", o), ConfigError);
  o.val_items = 60000;
  EXPECT_THROW(make_fashion_items(tmp / "bad", o), ConfigError);
  EXPECT_FALSE(std::filesystem::exists(tmp / "bad"));
}

TEST(FolderReader, ClassOrderAndErrors) {
  test::TempDir tmp;
  test::write_file(tmp / "d" / "zebra" / "a.jpg", "x");
  test::write_file(tmp / "d" / "ant" / "sub" / "b.png", "x");
  test::write_file(tmp / "d" / "ant" / "notes.txt", "x");
  const Dataset d = read_image_folder(tmp / "d");
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"ant", "zebra"}));
  ASSERT_EQ(d.samples.size(), 2u);
  EXPECT_EQ(d.samples[0].labels, (std::vector<int64_t>{0}));
  EXPECT_EQ(d.samples[1].path, (tmp / "d" / "zebra" / "a.jpg").string());
  test::write_file(tmp / "classes.txt", "zebra\nant\n");
  EXPECT_EQ(read_image_folder(tmp / "d", tmp / "classes.txt").samples[0].labels,
            (std::vector<int64_t>{0}));
  test::write_file(tmp / "more.txt", "zebra\nant\nyak\n");
  EXPECT_THROW(read_image_folder(tmp / "d", tmp / "more.txt"), ConfigError);
  EXPECT_THROW(read_image_folder(tmp / "nowhere"), ConfigError);
  std::filesystem::create_directories(tmp / "empty" / "cat");
  EXPECT_THROW(read_image_folder(tmp / "empty"), ConfigError);
  // A format the pipeline cannot decode is refused before any run, naming the file.
  test::write_file(tmp / "d" / "ant" / "c.WebP", "x");
  const std::filesystem::path webp = tmp / "d" / "ant" / "c.WebP";
  test::prompt_refusal<ConfigError>([&] { read_image_folder(tmp / "d"); },
                                    webp.string() + ": cpsd reads JPEG and PNG images, not .webp");
}

}  // namespace
}  // namespace cpsd::data
