// SPDX-License-Identifier: Apache-2.0
// The four dataset readers on small files written here, including broken ones.
#include <gtest/gtest.h>

#include "cpsd/core/data/readers.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd::data {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const char* kCoco = R"({
  "images": [{"id": 7, "file_name": "a.jpg", "width": 4, "height": 4},
             {"id": 3, "file_name": "b.jpg"}, {"id": 9, "file_name": "c.jpg"}],
  "annotations": [{"id": 1, "image_id": 7, "category_id": 18, "segmentation": [[1, 2, 3]], "bbox": [0, 0, 1, 1]},
                  {"id": 2, "image_id": 7, "category_id": 1, "segmentation": {"counts": [1, 2], "size": [4, 4]}},
                  {"id": 3, "image_id": 7, "category_id": 18},
                  {"id": 4, "image_id": 3, "category_id": 5}],
  "categories": [{"id": 1, "name": "person"}, {"id": 5, "name": "airplane"}, {"id": 18, "name": "dog"}]
})";

TEST(CocoReader, ClassOrderLabelsAndEmptyImages) {
  test::TempDir tmp;
  test::write_file(tmp / "i.json", kCoco);
  const Dataset by_id = read_coco(tmp / "i.json", tmp / "img", {});
  EXPECT_EQ(by_id.class_names, (std::vector<std::string>{"person", "airplane", "dog"}));
  ASSERT_EQ(by_id.samples.size(), 3u);
  EXPECT_EQ(by_id.samples[0].path, (tmp / "img" / "a.jpg").string());
  EXPECT_EQ(by_id.samples[0].labels, (std::vector<int64_t>{0, 2}));  // duplicate dog counted once
  EXPECT_EQ(by_id.samples[1].labels, (std::vector<int64_t>{1}));
  EXPECT_TRUE(by_id.samples[2].labels.empty());  // kept as all-negative by default
  CocoOptions o;
  o.order_by_name = true;
  o.keep_empty = false;
  const Dataset by_name = read_coco(tmp / "i.json", tmp / "img", o);
  EXPECT_EQ(by_name.class_names, (std::vector<std::string>{"airplane", "dog", "person"}));
  ASSERT_EQ(by_name.samples.size(), 2u);
  EXPECT_EQ(by_name.samples[0].labels, (std::vector<int64_t>{1, 2}));
}

TEST(CocoReader, Errors) {
  test::TempDir tmp;
  test::write_file(tmp / "bad.json", "{\n  \"images\": [\n    {\"id\": 1,, }\n]}");
  EXPECT_NE(error_of([&] { read_coco(tmp / "bad.json", tmp.path(), {}); }).find("bad.json:3:"),
            std::string::npos);
  test::write_file(tmp / "cat.json", R"({"images": [{"id": 1, "file_name": "a.jpg"}],
      "annotations": [{"image_id": 1, "category_id": 4}], "categories": [{"id": 1, "name": "x"}]})");
  EXPECT_NE(error_of([&] {
              read_coco(tmp / "cat.json", tmp.path(), {});
            }).find("category_id 4, which is not"),
            std::string::npos);
  test::write_file(tmp / "img.json", R"({"images": [{"id": 1, "file_name": "a.jpg"}],
      "annotations": [{"image_id": 2, "category_id": 1}], "categories": [{"id": 1, "name": "x"}]})");
  EXPECT_NE(error_of([&] { read_coco(tmp / "img.json", tmp.path(), {}); }).find("image_id 2"),
            std::string::npos);
  test::write_file(tmp / "none.json", R"({"images": []})");
  EXPECT_NE(error_of([&] {
              read_coco(tmp / "none.json", tmp.path(), {});
            }).find("not a COCO instances file"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_coco(tmp / "absent.json", tmp.path(), {}); }).find("not found"),
            std::string::npos);
}

TEST(NuswideReader, OfficialLayout) {
  test::TempDir tmp;
  const auto root = tmp.path();
  test::write_file(root / "Concepts81.txt", "animal\nbeach\nsky\n");
  test::write_file(root / "ImageList" / "TrainImagelist.txt",
                   "actor\\0001.jpg\r\nbeach\\0002.jpg\r\nsky\\0003.jpg\r\n");
  test::write_file(root / "Groundtruth" / "TrainTestLabels" / "Labels_animal_Train.txt",
                   "1\n0\n0\n");
  test::write_file(root / "Groundtruth" / "TrainTestLabels" / "Labels_beach_Train.txt",
                   "1\n1\n0\n");
  test::write_file(root / "Groundtruth" / "TrainTestLabels" / "Labels_sky_Train.txt", "0\n1\n0\n");
  const Dataset d = read_nuswide(root, tmp / "Flickr", "Train", {});
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"animal", "beach", "sky"}));
  ASSERT_EQ(d.samples.size(), 2u);  // the third image has no label: dropped
  EXPECT_EQ(d.samples[0].path, (tmp / "Flickr" / "actor" / "0001.jpg").string());
  EXPECT_EQ(d.samples[0].labels, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(d.samples[1].labels, (std::vector<int64_t>{1, 2}));
  test::write_file(root / "Groundtruth" / "TrainTestLabels" / "Labels_sky_Train.txt", "0\n1\n");
  EXPECT_NE(
      error_of([&] { read_nuswide(root, tmp.path(), "Train", {}); }).find("2 rows for 3 images"),
      std::string::npos);
  EXPECT_THROW(read_nuswide(root, tmp.path(), "Validation", {}), ConfigError);
}

TEST(NuswideReader, OneCsvForm) {
  test::TempDir tmp;
  test::write_file(tmp / "nus.csv",
                   "filepath,labels\nimages/1.jpg,\"['sky', 'clouds']\"\nimages/2.jpg,water|sky\n"
                   "images/3.jpg,\n");
  const Dataset d = read_nuswide(tmp / "nus.csv", tmp.path(), "Train", {});
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"clouds", "sky", "water"}));
  ASSERT_EQ(d.samples.size(), 2u);
  EXPECT_EQ(d.samples[0].labels, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(d.samples[1].labels, (std::vector<int64_t>{1, 2}));
  test::write_file(tmp / "classes.txt", "sky\nwater\n");
  EXPECT_NE(error_of([&] {
              read_nuswide(tmp / "nus.csv", tmp.path(), "Train", tmp / "classes.txt");
            }).find("unknown class 'clouds'"),
            std::string::npos);
}

TEST(VocReader, DifficultPolicies) {
  test::TempDir tmp;
  const auto main = tmp / "VOC2007" / "ImageSets" / "Main";
  test::write_file(main / "cat_trainval.txt", "000005 -1\n000007  1\n000009  0\n");
  test::write_file(main / "dog_trainval.txt", "000005  1\n000007 -1\n000009  1\n");
  test::write_file(main / "trainval.txt", "000005\n000007\n000009\n");
  test::write_file(main / "cat_test.txt", "000001 1\n");
  const Dataset ignore =
      read_voc(tmp / "VOC2007", tmp / "VOC2007" / "JPEGImages", "trainval", Difficult::ignore);
  EXPECT_EQ(ignore.class_names, (std::vector<std::string>{"cat", "dog"}));
  ASSERT_EQ(ignore.samples.size(), 3u);
  EXPECT_EQ(ignore.samples[0].path, (tmp / "VOC2007" / "JPEGImages" / "000005.jpg").string());
  EXPECT_EQ(ignore.samples[1].labels, (std::vector<int64_t>{0}));
  EXPECT_EQ(ignore.samples[2].labels, (std::vector<int64_t>{1}));
  EXPECT_EQ(ignore.samples[2].ignored, (std::vector<int64_t>{0}));
  const Dataset positive = read_voc(tmp / "VOC2007", tmp.path(), "trainval", Difficult::positive);
  EXPECT_EQ(positive.samples[2].labels, (std::vector<int64_t>{0, 1}));
  EXPECT_TRUE(positive.samples[2].ignored.empty());
  const Dataset negative = read_voc(tmp / "VOC2007", tmp.path(), "trainval", Difficult::negative);
  EXPECT_EQ(negative.samples[2].labels, (std::vector<int64_t>{1}));
  test::write_file(main / "cow_trainval.txt", "000005 2\n");
  EXPECT_NE(error_of([&] {
              read_voc(tmp / "VOC2007", tmp.path(), "trainval", Difficult::ignore);
            }).find("cow_trainval.txt:1: expected"),
            std::string::npos);
  EXPECT_THROW(read_voc(tmp / "nowhere", tmp.path(), "trainval", Difficult::ignore), ConfigError);
}

TEST(CsvReader, LabelsAndErrors) {
  test::TempDir tmp;
  test::write_file(tmp / "classes.txt", "# my classes\ncat\ndog\n\nsofa\n");
  test::write_file(tmp / "train.csv", "image,labels\na.jpg,cat;sofa\n\"b,c.jpg\",dog\nd.jpg,\n");
  const Dataset d = read_label_csv(tmp / "train.csv", tmp / "img", tmp / "classes.txt");
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"cat", "dog", "sofa"}));
  ASSERT_EQ(d.samples.size(), 3u);
  EXPECT_EQ(d.samples[0].labels, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(d.samples[1].path, (tmp / "img" / "b,c.jpg").string());
  EXPECT_TRUE(d.samples[2].labels.empty());
  test::write_file(tmp / "typo.csv", "image,labels\na.jpg,cat\nb.jpg,dgo\n");
  const std::string e =
      error_of([&] { read_label_csv(tmp / "typo.csv", tmp.path(), tmp / "classes.txt"); });
  EXPECT_NE(e.find("typo.csv:3: unknown class 'dgo' (did you mean 'dog'?)"), std::string::npos)
      << e;
  test::write_file(tmp / "fields.csv", "image,labels\na.jpg,cat,extra\n");
  EXPECT_NE(error_of([&] {
              read_label_csv(tmp / "fields.csv", tmp.path(), tmp / "classes.txt");
            }).find("expected 2 fields"),
            std::string::npos);
  test::write_file(tmp / "dup.txt", "cat\ncat\n");
  EXPECT_NE(error_of([&] { read_class_list(tmp / "dup.txt"); }).find("listed twice"),
            std::string::npos);
  EXPECT_THROW(read_label_csv(tmp / "train.csv", tmp.path(), {}), ConfigError);
}

}  // namespace
}  // namespace cpsd::data
