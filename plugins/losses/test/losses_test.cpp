// SPDX-License-Identifier: Apache-2.0
// loss/asl, loss/bce, loss/softmax_ce and loss/distill against their formulas, loaded from the
// built plugin file.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "cpsd/core/plugin_manager.h"
#include "cpsd/core/run_config.h"
#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd {
namespace {

const Registry& registry() { return test::in_tree_plugins().registry(); }

std::shared_ptr<Loss> make(const std::string& name, const std::string& options, int64_t classes) {
  return registry().create_loss(
      name, LossArgs{plugin_options(registry(), Kind::loss, name, options), classes});
}

// The asymmetric loss written out element by element, as in the ASL paper.
double asl_reference(const torch::Tensor& logits, const torch::Tensor& y, double gn, double gp,
                     double clip, double eps) {
  double total = 0;
  auto p = torch::sigmoid(logits.to(torch::kDouble));
  for (int64_t i = 0; i < logits.size(0); ++i) {
    for (int64_t c = 0; c < logits.size(1); ++c) {
      const double pi = p[i][c].item<double>();
      if (y[i][c].item<double>() > 0.5) {
        total += std::pow(1 - pi, gp) * std::log(std::max(pi, eps));
      } else {
        const double pm = std::max(pi - clip, 0.0);
        total += std::pow(pm, gn) * std::log(std::max(1 - pm, eps));
      }
    }
  }
  return -total;
}

TEST(AsymmetricLoss, MatchesTheFormulaWithReferenceDefaults) {
  torch::manual_seed(3);
  const torch::Tensor logits = torch::randn({6, 9}) * 3;
  const torch::Tensor y = (torch::rand({6, 9}) > 0.7).to(torch::kFloat);
  auto loss = make("asl", "", 9);
  const double got = loss->forward({logits, y, {}, {}}).total.item<double>();
  EXPECT_NEAR(got, asl_reference(logits, y, 4, 0, 0.05, 1e-8), 1e-3);
  auto focal = make("asl", "gamma_neg = 2.0\ngamma_pos = 1.0\nclip = 0.1\n", 9);
  EXPECT_NEAR(focal->forward({logits, y, {}, {}}).total.item<double>(),
              asl_reference(logits, y, 2, 1, 0.1, 1e-8), 1e-3);
}

TEST(AsymmetricLoss, WithoutFocusingItIsSummedBce) {
  const torch::Tensor logits = torch::randn({5, 4});
  const torch::Tensor y = (torch::rand({5, 4}) > 0.5).to(torch::kFloat);
  auto loss = make("asl", "gamma_neg = 0.0\nclip = 0.0\n", 4);
  const double expected =
      torch::binary_cross_entropy_with_logits(logits, y, {}, {}, at::Reduction::Sum).item<double>();
  EXPECT_NEAR(loss->forward({logits, y, {}, {}}).total.item<double>(), expected, 1e-4);
}

TEST(AsymmetricLoss, MaskAndMeanReduction) {
  const torch::Tensor logits = torch::randn({4, 3});
  const torch::Tensor y = (torch::rand({4, 3}) > 0.5).to(torch::kFloat);
  torch::Tensor mask = torch::ones({4, 3});
  mask[0][0] = 0;
  mask[2][1] = 0;
  auto sum = make("asl", "", 3);
  auto mean = make("asl", "reduction = \"mean\"\n", 3);
  const double masked_sum = sum->forward({logits, y, mask, {}}).total.item<double>();
  const double masked_mean = mean->forward({logits, y, mask, {}}).total.item<double>();
  EXPECT_NEAR(masked_mean, masked_sum / 10.0, 1e-5);
  // A masked entry does not change the loss whatever its logit.
  torch::Tensor other = logits.clone();
  other[0][0] = 100;
  EXPECT_NEAR(sum->forward({other, y, mask, {}}).total.item<double>(), masked_sum, 1e-4);
}

TEST(AsymmetricLoss, FocusingWeightHasNoGradientByDefault) {
  const torch::Tensor y = torch::zeros({1, 1});
  torch::Tensor x = torch::full({1, 1}, 1.0, torch::requires_grad());
  make("asl", "", 1)->forward({x, y, {}, {}}).total.backward();
  // d/dx of -w*log(1-pm) with w = pm^4 held constant: w * (dpm/dx) / (1-pm).
  const double p = 1 / (1 + std::exp(-1.0)), pm = p - 0.05;
  const double expected = std::pow(pm, 4) * p * (1 - p) / (1 - pm);
  EXPECT_NEAR(x.grad().item<double>(), expected, 1e-5);
}

TEST(AsymmetricLoss, RejectsBadOptionsAndShapes) {
  EXPECT_THROW(make("asl", "clip = 1.5\n", 3), ConfigError);
  EXPECT_THROW(make("asl", "reduction = \"max\"\n", 3), ConfigError);
  auto loss = make("asl", "", 3);
  EXPECT_THROW(loss->forward({torch::randn({2, 4}), torch::zeros({2, 4}), {}, {}}), c10::Error);
  EXPECT_THROW(loss->forward({torch::randn({2, 3}), torch::zeros({2, 2}), {}, {}}), c10::Error);
}

TEST(BinaryCrossEntropy, MatchesLibTorch) {
  const torch::Tensor logits = torch::randn({5, 4}) * 10;
  const torch::Tensor y = (torch::rand({5, 4}) > 0.5).to(torch::kFloat);
  auto mean = make("bce", "", 4);
  EXPECT_NEAR(mean->forward({logits, y, {}, {}}).total.item<double>(),
              torch::binary_cross_entropy_with_logits(logits, y).item<double>(), 1e-5);
  auto weighted = make("bce", "pos_weight = 3.0\nreduction = \"sum\"\n", 4);
  const double expected = torch::binary_cross_entropy_with_logits(
                              logits, y, {}, torch::full({4}, 3.0), at::Reduction::Sum)
                              .item<double>();
  EXPECT_NEAR(weighted->forward({logits, y, {}, {}}).total.item<double>(), expected,
              1e-4 * std::abs(expected));
}

TEST(SoftmaxCrossEntropy, MatchesLibTorchWithAndWithoutSmoothing) {
  torch::manual_seed(5);
  const torch::Tensor logits = torch::randn({6, 10}) * 3;
  const torch::Tensor labels = torch::randint(0, 10, {6}, torch::kLong);
  const torch::Tensor one_hot = torch::one_hot(labels, 10).to(torch::kFloat);
  auto plain = make("softmax_ce", "", 10);
  EXPECT_NEAR(plain->forward({logits, one_hot, {}, {}}).total.item<double>(),
              torch::cross_entropy_loss(logits, labels).item<double>(), 1e-5);
  auto smooth = make("softmax_ce", "label_smoothing = 0.1\n", 10);
  EXPECT_NEAR(
      smooth->forward({logits, one_hot, {}, {}}).total.item<double>(),
      torch::cross_entropy_loss(logits, labels, {}, at::Reduction::Mean, -100, 0.1).item<double>(),
      1e-5);
  // An image without a label does not count.
  torch::Tensor partial = one_hot.clone();
  partial[0].zero_();
  EXPECT_NEAR(plain->forward({logits, partial, {}, {}}).total.item<double>(),
              torch::cross_entropy_loss(logits.slice(0, 1), labels.slice(0, 1)).item<double>(),
              1e-5);
  EXPECT_THROW(make("softmax_ce", "label_smoothing = 1.0\n", 10), ConfigError);
}

// The distillation terms written out per sample and class in double precision:
// mse (s - t)^2, kl q (log q - log p) T^2 over softmax(./T) across classes, bce
// -(y log sigmoid(s/T) + (1 - y) log(1 - sigmoid(s/T))) T^2 with y = sigmoid(t/T); each
// entry times its class weight, summed, and for "mean" divided by N x C (kl: by N).
double distill_reference(const std::string& metric, const torch::Tensor& s, const torch::Tensor& t,
                         const std::vector<double>& w, double temperature, bool mean) {
  const auto sd = s.to(torch::kDouble), td = t.to(torch::kDouble);
  const int64_t n = s.size(0), c = s.size(1);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    double zs = 0, zt = 0;
    for (int64_t j = 0; j < c; ++j) {
      zs += std::exp(sd[i][j].item<double>() / temperature);
      zt += std::exp(td[i][j].item<double>() / temperature);
    }
    for (int64_t j = 0; j < c; ++j) {
      const double a = sd[i][j].item<double>(), b = td[i][j].item<double>();
      double term = 0;
      if (metric == "mse") {
        term = (a - b) * (a - b);
      } else if (metric == "kl") {
        const double q = std::exp(b / temperature) / zt, p = std::exp(a / temperature) / zs;
        term = q * (std::log(q) - std::log(p)) * temperature * temperature;
      } else {
        const double y = 1 / (1 + std::exp(-b / temperature)),
                     x = 1 / (1 + std::exp(-a / temperature));
        term = -(y * std::log(x) + (1 - y) * std::log(1 - x)) * temperature * temperature;
      }
      total += w[static_cast<std::size_t>(j)] * term;
    }
  }
  if (mean) total /= metric == "kl" ? static_cast<double>(n) : static_cast<double>(n * c);
  return total;
}

TEST(DistillationLoss, PerClassWeightsMultiplyEachTermOfItsBranch) {
  torch::manual_seed(11);
  const torch::Tensor s = torch::randn({4, 5}) * 2, y = torch::zeros({4, 5});
  const torch::Tensor cgp = torch::randn({4, 5}) * 3, dgp = torch::randn({4, 5}) * 3;
  const std::vector<double> w = {1.0, 0.0, 0.5, 0.25, 1.0};
  const torch::Tensor weights = torch::tensor(std::vector<float>(w.begin(), w.end()));
  const std::vector<double> ones(5, 1.0);
  for (const char* metric : {"mse", "kl", "bce"}) {
    for (const char* reduction : {"sum", "mean"}) {
      const std::string options = std::string("metric = \"") + metric + "\"\nreduction = \"" +
                                  reduction + "\"\nweight = 0.5\ntemperature = 2.0\n";
      auto loss = make("distill", options, 5);
      const bool mean = std::string(reduction) == "mean";
      // 0.5 split over two branches; the CGP branch weighted per class, DGP not.
      const double expected = 0.25 * distill_reference(metric, s, cgp, w, 2.0, mean) +
                              0.25 * distill_reference(metric, s, dgp, ones, 2.0, mean);
      const LossOutput out = loss->forward({s, y, {}, {{"cgp", cgp, weights}, {"dgp", dgp, {}}}});
      EXPECT_NEAR(out.total.item<double>(), expected, 1e-5 * std::max(1.0, std::abs(expected)))
          << metric << " " << reduction;
      ASSERT_EQ(out.parts.size(), 2u);
      EXPECT_EQ(out.parts[0].first, "kd_cgp");
    }
  }
  // A class of weight 0 gets no gradient from its branch.
  torch::Tensor student = s.clone().requires_grad_(true);
  make("distill", "metric = \"mse\"\n", 5)
      ->forward({student, y, {}, {{"cgp", cgp, weights}}})
      .total.backward();
  EXPECT_TRUE(torch::equal(student.grad().select(1, 1), torch::zeros({4})));
  EXPECT_GT(student.grad().select(1, 0).abs().sum().item<double>(), 0);
  EXPECT_THROW(make("distill", "", 5)->forward({s, y, {}, {{"cgp", cgp, torch::ones({4})}}}),
               c10::Error);
}

// The same three metrics through other LibTorch paths than the plugin takes: mse as a weighted
// squared error, kl through kl_div (the T^2 factor outside, "batchmean" for mean), bce through
// binary_cross_entropy_with_logits with its own `weight` argument and "mean" reduction.
torch::Tensor distill_formula(const std::string& metric, const torch::Tensor& s,
                              const torch::Tensor& t, const torch::Tensor& w, double temperature,
                              bool mean) {
  namespace F = torch::nn::functional;
  const auto sd = s.to(torch::kDouble), td = t.to(torch::kDouble);
  const auto wd = w.to(torch::kDouble);
  const double t2 = temperature * temperature;
  if (metric == "mse") {
    const torch::Tensor sum = ((sd - td).pow(2) * wd).sum();
    return mean ? sum / static_cast<double>(s.numel()) : sum;
  }
  if (metric == "kl") {
    const torch::Tensor log_p = F::log_softmax(sd / temperature, F::LogSoftmaxFuncOptions(1));
    const torch::Tensor q = F::softmax(td / temperature, F::SoftmaxFuncOptions(1));
    if (!mean) {
      // Unweighted: kl_div's own "sum"; weighted: its per-entry terms times the class weights.
      return torch::equal(wd, torch::ones_like(wd))
                 ? F::kl_div(log_p, q, F::KLDivFuncOptions().reduction(torch::kSum)) * t2
                 : (F::kl_div(log_p, q, F::KLDivFuncOptions().reduction(torch::kNone)) * wd).sum() *
                       t2;
    }
    return (F::kl_div(log_p, q, F::KLDivFuncOptions().reduction(torch::kNone)) * wd).sum() /
           static_cast<double>(s.size(0)) * t2;
  }
  const torch::Tensor soft = torch::sigmoid(td / temperature);
  auto options = F::BinaryCrossEntropyWithLogitsFuncOptions().weight(wd.expand_as(sd));
  if (mean) {
    options.reduction(torch::kMean);
  } else {
    options.reduction(torch::kSum);
  }
  return F::binary_cross_entropy_with_logits(sd / temperature, soft, options) * t2;
}

std::string distill_options(const std::string& metric, const std::string& reduction, double weight,
                            double temperature) {
  return "metric = \"" + metric + "\"\nreduction = \"" + reduction +
         "\"\nweight = " + std::to_string(weight) +
         "\ntemperature = " + std::to_string(temperature) + "\n";
}

TEST(DistillationLoss, EachMetricAndReductionMatchesItsLibTorchFormula) {
  torch::manual_seed(21);
  const int64_t n = 5, c = 7;
  const torch::Tensor s = torch::randn({n, c}) * 3, y = torch::zeros({n, c});
  const std::vector<torch::Tensor> teachers = {
      torch::randn({n, c}) * 3, torch::randn({n, c}) * 2 + 1, torch::randn({n, c}) * 4};
  const torch::Tensor w = torch::tensor({1.0f, 0.0f, 0.3f, 2.0f, 1.0f, 0.5f, 1.5f});
  const torch::Tensor ones = torch::ones({c});
  // Three branches, the second with per-class weights: each gets weight / 3.
  const double weight = 0.7;
  for (const char* metric : {"mse", "kl", "bce"}) {
    for (const char* reduction : {"sum", "mean"}) {
      for (double temperature : {1.0, 3.0}) {
        const bool mean = std::string(reduction) == "mean";
        auto loss = make("distill", distill_options(metric, reduction, weight, temperature), c);
        const LossOutput out = loss->forward(
            {s, y, {}, {{"a", teachers[0], {}}, {"b", teachers[1], w}, {"c", teachers[2], {}}}});
        ASSERT_EQ(out.parts.size(), 3u);
        double expected_total = 0;
        for (std::size_t b = 0; b < 3; ++b) {
          const double term =
              weight / 3 *
              distill_formula(metric, s, teachers[b], b == 1 ? w : ones, temperature, mean)
                  .item<double>();
          expected_total += term;
          EXPECT_NEAR(out.parts[b].second.item<double>(), term, 1e-5 * std::max(1.0, term))
              << metric << " " << reduction << " T=" << temperature << " branch " << b;
        }
        EXPECT_EQ(out.parts[1].first, "kd_b");
        EXPECT_NEAR(out.total.item<double>(), expected_total, 1e-5 * std::max(1.0, expected_total))
            << metric << " " << reduction << " T=" << temperature;
      }
    }
  }
}

TEST(DistillationLoss, LiteralValuesComputedWithPyTorch) {
  // One branch, weight 1, T = 2, from PyTorch 1.13 in float64:
  //   s = [[1, -2, .5], [0, 3, -1]]; t = [[2, -1, -.5], [1.5, 2, 0]]; w = [1, .5, 2]; T = 2
  //   mse = ((s - t)**2 * w).sum()
  //   kl  = (F.kl_div(F.log_softmax(s/T, 1), F.softmax(t/T, 1), reduction="none") * w).sum() * T*T
  //   bce = F.binary_cross_entropy_with_logits(s/T, torch.sigmoid(t/T), weight=w,
  //                                            reduction="sum") * T*T
  //   mean: mse and bce / 6 (N x C), kl / 2 (N)
  const torch::Tensor s = torch::tensor({1.0f, -2.0f, 0.5f, 0.0f, 3.0f, -1.0f}).reshape({2, 3});
  const torch::Tensor t = torch::tensor({2.0f, -1.0f, -0.5f, 1.5f, 2.0f, 0.0f}).reshape({2, 3});
  const torch::Tensor w = torch::tensor({1.0f, 0.5f, 2.0f});
  const torch::Tensor y = torch::zeros({2, 3});
  struct Case {
    const char* metric;
    double plain_sum, plain_mean, weighted_sum, weighted_mean;
  };
  const std::vector<Case> cases = {
      {"mse", 7.25, 7.25 / 6, 8.25, 8.25 / 6},
      {"kl", 1.0390240509, 0.5195120254, 1.2088475014, 0.6044237507},
      {"bce", 16.1515326842, 2.6919221140, 19.3225192687, 3.2204198781}};
  for (const Case& k : cases) {
    auto sum = make("distill", distill_options(k.metric, "sum", 1.0, 2.0), 3);
    auto mean = make("distill", distill_options(k.metric, "mean", 1.0, 2.0), 3);
    const auto value = [&](const std::shared_ptr<Loss>& loss, const torch::Tensor& weights) {
      return loss->forward({s, y, {}, {{"cgp", t, weights}}}).total.item<double>();
    };
    EXPECT_NEAR(value(sum, {}), k.plain_sum, 1e-5) << k.metric;
    EXPECT_NEAR(value(mean, {}), k.plain_mean, 1e-5) << k.metric;
    EXPECT_NEAR(value(sum, w), k.weighted_sum, 1e-5) << k.metric;
    EXPECT_NEAR(value(mean, w), k.weighted_mean, 1e-5) << k.metric;
  }
}

TEST(DistillationLoss, TemperatureSquaredKeepsTheGradientScaleOfKlAndBce) {
  // d/ds of T^2 KL(softmax(t/T) || softmax(s/T)) = T (softmax(s/T) - softmax(t/T)), and
  // d/ds of T^2 BCE(s/T, sigmoid(t/T)) = T (sigmoid(s/T) - sigmoid(t/T)): without the T^2
  // factor both would be 1/T of that.
  torch::manual_seed(4);
  const torch::Tensor s0 = torch::randn({3, 4}) * 2, t = torch::randn({3, 4}) * 2;
  const torch::Tensor y = torch::zeros({3, 4});
  for (double temperature : {1.0, 4.0}) {
    for (const char* metric : {"kl", "bce"}) {
      torch::Tensor s = s0.clone().requires_grad_(true);
      make("distill", distill_options(metric, "sum", 1.0, temperature), 4)
          ->forward({s, y, {}, {{"cgp", t, {}}}})
          .total.backward();
      const torch::Tensor expected =
          std::string(metric) == "kl"
              ? temperature *
                    (torch::softmax(s0 / temperature, 1) - torch::softmax(t / temperature, 1))
              : temperature * (torch::sigmoid(s0 / temperature) - torch::sigmoid(t / temperature));
      EXPECT_TRUE(torch::allclose(s.grad(), expected, 1e-4, 1e-5))
          << metric << " T=" << temperature << "\n"
          << s.grad() << "\n"
          << expected;
    }
  }
  // mse ignores the temperature and never sends gradient to the teacher.
  torch::Tensor s = s0.clone().requires_grad_(true);
  torch::Tensor teacher = t.clone().requires_grad_(true);
  make("distill", distill_options("mse", "sum", 1.0, 4.0), 4)
      ->forward({s, y, {}, {{"cgp", teacher, {}}}})
      .total.backward();
  EXPECT_TRUE(torch::allclose(s.grad(), 2 * (s0 - t), 1e-5, 1e-5));
  EXPECT_FALSE(teacher.grad().defined());
}

}  // namespace
}  // namespace cpsd
