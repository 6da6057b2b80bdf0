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
#include "cpsd/core/engine/objective.h"
#include "cpsd/core/engine/teacher_check.h"
#include "cpsd/core/engine/teachers.h"
#include "cpsd/core/model.h"
#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd::engine {
namespace {

const Registry& registry() { return test::in_tree_plugins().registry(); }

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

// The paper's rho on uneven, permuted groups: 7 classes split [5, 0, 3], [6], [1, 4, 2].
const std::vector<std::vector<int64_t>> kUnevenGroups = {{5, 0, 3}, {6}, {1, 4, 2}};

// Column c of `merged` is column j of outputs[g] exactly when groups[g][j] == c.
void expect_merged_columns(const torch::Tensor& merged, const std::vector<torch::Tensor>& outputs,
                           const std::vector<std::vector<int64_t>>& groups,
                           const std::string& what) {
  ASSERT_EQ(merged.size(1), 7) << what;
  std::vector<int> found(7, 0);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (std::size_t j = 0; j < groups[g].size(); ++j) {
      const int64_t c = groups[g][j];
      ++found[static_cast<std::size_t>(c)];
      EXPECT_TRUE(torch::allclose(merged.select(1, c),
                                  outputs[g].select(1, static_cast<int64_t>(j)), 1e-6, 1e-6))
          << what << ": class " << c << " should be column " << j << " of teacher " << g;
    }
  }
  for (int f : found) EXPECT_EQ(f, 1) << what;
}

TEST(MergeTeacherLogits, ScattersEachTeachersColumnsToItsClasses) {
  // Teacher g's entry (i, j) is 100 g + 10 j + i, so every merged value names its source.
  const int64_t n = 3;
  std::vector<torch::Tensor> outputs;
  for (std::size_t g = 0; g < kUnevenGroups.size(); ++g) {
    const int64_t width = static_cast<int64_t>(kUnevenGroups[g].size());
    outputs.push_back(100.0 * static_cast<double>(g) +
                      10 * torch::arange(width, torch::kFloat).unsqueeze(0) +
                      torch::arange(n, torch::kFloat).unsqueeze(1));
  }
  const torch::Tensor merged = merge_teacher_logits(outputs, kUnevenGroups, 7);
  // By hand: class 0 <- teacher 0 col 1 (10), 1 <- t2 c0 (200), 2 <- t2 c2 (220), 3 <- t0 c2
  // (20), 4 <- t2 c1 (210), 5 <- t0 c0 (0), 6 <- t1 c0 (100); plus the row index.
  const torch::Tensor expected =
      torch::tensor({10.0f, 200.0f, 220.0f, 20.0f, 210.0f, 0.0f, 100.0f}).unsqueeze(0) +
      torch::arange(n, torch::kFloat).unsqueeze(1);
  EXPECT_TRUE(torch::equal(merged, expected)) << merged;
  expect_merged_columns(merged, outputs, kUnevenGroups, "codes");
  // A mismatched count of outputs and groups is refused.
  EXPECT_THROW(merge_teacher_logits({outputs[0]}, kUnevenGroups, 7), c10::Error);
  // So are groups that leave a class out, name one twice, or disagree with an output's width.
  EXPECT_THROW(merge_teacher_logits(outputs, kUnevenGroups, 8), c10::Error);
  EXPECT_THROW(merge_teacher_logits(outputs, {{5, 0, 3}, {6}, {1, 4, 0}}, 7), c10::Error);
  EXPECT_THROW(merge_teacher_logits(outputs, {{5, 0}, {6, 3}, {1, 4, 2}}, 7), c10::Error);
}

TEST(OnlineTeachers, MergedColumnsAreEachTeachersOwnOutputsInTrainAndEvalMode) {
  std::vector<std::shared_ptr<MultiLabelModel>> models;
  for (std::size_t g = 0; g < kUnevenGroups.size(); ++g) {
    torch::manual_seed(40 + static_cast<int64_t>(g));
    models.push_back(model("", static_cast<int64_t>(kUnevenGroups[g].size())));
  }
  torch::manual_seed(7);
  data::Batch batch;
  batch.images = torch::rand({4, 3, 32, 32});
  batch.targets = torch::zeros({4, 7});
  batch.indices = {0, 1, 2, 3};
  const torch::Tensor weights = torch::linspace(0.0, 1.0, 7);
  auto outputs_in = [&](bool train) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> out;
    for (const auto& m : models) {
      m->train(train);
      out.push_back(m->forward(batch.images));
    }
    return out;
  };
  std::vector<torch::Tensor> by_mode[2];
  for (bool train : {true, false}) {
    const std::string mode = train ? "train mode" : "eval mode";
    TeacherBranch branch{"cgp", kUnevenGroups, models, weights, ""};
    const std::vector<TeacherLogits> got =
        online_teachers({branch}, train, 7)(StepBatch{batch, batch.images, Compute{}});
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].name, "cgp");
    EXPECT_TRUE(torch::equal(got[0].weights, weights));
    EXPECT_FALSE(got[0].logits.requires_grad()) << mode;
    for (const auto& m : models) EXPECT_EQ(m->is_training(), train) << mode;
    // Expected after the provider ran: in train mode BatchNorm uses this batch's statistics
    // whatever the running ones, in eval mode the running ones (unchanged by eval forwards).
    by_mode[train] = outputs_in(train);
    expect_merged_columns(got[0].logits, by_mode[train], kUnevenGroups, mode);
  }
  // The two modes really differ (batch against running statistics), so the check above tells
  // them apart.
  EXPECT_FALSE(torch::allclose(by_mode[0][0], by_mode[1][0], 1e-3, 1e-3));
}

// The teachers take the step's images (on the compute device, in its memory format), never
// the host batch again: here the two differ, and the logits are those of the step's images.
TEST(OnlineTeachers, RunOnTheStepsImagesNotTheHostBatch) {
  torch::manual_seed(41);
  const std::vector<std::shared_ptr<MultiLabelModel>> models = {model("", 7)};
  data::Batch host;
  host.images = torch::zeros({2, 3, 32, 32});
  host.indices = {0, 1};
  const torch::Tensor step_images =
      torch::rand({2, 3, 32, 32}).contiguous(torch::MemoryFormat::ChannelsLast);
  TeacherBranch branch{"cgp", {{0, 1, 2, 3, 4, 5, 6}}, models, {}, ""};
  const std::vector<TeacherLogits> got =
      online_teachers({branch}, false, 7)(StepBatch{host, step_images, Compute{}});
  torch::NoGradGuard no_grad;
  models[0]->eval();
  EXPECT_TRUE(torch::allclose(got[0].logits, models[0]->forward(step_images), 1e-6, 1e-6));
  EXPECT_FALSE(torch::allclose(got[0].logits, models[0]->forward(host.images), 1e-3, 1e-3));
}

TEST(CachedTeachers, ServesTheRowsOfTheBatchsSamples) {
  const torch::Tensor cgp = torch::arange(5 * 7, torch::kFloat).reshape({5, 7});
  const torch::Tensor dgp = -cgp;
  TeacherBranch a{"cgp", kUnevenGroups, {}, {}, ""}, b{"dgp", {{0, 1, 2, 3, 4, 5, 6}}, {}, {}, ""};
  data::Batch batch;
  batch.indices = {3, 0, 4};
  const std::vector<TeacherLogits> got =
      cached_teachers({a, b}, {cgp, dgp})(StepBatch{batch, batch.images, Compute{}});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].name, "dgp");
  const torch::Tensor rows = torch::tensor({3, 0, 4}, torch::kLong);
  EXPECT_TRUE(torch::equal(got[0].logits, cgp.index_select(0, rows)));
  EXPECT_TRUE(torch::equal(got[1].logits, dgp.index_select(0, rows)));
  EXPECT_TRUE(torch::equal(got[0].logits[0], cgp[3]));
}

std::shared_ptr<Loss> loss(const std::string& name, const std::string& options, int64_t classes) {
  return registry().create_loss(
      name, LossArgs{plugin_options(registry(), Kind::loss, name, options), classes});
}

// loss/asl with its reference defaults (gamma_neg 4, gamma_pos 0, clip 0.05, eps 1e-8) per
// entry, in double: -(y log p + (1 - y) p_m^4 log(1 - p_m)), p_m = max(p - 0.05, 0).
torch::Tensor asl_entries(const torch::Tensor& logits, const torch::Tensor& y) {
  const torch::Tensor p = torch::sigmoid(logits.to(torch::kDouble));
  const torch::Tensor yd = y.to(torch::kDouble);
  const torch::Tensor pm = (p - 0.05).clamp_min(0);
  return -(yd * p.clamp_min(1e-8).log() + (1 - yd) * pm.pow(4) * (1 - pm).clamp_min(1e-8).log());
}

TEST(TeacherImages, PositiveLeavesOutImagesWithoutAPositiveOfTheSubTask) {
  // teachers.images = "positive" (host_schema: "only images with a positive in the sub-task")
  // makes a teacher's objective Supervised(loss, positives_only = true). A hand-made batch of 5
  // images over 7 classes, for the teacher of classes [1, 4, 2]:
  //   image 0: {0, 1} -> has 1        image 1: {0, 3, 6} -> none
  //   image 2: {4}    -> has 4        image 3: {}        -> none
  //   image 4: {2, 5} -> has 2
  const std::vector<std::vector<int64_t>> labels = {{0, 1}, {0, 3, 6}, {4}, {}, {2, 5}};
  torch::Tensor full_targets = torch::zeros({5, 7});
  for (std::size_t i = 0; i < labels.size(); ++i) {
    for (int64_t c : labels[i]) full_targets[static_cast<int64_t>(i)][c] = 1;
  }
  torch::Tensor full_mask = torch::ones({5, 7});
  full_mask[0][2] = 0;  // a negative of a kept image
  full_mask[1][1] = 0;  // an entry of a left-out image
  const torch::Tensor classes = torch::tensor({1, 4, 2}, torch::kLong);
  // Restricted to the teacher's columns as the trainer does.
  const torch::Tensor targets = full_targets.index_select(1, classes);
  const torch::Tensor mask = full_mask.index_select(1, classes);
  torch::manual_seed(9);
  const torch::Tensor logits = torch::randn({5, 3}) * 2;
  const torch::Tensor kept = torch::tensor({1.0, 0.0, 1.0, 0.0, 1.0}, torch::kDouble).unsqueeze(1);
  const torch::Tensor entries = asl_entries(logits, targets);
  const data::Batch batch;
  const Compute compute;
  for (const char* reduction : {"sum", "mean"}) {
    const bool mean = std::string(reduction) == "mean";
    const std::string options = std::string("reduction = \"") + reduction + "\"\n";
    Supervised positive(loss("asl", options, 3), true), all(loss("asl", options, 3), false);
    auto reduce = [&](const torch::Tensor& weights) {
      const double sum = (entries * weights).sum().item<double>();
      return mean ? sum / weights.sum().item<double>() : sum;
    };
    const torch::Tensor ones = torch::ones({5, 3}, torch::kDouble);
    const torch::Tensor m = mask.to(torch::kDouble);
    // Without a mask: only images 0, 2, 4 count (mean: over their 9 entries).
    EXPECT_NEAR(
        positive.loss(logits, targets, {}, StepBatch{batch, batch.images, compute}).item<double>(),
        reduce(ones * kept), 1e-5)
        << reduction;
    EXPECT_NEAR(
        all.loss(logits, targets, {}, StepBatch{batch, batch.images, compute}).item<double>(),
        reduce(ones), 1e-5)
        << reduction;
    // With a mask: both apply (mean: over the 8 unmasked entries of the kept images).
    EXPECT_NEAR(positive.loss(logits, targets, mask, StepBatch{batch, batch.images, compute})
                    .item<double>(),
                reduce(m * kept), 1e-5)
        << reduction;
    EXPECT_NEAR(
        all.loss(logits, targets, mask, StepBatch{batch, batch.images, compute}).item<double>(),
        reduce(m), 1e-5)
        << reduction;
  }
  // The left-out images get no gradient; the kept ones do.
  torch::Tensor x = logits.clone().requires_grad_(true);
  Supervised(loss("asl", "", 3), true)
      .loss(x, targets, {}, StepBatch{batch, batch.images, compute})
      .backward();
  EXPECT_TRUE(torch::equal(x.grad()[1], torch::zeros({3})));
  EXPECT_TRUE(torch::equal(x.grad()[3], torch::zeros({3})));
  EXPECT_GT(x.grad()[2].abs().sum().item<double>(), 0);
}

TEST(DistilledObjective, ClsWeightTimesAslPlusEachBranchsWeightedDistillation) {
  // Two images, three classes, two branches; class 2 of image 0 is masked (labels only).
  const torch::Tensor s = torch::tensor({1.0f, -2.0f, 0.5f, 0.0f, 3.0f, -1.0f}).reshape({2, 3});
  const torch::Tensor y = torch::tensor({1.0f, 0.0f, 0.0f, 0.0f, 1.0f, 1.0f}).reshape({2, 3});
  const torch::Tensor mask = torch::tensor({1.0f, 1.0f, 0.0f, 1.0f, 1.0f, 1.0f}).reshape({2, 3});
  const torch::Tensor t_cgp = torch::tensor({2.0f, -1.0f, -0.5f, 1.5f, 2.0f, 0.0f}).reshape({2, 3});
  const torch::Tensor t_dgp = torch::tensor({0.5f, -3.0f, 1.0f, -1.0f, 2.5f, 0.5f}).reshape({2, 3});
  data::Batch batch;
  batch.indices = {11, 12};
  const Compute compute;
  // A branch's relative weight reaches the loss as per-class weights (pipeline.cpp
  // teacher_branches: a [C] tensor of that weight); undefined = 1.
  auto objective = [&](double cls_weight, double kd_weight, const torch::Tensor& dgp_weights) {
    return std::make_shared<Distilled>(
        loss("asl", "", 3),
        loss("distill",
             "metric = \"mse\"\nreduction = \"sum\"\nweight = " + std::to_string(kd_weight) + "\n",
             3),
        cls_weight, [&, dgp_weights](const StepBatch& b) {
          EXPECT_EQ(b.host.indices, batch.indices);  // the provider sees the batch
          return std::vector<TeacherLogits>{{"cgp", t_cgp, {}}, {"dgp", t_dgp, dgp_weights}};
        });
  };
  // L = cls_weight * ASL(s, y, mask) + (kd_weight / 2) * sum_b sum_{i,c} w_b,c (s - t_b)^2:
  // the distillation weight split evenly over the branches, each term times its class weights.
  auto formula = [&](double cls_weight, double kd_weight, const torch::Tensor& dgp_weights) {
    const torch::Tensor sd = s.to(torch::kDouble);
    const double asl = (asl_entries(s, y) * mask.to(torch::kDouble)).sum().item<double>();
    const double cgp = (sd - t_cgp.to(torch::kDouble)).pow(2).sum().item<double>();
    const double dgp =
        ((sd - t_dgp.to(torch::kDouble)).pow(2) * dgp_weights.to(torch::kDouble).unsqueeze(0))
            .sum()
            .item<double>();
    return cls_weight * asl + kd_weight / 2 * (cgp + dgp);
  };
  const torch::Tensor even = torch::ones({3}), twice = torch::full({3}, 2.0f);
  const torch::Tensor per_class = torch::tensor({0.0f, 1.0f, 0.5f});
  for (double cls_weight : {0.5, 1.0, 0.0}) {
    for (double kd_weight : {0.5, 2.0}) {
      for (const torch::Tensor& w : {even, twice, per_class}) {
        const double got = objective(cls_weight, kd_weight, w)
                               ->loss(s, y, mask, StepBatch{batch, batch.images, compute})
                               .item<double>();
        EXPECT_NEAR(got, formula(cls_weight, kd_weight, w), 1e-5)
            << "cls " << cls_weight << " kd " << kd_weight << " dgp weights " << w;
      }
    }
  }
  // The reference code's loss with alpha = 0.5 (0.5 ASL + 0.25 MSE(CGP) + 0.25 MSE(DGP)), and
  // with the DGP branch at relative weight 2, from PyTorch 1.13 in float64:
  //   p = sigmoid(s); pm = (p - 0.05).clamp(min=0)
  //   asl = -((y*log(p.clamp(min=1e-8)) + (1-y)*pm**4*log((1-pm).clamp(min=1e-8))) * m).sum()
  //       = 1.6996274249;  mse_cgp = 7.25;  mse_dgp = 5.0
  //   0.5*asl + 0.25*mse_cgp + 0.25*mse_dgp = 3.9123137124;  ... + 0.25*2*mse_dgp = 5.1623137124
  EXPECT_NEAR(objective(0.5, 0.5, {})
                  ->loss(s, y, mask, StepBatch{batch, batch.images, compute})
                  .item<double>(),
              3.9123137124, 1e-5);
  EXPECT_NEAR(objective(0.5, 0.5, twice)
                  ->loss(s, y, mask, StepBatch{batch, batch.images, compute})
                  .item<double>(),
              5.1623137124, 1e-5);
  // The gradient flows into the student's logits: d/ds of 0.25 (s - t)^2 per branch plus ASL's.
  torch::Tensor x = s.clone().requires_grad_(true);
  objective(0.0, 0.5, {})->loss(x, y, mask, StepBatch{batch, batch.images, compute}).backward();
  EXPECT_TRUE(torch::allclose(x.grad(), 0.5 * (s - t_cgp) + 0.5 * (s - t_dgp), 1e-5, 1e-5));
}

}  // namespace
}  // namespace cpsd::engine
