// SPDX-License-Identifier: Apache-2.0
// Multi-label metrics as the MLIC papers compute them.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "cpsd/core/export.h"

namespace cpsd::engine {

/// Non-interpolated average precision of each class (ML-GCN/ASL's definition): scores
/// sorted descending (ties in sample order), AP = mean over the class's positives of the
/// precision at each positive's rank. scores, targets: [N, C] (any float dtype; scores may
/// be logits or probabilities, only the order matters); mask: undefined or [N, C] with 0 for
/// entries to leave out (VOC difficult). A class without positives gets NaN.
CPSD_CORE_API std::vector<double> average_precision(const at::Tensor& scores,
                                                    const at::Tensor& targets,
                                                    const at::Tensor& mask = {});

/// mAP and the thresholded metrics, all in percent.
struct Metrics {
  double map = 0;                         ///< mean AP over classes that have positives
  std::vector<double> ap;                 ///< per class, percent; NaN without positives
  int64_t classes_without_positives = 0;  ///< left out of mAP, CP and CR
  double threshold = 0.5;                 ///< on sigmoid(logit)
  double cp = 0, cr = 0, cf1 = 0, op = 0, orecall = 0, of1 = 0;
  double cp_top3 = 0, cr_top3 = 0, cf1_top3 = 0, op_top3 = 0, or_top3 = 0, of1_top3 = 0;
};

/// logits, targets, mask as for average_precision. Predicted positive: sigmoid(logit) >=
/// threshold; for the top-3 variants, additionally among the image's three highest logits.
/// Per class c: Nc correct, Np predicted (counted as 1 when 0), Ng positives;
/// OP = sum Nc / sum Np, OR = sum Nc / sum Ng, CP = mean Nc/Np, CR = mean Nc/Ng (classes
/// with positives), F1 = 2PR/(P+R) from the averaged P and R (ML-GCN's formulas).
CPSD_CORE_API Metrics evaluate(const at::Tensor& logits, const at::Tensor& targets,
                               const at::Tensor& mask, double threshold);

}  // namespace cpsd::engine
