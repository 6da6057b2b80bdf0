// SPDX-License-Identifier: Apache-2.0
// A multi-label dataset in memory: image paths and label indices, whatever the file format.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cpsd/core/export.h"
#include "cpsd/sdk/decomposer.h"

namespace cpsd::data {

struct Sample {
  std::string path;              ///< image file (absolute, or relative to the process)
  std::vector<int64_t> labels;   ///< positive class indices, sorted, unique
  std::vector<int64_t> ignored;  ///< class indices left out of loss and metrics (VOC difficult)
};

/// What one reader produced: the classes, in the order every tensor uses, and the samples.
struct Dataset {
  std::string name;  ///< for messages, e.g. "instances_train2017.json"
  std::vector<std::string> class_names;
  std::vector<Sample> samples;
  int64_t num_classes() const { return static_cast<int64_t>(class_names.size()); }
};

/// The dataset restricted to a label subset (a teacher's sub-task): class `subset[j]` of the
/// full set becomes class j. With `drop_empty`, images with no positive in the subset are
/// left out (the paper's wording); otherwise they stay as all-negative samples (the
/// authors' code).
CPSD_CORE_API Dataset restrict_to_classes(const Dataset& full, const std::vector<int64_t>& subset,
                                          bool drop_empty);

/// n_i and e_ij over the training samples (see count_label_statistics).
CPSD_CORE_API LabelStatistics dataset_statistics(const Dataset& dataset);

}  // namespace cpsd::data
