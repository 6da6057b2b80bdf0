// SPDX-License-Identifier: Apache-2.0
// Entry point of cpsd_plugin_losses.
#include "cpsd/sdk/plugin.h"
#include "asl_loss.h"
#include "bce_loss.h"
#include "distill_loss.h"
#include "softmax_ce_loss.h"

CPSD_PLUGIN("losses", "0.1.0",
            cpsd::plugin::factory<cpsd::losses::AsymmetricLoss>(
                "asl", "asymmetric loss (paper Eq. 4), reference defaults",
                cpsd::losses::AsymmetricLoss::kDefaults),
            cpsd::plugin::factory<cpsd::losses::BinaryCrossEntropy>(
                "bce", "binary cross-entropy on logits",
                cpsd::losses::BinaryCrossEntropy::kDefaults),
            cpsd::plugin::factory<cpsd::losses::DistillationLoss>(
                "distill",
                "student-to-teacher distillation: MSE (paper), KL or soft BCE per branch",
                cpsd::losses::DistillationLoss::kDefaults),
            cpsd::plugin::factory<cpsd::losses::SoftmaxCrossEntropy>(
                "softmax_ce", "softmax cross-entropy for single-label training (cpsd pretrain)",
                cpsd::losses::SoftmaxCrossEntropy::kDefaults))
