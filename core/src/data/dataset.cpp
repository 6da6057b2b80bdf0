// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/data/dataset.h"

#include <algorithm>

#include "cpsd/core/label_statistics_io.h"

namespace cpsd::data {

Dataset restrict_to_classes(const Dataset& full, const std::vector<int64_t>& subset,
                            bool drop_empty) {
  std::vector<int64_t> local(static_cast<std::size_t>(full.num_classes()), -1);
  Dataset out;
  out.name = full.name;
  for (std::size_t j = 0; j < subset.size(); ++j) {
    local[subset[j]] = static_cast<int64_t>(j);
    out.class_names.push_back(full.class_names[subset[j]]);
  }
  for (const Sample& s : full.samples) {
    Sample r;
    r.path = s.path;
    for (int64_t c : s.labels) {
      if (local[c] >= 0) r.labels.push_back(local[c]);
    }
    for (int64_t c : s.ignored) {
      if (local[c] >= 0) r.ignored.push_back(local[c]);
    }
    if (drop_empty && r.labels.empty()) continue;
    std::sort(r.labels.begin(), r.labels.end());
    std::sort(r.ignored.begin(), r.ignored.end());
    out.samples.push_back(std::move(r));
  }
  return out;
}

LabelStatistics dataset_statistics(const Dataset& dataset) {
  std::vector<std::vector<int64_t>> labels;
  labels.reserve(dataset.samples.size());
  for (const Sample& s : dataset.samples) labels.push_back(s.labels);
  return count_label_statistics(dataset.class_names, labels);
}

}  // namespace cpsd::data
