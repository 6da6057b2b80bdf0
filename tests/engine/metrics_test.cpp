// SPDX-License-Identifier: Apache-2.0
// mAP and thresholded metrics, checked by hand and against scikit-learn.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include <ATen/ATen.h>

#include "cpsd/core/engine/metrics.h"
#include "test_support.h"

namespace cpsd::engine {
namespace {

TEST(AveragePrecision, HandExample) {
  // Class 0: scores 0.9 (+), 0.8 (-), 0.7 (+), 0.1 (-): AP = (1/1 + 2/3) / 2.
  const at::Tensor scores = at::tensor({0.9, 0.8, 0.7, 0.1}, at::kDouble).reshape({4, 1});
  const at::Tensor targets = at::tensor({1.0, 0.0, 1.0, 0.0}, at::kDouble).reshape({4, 1});
  EXPECT_NEAR(average_precision(scores, targets)[0], (1.0 + 2.0 / 3.0) / 2, 1e-12);
  // Masking out the false positive ranked second gives AP 1.
  const at::Tensor mask = at::tensor({1.0, 0.0, 1.0, 1.0}, at::kDouble).reshape({4, 1});
  EXPECT_NEAR(average_precision(scores, targets, mask)[0], 1.0, 1e-12);
}

TEST(AveragePrecision, ClassesWithoutPositivesAreLeftOut) {
  const at::Tensor scores = at::tensor({0.9, 0.1, 0.8, 0.2}, at::kDouble).reshape({2, 2});
  const at::Tensor targets = at::tensor({1.0, 0.0, 0.0, 0.0}, at::kDouble).reshape({2, 2});
  const Metrics m = evaluate(scores, targets, {}, 0.5);
  EXPECT_EQ(m.classes_without_positives, 1);
  EXPECT_TRUE(std::isnan(m.ap[1]));
  EXPECT_NEAR(m.map, 100.0, 1e-9);
}

TEST(AveragePrecision, MatchesScikitLearn) {
  at::manual_seed(0);
  const int64_t n = 300, c = 12;
  const at::Tensor scores = at::randn({n, c}, at::kDouble);
  const at::Tensor targets = (at::rand({n, c}, at::kDouble) < 0.15).to(at::kDouble);
  test::TempDir tmp;
  {
    std::ofstream out(tmp / "data.txt");
    out.precision(17);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t k = 0; k < c; ++k)
        out << scores[i][k].item<double>() << ' ' << targets[i][k].item<double>() << ' ';
      out << '\n';
    }
  }
  const std::string script =
      "import numpy as np\n"
      "from sklearn.metrics import average_precision_score\n"
      "d = np.loadtxt('" +
      (tmp / "data.txt").string() + "').reshape(" + std::to_string(n) + ", " + std::to_string(c) +
      ", 2)\n"
      "for k in range(" +
      std::to_string(c) +
      "):\n"
      "    print(repr(average_precision_score(d[:, k, 1], d[:, k, 0])))\n";
  test::write_file(tmp / "ap.py", script);
  FILE* pipe = popen((std::string(CPSD_TEST_PYTHON) + " " + (tmp / "ap.py").string()).c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::vector<double> expected;
  double v = 0;
  while (std::fscanf(pipe, "%lf", &v) == 1) expected.push_back(v);
  ASSERT_EQ(pclose(pipe), 0) << "python3 with scikit-learn is needed (scripts/install-deps.sh)";
  ASSERT_EQ(expected.size(), static_cast<std::size_t>(c));
  const std::vector<double> ours = average_precision(scores, targets);
  for (int64_t k = 0; k < c; ++k) EXPECT_NEAR(ours[k], expected[k], 1e-9) << "class " << k;
}

TEST(Metrics, ThresholdedAndTopThree) {
  // 2 images, 4 classes; logits chosen so sigmoid >= 0.5 <=> logit >= 0.
  const at::Tensor logits = at::tensor({3.0, 2.0, 1.0, 0.5,  // 4 predicted, top-3 keeps 3
                                        -1.0, 2.0, -3.0, -2.0},
                                       at::kDouble)
                                .reshape({2, 4});
  const at::Tensor targets =
      at::tensor({1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0}, at::kDouble).reshape({2, 4});
  const Metrics m = evaluate(logits, targets, {}, 0.5);
  // Per class: Nc = [1, 1, 1, 1], Np = [1, 2, 1, 1], Ng = [2, 1, 1, 1].
  EXPECT_NEAR(m.op, 100.0 * 4 / 5, 1e-9);
  EXPECT_NEAR(m.orecall, 100.0 * 4 / 5, 1e-9);
  EXPECT_NEAR(m.cp, 100.0 * (1 + 0.5 + 1 + 1) / 4, 1e-9);
  EXPECT_NEAR(m.cr, 100.0 * (0.5 + 1 + 1 + 1) / 4, 1e-9);
  EXPECT_NEAR(m.cf1, 2 * m.cp * m.cr / (m.cp + m.cr), 1e-9);
  // Top-3 drops image 0's class 3 (its fourth score): Nc = [1, 1, 1, 0], Np = [1, 2, 1, 0->1].
  EXPECT_NEAR(m.op_top3, 100.0 * 3 / 5, 1e-9);
  EXPECT_NEAR(m.or_top3, 100.0 * 3 / 5, 1e-9);
}

// 7 images x 5 classes with ties, masked entries and two classes without (valid) positives:
//   class 0: a positive tied with a negative ranked before it; row 4 (a predicted positive) masked
//   class 1: every score 0 (sigmoid 0.5, on the threshold); row 2 masked
//   class 2: no positives, four predicted
//   class 3: two positives, none predicted (Np clamped to 1); a three-way tie at -2
//   class 4: its only positive (row 2) masked, so no positives; four valid predictions
struct TieData {
  at::Tensor logits, targets, mask;
};

TieData tie_data() {
  const std::vector<std::vector<double>> l = {
      {2.0, 0.0, 1.0, -1.0, 0.3},   {2.0, 0.0, -2.0, -2.0, -0.3}, {0.0, 0.0, 3.0, -0.5, 1.2},
      {-1.0, 0.0, -0.5, -2.0, 0.8}, {2.0, 0.0, 0.2, -2.0, -2.0},  {0.5, 0.0, -1.0, -0.2, 0.1},
      {-3.0, 0.0, 0.0, -4.0, 0.6}};
  const std::vector<std::vector<double>> t = {{0, 1, 0, 0, 0}, {1, 0, 0, 1, 0}, {1, 0, 0, 0, 1},
                                              {0, 1, 0, 0, 0}, {1, 0, 0, 1, 0}, {0, 0, 0, 0, 0},
                                              {1, 1, 0, 0, 0}};
  const std::vector<std::vector<double>> m = {{1, 1, 1, 1, 1}, {1, 1, 1, 1, 1}, {1, 0, 1, 1, 0},
                                              {1, 1, 1, 1, 1}, {0, 1, 1, 1, 1}, {1, 1, 1, 1, 1},
                                              {1, 1, 1, 1, 1}};
  auto tensor = [](const std::vector<std::vector<double>>& rows) {
    std::vector<double> flat;
    for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
    return at::tensor(flat, at::kDouble).reshape({static_cast<int64_t>(rows.size()), 5});
  };
  return {tensor(l), tensor(t), tensor(m)};
}

// AP without sorting: for each valid positive i, the precision among the valid entries ranked
// at or above it, where j ranks above i when s_j > s_i, or s_j == s_i and j comes first (ties
// in sample order, as the metric documents). NaN without valid positives.
std::vector<double> ap_by_counting(const at::Tensor& s, const at::Tensor& t, const at::Tensor& m) {
  const int64_t n = s.size(0), c = s.size(1);
  std::vector<double> out;
  for (int64_t k = 0; k < c; ++k) {
    auto valid = [&](int64_t i) { return m[i][k].item<double>() > 0.5; };
    auto pos = [&](int64_t i) { return valid(i) && t[i][k].item<double>() > 0.5; };
    auto at_or_above = [&](int64_t j, int64_t i) {
      const double a = s[j][k].item<double>(), b = s[i][k].item<double>();
      return a > b || (a == b && j <= i);
    };
    double sum = 0, positives = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (!pos(i)) continue;
      double above = 0, hits = 0;
      for (int64_t j = 0; j < n; ++j) {
        if (!valid(j) || !at_or_above(j, i)) continue;
        above += 1;
        hits += pos(j) ? 1 : 0;
      }
      sum += hits / above;
      positives += 1;
    }
    out.push_back(positives > 0 ? sum / positives : std::nan(""));
  }
  return out;
}

// The reference's thresholded metrics (utils/util.py's evaluation, in percent) over valid
// entries: Nc, Np, Ng per class, Np set to 1 where it is 0 before anything is summed;
// OP = sum Nc / sum Np, OR = sum Nc / sum Ng; CP, CR the mean of Nc/Np, Nc/Ng over the classes
// that have positives (the reference divides by every class, and its CR is then NaN);
// F1s from the averaged precision and recall.
struct Thresholded {
  double cp, cr, cf1, op, orecall, of1;
};

Thresholded thresholded_by_counting(const at::Tensor& l, const at::Tensor& t, const at::Tensor& m,
                                    double threshold) {
  const int64_t n = l.size(0), c = l.size(1);
  double snc = 0, snp = 0, sng = 0, cp = 0, cr = 0, classes = 0;
  for (int64_t k = 0; k < c; ++k) {
    double nc = 0, np = 0, ng = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (m[i][k].item<double>() <= 0.5) continue;
      const bool predicted = 1 / (1 + std::exp(-l[i][k].item<double>())) >= threshold;
      const bool positive = t[i][k].item<double>() > 0.5;
      np += predicted;
      ng += positive;
      nc += predicted && positive;
    }
    if (np == 0) np = 1;  // the reference's clamp: Np[Np == 0] = 1
    snc += nc;
    snp += np;
    sng += ng;
    if (ng > 0) {
      cp += nc / np;
      cr += nc / ng;
      classes += 1;
    }
  }
  Thresholded r{};
  r.op = 100 * snc / snp;
  r.orecall = 100 * snc / sng;
  r.of1 = 2 * r.op * r.orecall / (r.op + r.orecall);
  r.cp = 100 * cp / classes;
  r.cr = 100 * cr / classes;
  r.cf1 = 2 * r.cp * r.cr / (r.cp + r.cr);
  return r;
}

TEST(AveragePrecision, TiesInSampleOrderMaskedEntriesAndClassesWithoutPositives) {
  const TieData d = tie_data();
  const std::vector<double> ap = average_precision(d.logits, d.targets, d.mask);
  const std::vector<double> expected = ap_by_counting(d.logits, d.targets, d.mask);
  ASSERT_EQ(ap.size(), 5u);
  for (std::size_t k = 0; k < 5; ++k) {
    if (std::isnan(expected[k])) {
      EXPECT_TRUE(std::isnan(ap[k])) << "class " << k;
    } else {
      EXPECT_NEAR(ap[k], expected[k], 1e-12) << "class " << k;
    }
  }
  // The same by hand, which also checks the counting above:
  //   class 0 (row 4 masked): order r0-, r1+, r5-, r2+, r3-, r6+: (1/2 + 2/4 + 3/6) / 3
  //   class 1 (all tied, row 2 masked): r0+, r1-, r3+, r4-, r5-, r6+: (1 + 2/3 + 3/6) / 3
  //   class 3: r5-, r2-, r0-, r1+, r3-, r4+, r6-: (1/4 + 2/6) / 2
  EXPECT_NEAR(ap[0], 0.5, 1e-12);
  EXPECT_NEAR(ap[1], 13.0 / 18, 1e-12);
  EXPECT_TRUE(std::isnan(ap[2]));
  EXPECT_NEAR(ap[3], 7.0 / 24, 1e-12);
  EXPECT_TRUE(std::isnan(ap[4]));  // its one positive is masked
  // Without the mask, class 4's positive ranks first (AP 1) and class 0 gains r4+ tied at the
  // top: r0-, r1+, r4+, r5-, r2+, r3-, r6+.
  const std::vector<double> unmasked = average_precision(d.logits, d.targets);
  EXPECT_NEAR(unmasked[4], 1.0, 1e-12);
  EXPECT_NEAR(unmasked[0], (1.0 / 2 + 2.0 / 3 + 3.0 / 5 + 4.0 / 7) / 4, 1e-12);
  // Float scores give the same ranking and APs.
  const std::vector<double> from_float =
      average_precision(d.logits.to(at::kFloat), d.targets.to(at::kFloat), d.mask);
  for (std::size_t k : {0u, 1u, 3u}) EXPECT_NEAR(from_float[k], ap[k], 1e-12) << "class " << k;
}

TEST(Metrics, MapAndThresholdedMetricsWithTheReferencesNpClamp) {
  const TieData d = tie_data();
  for (double threshold : {0.5, 0.6, 0.75}) {
    const Metrics got = evaluate(d.logits, d.targets, d.mask, threshold);
    const std::vector<double> ap = ap_by_counting(d.logits, d.targets, d.mask);
    double sum = 0;
    int counted = 0;
    for (double a : ap) {
      if (std::isnan(a)) continue;
      sum += 100 * a;
      ++counted;
    }
    EXPECT_EQ(got.classes_without_positives, 2);
    EXPECT_NEAR(got.map, sum / counted, 1e-9);
    EXPECT_DOUBLE_EQ(got.threshold, threshold);
    const Thresholded e = thresholded_by_counting(d.logits, d.targets, d.mask, threshold);
    EXPECT_NEAR(got.op, e.op, 1e-9) << threshold;
    EXPECT_NEAR(got.orecall, e.orecall, 1e-9) << threshold;
    EXPECT_NEAR(got.of1, e.of1, 1e-9) << threshold;
    EXPECT_NEAR(got.cp, e.cp, 1e-9) << threshold;
    EXPECT_NEAR(got.cr, e.cr, 1e-9) << threshold;
    EXPECT_NEAR(got.cf1, e.cf1, 1e-9) << threshold;
  }
  // By hand at 0.5 (predicted <=> logit >= 0), per class over valid entries:
  //   Nc = [2, 3, 0, 0, 0], Np = [4, 6, 4, 0 -> 1, 4], Ng = [3, 3, 0, 2, 0]
  // OP = 5/19 (18 without the clamp), OR = 5/8; CP = (2/4 + 3/6 + 0/1) / 3, CR = (2/3 + 1 + 0) / 3
  // over the three classes with positives.
  const Metrics m = evaluate(d.logits, d.targets, d.mask, 0.5);
  EXPECT_NEAR(m.map, 100 * (0.5 + 13.0 / 18 + 7.0 / 24) / 3, 1e-9);
  EXPECT_NEAR(m.op, 100.0 * 5 / 19, 1e-9);
  EXPECT_NEAR(m.orecall, 100.0 * 5 / 8, 1e-9);
  EXPECT_NEAR(m.of1, 100.0 * 10 / 27, 1e-9);
  EXPECT_NEAR(m.cp, 100.0 / 3, 1e-9);
  EXPECT_NEAR(m.cr, 100.0 * 5 / 9, 1e-9);
  EXPECT_NEAR(m.cf1, 100.0 * 5 / 12, 1e-9);
  ASSERT_EQ(m.ap.size(), 5u);
  EXPECT_NEAR(m.ap[1], 100.0 * 13 / 18, 1e-9);  // per-class AP in percent
}

}  // namespace
}  // namespace cpsd::engine
