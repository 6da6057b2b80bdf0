// SPDX-License-Identifier: Apache-2.0
// The pieces behind teachers that can help: starting a teacher from the full-label model,
// the teacher-against-baseline check, held-out distillation weights and the held-out split,
// each against numbers worked out by hand here.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "cpsd/core/data/dataset_config.h"
#include "cpsd/core/engine/class_subset.h"
#include "cpsd/core/engine/distill_weights.h"
#include "cpsd/core/engine/teacher_check.h"
#include "cpsd/core/model.h"
#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd::engine {
namespace {

const Registry& registry() {
  static PluginManager* m = [] {
    auto* pm = new PluginManager();
    pm->load({{test::plugin_dir(), "test"}});
    return pm;
  }();
  return m->registry();
}

// A width-`width` ResNet with the head of `head_toml` ("" = linear) for `classes` classes.
std::shared_ptr<MultiLabelModel> model(const std::string& head_toml, int64_t classes,
                                       int width = 4) {
  const std::string toml =
      "[backbone.resnet]\nwidth = " + std::to_string(width) + "\nstem = \"small\"\n" +
      (head_toml.empty() ? "[model]\nhead = \"linear\"\n" : head_toml) + "backbone = \"resnet\"\n";
  const RunConfig config = RunConfig::parse(toml, "model.toml", {}, registry());
  std::vector<std::string> names;
  for (int64_t c = 0; c < classes; ++c) names.push_back("c" + std::to_string(c));
  return build_model(config, registry(), names);
}

std::map<std::string, torch::Tensor> state(const torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value();
  for (const auto& b : m.named_buffers()) out[b.key()] = b.value();
  return out;
}

TEST(CopyClassSubset, LinearHeadTakesItsClassesRowsAndTheWholeBackbone) {
  torch::manual_seed(1);
  const auto full = model("", 6);
  torch::manual_seed(2);
  const auto part = model("", 2);
  copy_class_subset(*full, *part, 6, {4, 1});
  const auto f = state(*full), p = state(*part);
  for (const auto& [name, tensor] : p) {
    if (name.rfind("head.", 0) == 0) continue;
    EXPECT_TRUE(torch::equal(tensor, f.at(name))) << name;
  }
  const torch::Tensor rows = torch::tensor({4, 1}, torch::kLong);
  EXPECT_TRUE(torch::equal(p.at("head.fc.weight"), f.at("head.fc.weight").index_select(0, rows)));
  EXPECT_TRUE(torch::equal(p.at("head.fc.bias"), f.at("head.fc.bias").index_select(0, rows)));
  // The same images give the full model's logits of those classes.
  full->eval();
  part->eval();
  const torch::Tensor x = torch::rand({3, 3, 32, 32});
  EXPECT_TRUE(
      torch::allclose(part->forward(x), full->forward(x).index_select(1, rows), 1e-6, 1e-6));
}

TEST(CopyClassSubset, PerClassTensorsInAnyDimension) {
  // Query2Label: queries [K, d] (dimension 0), the group-wise classifier W [1, K, d] and b [1, K].
  const std::string q2l =
      "[head.query2label]\nhidden_dim = 16\nfeedforward = 32\n[model]\nhead = \"query2label\"\n";
  const auto full = model(q2l, 5);
  const auto part = model(q2l, 3);
  copy_class_subset(*full, *part, 5, {0, 2, 4});
  const auto f = state(*full), p = state(*part);
  const torch::Tensor rows = torch::tensor({0, 2, 4}, torch::kLong);
  int per_class = 0;
  for (const auto& [name, tensor] : p) {
    const torch::Tensor& source = f.at(name);
    if (tensor.sizes() == source.sizes()) {
      EXPECT_TRUE(torch::equal(tensor, source)) << name;
      continue;
    }
    ++per_class;
    const int64_t d = source.size(0) == 5 ? 0 : 1;
    EXPECT_TRUE(torch::equal(tensor, source.index_select(d, rows))) << name;
  }
  EXPECT_GE(per_class, 3);
}

TEST(CopyClassSubset, RefusesWhatIsNotAClassSubset) {
  const auto full = model("", 6);
  EXPECT_THROW(copy_class_subset(*full, *model("", 6), 6, {0, 2, 1, 3, 4, 5}),
               RuntimeError);                                                         // reordered
  EXPECT_THROW(copy_class_subset(*full, *model("", 2), 6, {0, 1, 2}), RuntimeError);  // wrong count
  const auto wider = model("", 2, 8);
  EXPECT_THROW(copy_class_subset(*full, *wider, 6, {0, 1}), RuntimeError);  // another backbone
}

TEST(CompareTeachers, MeansOverEachTeachersClassesAndTheMergedBranch) {
  const double nan = std::nan("");
  // Class 3 has no validation positives: left out of every mean.
  const std::vector<double> baseline = {60, 70, 80, nan, 50};
  const std::vector<TeacherAp> teachers = {
      {"cgp", "cgp_0", {0, 3}, {66, nan}},
      {"cgp", "cgp_1", {1, 2, 4}, {68, 85, 56}},
      {"dgp", "dgp_0", {4, 0, 1, 2, 3}, {40, 61, 69, 79, nan}}};
  const TeacherCheck check = compare_teachers(baseline, teachers);
  ASSERT_EQ(check.teachers.size(), 3u);
  EXPECT_DOUBLE_EQ(check.teachers[0].teacher_map, 66);
  EXPECT_DOUBLE_EQ(check.teachers[0].baseline_map, 60);
  EXPECT_DOUBLE_EQ(check.teachers[1].teacher_map, (68 + 85 + 56) / 3.0);
  EXPECT_DOUBLE_EQ(check.teachers[1].baseline_map, (70 + 80 + 50) / 3.0);
  ASSERT_EQ(check.branches.size(), 2u);
  EXPECT_EQ(check.branches[0].branch, "cgp");
  EXPECT_DOUBLE_EQ(check.branches[0].merged_map, (66 + 68 + 85 + 56) / 4.0);
  EXPECT_DOUBLE_EQ(check.branches[0].baseline_map, (60 + 70 + 80 + 50) / 4.0);
  EXPECT_EQ(check.branches[0].teachers_behind, 0);
  EXPECT_DOUBLE_EQ(check.branches[1].merged_map, (61 + 69 + 79 + 40) / 4.0);
  EXPECT_EQ(check.branches[1].teachers_behind, 1);
  EXPECT_EQ(check.weak_branches(), std::vector<std::string>{"dgp"});
  const std::string table = teacher_check_table(check);
  EXPECT_NE(table.find("| dgp merged (0 of 1 teachers ahead) | 5 | 62.25 | 65.00 | -2.75 |"),
            std::string::npos)
      << table;
  // A branch whose teachers miss a class is a mistake, not a smaller mean.
  EXPECT_THROW(compare_teachers(baseline, {{"cgp", "cgp_0", {0, 1}, {1, 2}}}),
               std::invalid_argument);
}

TEST(DistillWeights, GainOverTheBaselineScaledAndClamped) {
  const double nan = std::nan("");
  const std::vector<double> baseline = {50, 50, 50, 50, nan};
  const std::vector<double> teacher = {51, 49, 54, 50, nan};
  const std::vector<std::vector<int64_t>> groups = {{0, 1}, {2, 3, 4}};
  EXPECT_FALSE(distill_weights(Weighting::none, baseline, teacher, groups, 2.0).defined());
  const torch::Tensor per_class =
      distill_weights(Weighting::per_class, baseline, teacher, groups, 2.0);
  EXPECT_TRUE(torch::allclose(per_class, torch::tensor({0.5f, 0.0f, 1.0f, 0.0f, 1.0f})));
  // Per teacher: group 0 gains (1 - 1) / 2 = 0, group 1 (4 + 0) / 2 = 2 points: full weight.
  const torch::Tensor per_teacher =
      distill_weights(Weighting::per_teacher, baseline, teacher, groups, 2.0);
  EXPECT_TRUE(torch::allclose(per_teacher, torch::tensor({0.0f, 0.0f, 1.0f, 1.0f, 1.0f})));
}

TEST(Holdout, ADeterministicShareDrawnWithTheSeed) {
  const std::vector<bool> a = data::holdout_samples(1000, 0.1, 3);
  EXPECT_EQ(std::count(a.begin(), a.end(), true), 100);
  EXPECT_EQ(a, data::holdout_samples(1000, 0.1, 3));
  EXPECT_NE(a, data::holdout_samples(1000, 0.1, 4));
  // Spread over the file, not its first images.
  EXPECT_GT(std::count(a.begin() + 500, a.end(), true), 30);
  const std::vector<bool> none = data::holdout_samples(7, 0.0, 1);
  EXPECT_EQ(std::count(none.begin(), none.end(), true), 0);
}

}  // namespace
}  // namespace cpsd::engine
