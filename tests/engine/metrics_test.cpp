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
  FILE* pipe = popen(("/usr/bin/python3 " + (tmp / "ap.py").string()).c_str(), "r");
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

}  // namespace
}  // namespace cpsd::engine
