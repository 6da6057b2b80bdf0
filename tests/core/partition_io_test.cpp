// SPDX-License-Identifier: Apache-2.0
// Statistics files, partition files in both formats, and their errors.
#include <gtest/gtest.h>

#include "cpsd/core/label_statistics_io.h"
#include "cpsd/core/partition_file.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd {
namespace {

LabelStatistics small_stats() {
  return count_label_statistics({"cat", "dog", "sofa", "tree"},
                                {{0, 2}, {0, 2}, {1, 3}, {0, 1, 2}, {3}, {0, 0, 2}});
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(LabelStatistics, CountsImagesAndPairs) {
  const LabelStatistics s = small_stats();
  EXPECT_EQ(s.num_images, 6);
  EXPECT_EQ(s.counts, (std::vector<double>{4, 2, 4, 2}));
  // cat & sofa together in 4 images (a duplicate label counts once).
  EXPECT_EQ(s.cooccurrence[0 * 4 + 2], 4);
  EXPECT_EQ(s.cooccurrence[2 * 4 + 0], 4);
  EXPECT_EQ(s.cooccurrence[1 * 4 + 3], 1);
  EXPECT_EQ(s.cooccurrence[0 * 4 + 0], 0);
  EXPECT_NO_THROW(validate_statistics(s));
  EXPECT_THROW(count_label_statistics({"a"}, {{1}}), ConfigError);
}

TEST(LabelStatistics, FileRoundTripAndHash) {
  test::TempDir tmp;
  const LabelStatistics s = small_stats();
  write_statistics(s, tmp / "stats.json");
  const LabelStatistics back = read_statistics(tmp / "stats.json");
  EXPECT_EQ(back.class_names, s.class_names);
  EXPECT_EQ(back.counts, s.counts);
  EXPECT_EQ(back.cooccurrence, s.cooccurrence);
  EXPECT_EQ(statistics_hash(back), statistics_hash(s));
  EXPECT_EQ(statistics_hash(s).rfind("fnv1a64:", 0), 0u);
  LabelStatistics other = s;
  other.counts[3] += 1;
  EXPECT_NE(statistics_hash(other), statistics_hash(s));
}

TEST(LabelStatistics, FileErrorsNameTheProblem) {
  test::TempDir tmp;
  test::write_file(tmp / "syntax.json", "{\n  \"classes\": [\"a\",\n}\n");
  EXPECT_NE(error_of([&] { read_statistics(tmp / "syntax.json"); }).find("syntax.json:3:"),
            std::string::npos);
  test::write_file(tmp / "missing.json", R"({"classes": ["a"], "num_images": 1, "counts": [1]})");
  EXPECT_NE(
      error_of([&] { read_statistics(tmp / "missing.json"); }).find("missing key 'cooccurrence'"),
      std::string::npos);
  test::write_file(tmp / "doubled.json", R"({"classes": ["a", "b"], "num_images": 5,
      "counts": [2, 3], "cooccurrence": [[0, 4], [4, 0]]})");
  // Pairs counted twice (ML-GCN's NUS-WIDE file) are read; statistics_excess names them.
  const LabelStatistics doubled = read_statistics(tmp / "doubled.json");
  EXPECT_EQ(doubled.cooccurrence, (std::vector<double>{0, 4, 4, 0}));
  EXPECT_NE(statistics_excess(doubled).find("1 pair co-occurs"), std::string::npos);
  EXPECT_EQ(statistics_excess(small_stats()), "");
  test::write_file(tmp / "negative.json", R"({"classes": ["a", "b"], "num_images": 5,
      "counts": [2, 3], "cooccurrence": [[0, -1], [-1, 0]]})");
  EXPECT_NE(error_of([&] { read_statistics(tmp / "negative.json"); }).find("is not a count"),
            std::string::npos);
  test::write_file(tmp / "asym.json", R"({"classes": ["a", "b"], "num_images": 5,
      "counts": [2, 3], "cooccurrence": [[0, 1], [2, 0]]})");
  EXPECT_NE(error_of([&] { read_statistics(tmp / "asym.json"); }).find("not symmetric"),
            std::string::npos);
  test::write_file(tmp / "shape.json", R"({"classes": ["a", "b"], "num_images": 5,
      "counts": [2, 3], "cooccurrence": [[0, 1]]})");
  EXPECT_NE(error_of([&] { read_statistics(tmp / "shape.json"); }).find("1 rows for 2 classes"),
            std::string::npos);
  test::write_file(tmp / "type.json", R"({"classes": "a", "num_images": 5, "counts": [2],
      "cooccurrence": [[0]]})");
  EXPECT_NE(error_of([&] { read_statistics(tmp / "type.json"); }).find("wrong type"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_statistics(tmp / "absent.json"); }).find("not found"),
            std::string::npos);
}

LabelPartition sample_partition() {
  LabelPartition p;
  for (int i = 0; i < 12; ++i) p.class_names.push_back("class" + std::to_string(i));
  p.groups = {{0, 2, 10, 11}, {1, 3, 5}, {4, 6, 7, 8, 9}};
  p.decomposer = "cgp";
  p.options_json = R"({"tau":3.0})";
  p.seed = 4;
  p.statistics_hash = "fnv1a64:0000000000000001";
  p.diagnostics = {{"kmeans_inertia", 0.5}};
  return p;
}

TEST(PartitionFile, CpsdFormatRoundTrip) {
  test::TempDir tmp;
  const LabelPartition p = sample_partition();
  write_partition(p, tmp / "p.json", PartitionFormat::cpsd);
  const LabelPartition back = read_partition(tmp / "p.json");
  EXPECT_EQ(back.groups, p.groups);
  EXPECT_EQ(back.class_names, p.class_names);
  EXPECT_EQ(back.decomposer, "cgp");
  EXPECT_EQ(back.seed, 4u);
  EXPECT_EQ(back.statistics_hash, p.statistics_hash);
  EXPECT_EQ(back.options_json, R"({"tau":3.0})");
  const std::string text = test::read_file(tmp / "p.json");
  EXPECT_NE(text.find("\"decomposer\": \"cgp\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"k\": 3"), std::string::npos) << text;
}

TEST(PartitionFile, ReferenceFormatMatchesTheAuthorsLayout) {
  test::TempDir tmp;
  write_partition(sample_partition(), tmp / "ref.json", PartitionFormat::reference);
  // Keys ascending as numbers (10 after 2), values = position in the group.
  EXPECT_EQ(test::read_file(tmp / "ref.json"),
            "[\n  {\"0\": 0, \"2\": 1, \"10\": 2, \"11\": 3},\n  {\"1\": 0, \"3\": 1, \"5\": 2},\n"
            "  {\"4\": 0, \"6\": 1, \"7\": 2, \"8\": 3, \"9\": 4}\n]\n");
  const LabelPartition back = read_partition(tmp / "ref.json", sample_partition().class_names);
  EXPECT_EQ(back.groups, sample_partition().groups);
  EXPECT_EQ(back.class_names[10], "class10");
  EXPECT_EQ(back.decomposer, "");
}

TEST(PartitionFile, ReferenceOutputOrderFollowsTheValues) {
  test::TempDir tmp;
  test::write_file(tmp / "r.json", R"([{"3": 1, "0": 0}, {"1": 1, "2": 0}])");
  const LabelPartition p = read_partition(tmp / "r.json");
  EXPECT_EQ(p.groups, (std::vector<std::vector<int64_t>>{{0, 3}, {2, 1}}));
  EXPECT_EQ(p.class_names, (std::vector<std::string>{"class_0", "class_1", "class_2", "class_3"}));
}

TEST(PartitionFile, RejectsBrokenPartitions) {
  test::TempDir tmp;
  auto error = [&](const std::string& text, const std::vector<std::string>& names = {}) {
    test::write_file(tmp / "x.json", text);
    return error_of([&] { read_partition(tmp / "x.json", names); });
  };
  EXPECT_NE(error(R"([{"0": 0, "1": 1}, {"1": 0, "2": 1}])").find("more than one group"),
            std::string::npos);
  EXPECT_NE(error(R"([{"0": 0}, {"2": 0}])").find("class 1 is in no group"), std::string::npos);
  EXPECT_NE(error(R"([{"0": 0, "1": 2}])").find("output indices must be 0..1"), std::string::npos);
  EXPECT_NE(error(R"([{"a": 0}])").find("not a class index"), std::string::npos);
  EXPECT_NE(error(R"([{"0": 0}, {}])").find("group 1 is empty"), std::string::npos);
  // The authors' COCO k=1 file holds 81 indices for 80 classes.
  std::string k1 = "[{";
  for (int i = 0; i < 81; ++i)
    k1 += (i ? ", \"" : "\"") + std::to_string(i) + "\": " + std::to_string(i);
  k1 += "}]";
  std::vector<std::string> coco(80, "x");
  EXPECT_NE(error(k1, coco).find("class index 80 is outside the 80 classes"), std::string::npos);
  LabelPartition incomplete;
  incomplete.class_names = {"a", "b"};
  incomplete.groups = {{0}};
  EXPECT_THROW(write_partition(incomplete, tmp / "w.json", PartitionFormat::cpsd), RuntimeError);
  EXPECT_FALSE(std::filesystem::exists(tmp / "w.json"));
}

TEST(PartitionFile, KeptCooccurrence) {
  const LabelStatistics s = small_stats();  // cat-sofa 4, cat-dog 1, dog-sofa 1, dog-tree 1
  LabelPartition p;
  p.class_names = s.class_names;
  p.groups = {{0, 2}, {1, 3}};
  const std::vector<double> kept = kept_cooccurrence(p, s);
  EXPECT_NEAR(kept[0], 8.0 / 10.0, 1e-12);  // inside 4+4; touching 4+1 (cat) + 4+1 (sofa)
  EXPECT_NEAR(kept[1], 2.0 / 4.0, 1e-12);   // inside 1+1; touching dog 1+1+1, tree 1
  EXPECT_NEAR(kept_cooccurrence_total(p, s), 10.0 / 14.0, 1e-12);
}

}  // namespace
}  // namespace cpsd
