// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/label_statistics_io.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "cpsd/core/atomic_file.h"
#include "cpsd/core/log.h"
#include "cpsd/sdk/error.h"
#include "json_file.h"

namespace cpsd {

LabelStatistics count_label_statistics(const std::vector<std::string>& class_names,
                                       const std::vector<std::vector<int64_t>>& labels_per_image) {
  const auto m = static_cast<int64_t>(class_names.size());
  LabelStatistics s;
  s.class_names = class_names;
  s.num_images = static_cast<int64_t>(labels_per_image.size());
  s.counts.assign(static_cast<std::size_t>(m), 0.0);
  s.cooccurrence.assign(static_cast<std::size_t>(m * m), 0.0);
  std::vector<int64_t> labels;
  for (std::size_t image = 0; image < labels_per_image.size(); ++image) {
    labels = labels_per_image[image];
    std::sort(labels.begin(), labels.end());
    labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
    for (int64_t a : labels) {
      if (a < 0 || a >= m) {
        throw ConfigError("image " + std::to_string(image) + " has label index " +
                          std::to_string(a) + ", outside the " + std::to_string(m) + " classes");
      }
      s.counts[a] += 1;
      for (int64_t b : labels) {
        if (b != a) s.cooccurrence[a * m + b] += 1;
      }
    }
  }
  return s;
}

LabelStatistics read_statistics(const std::filesystem::path& path) {
  const std::string file = path.string();
  const Json j = read_json_file(path);
  LabelStatistics s;
  try {
    s.class_names = json_member(j, "classes", file).get<std::vector<std::string>>();
    s.num_images = json_member(j, "num_images", file).get<int64_t>();
    s.counts = json_member(j, "counts", file).get<std::vector<double>>();
    const auto rows = json_member(j, "cooccurrence", file).get<std::vector<std::vector<double>>>();
    const std::size_t m = s.class_names.size();
    if (rows.size() != m) {
      json_fail(file, "'cooccurrence' has " + std::to_string(rows.size()) + " rows for " +
                          std::to_string(m) + " classes");
    }
    for (std::size_t i = 0; i < m; ++i) {
      if (rows[i].size() != m) {
        json_fail(file, "'cooccurrence' row " + std::to_string(i) + " has " +
                            std::to_string(rows[i].size()) + " entries, expected " +
                            std::to_string(m));
      }
      s.cooccurrence.insert(s.cooccurrence.end(), rows[i].begin(), rows[i].end());
      s.cooccurrence[i * m + i] = 0.0;  // the diagonal is ignored
    }
  } catch (const Json::type_error& e) {
    json_fail(file, std::string("wrong type: ") + e.what() +
                        " (classes: strings; num_images: integer; counts: numbers; "
                        "cooccurrence: array of number arrays)");
  }
  try {
    validate_statistics(s);
  } catch (const ConfigError& e) {
    json_fail(file, e.what());
  }
  const std::string excess = statistics_excess(s);
  if (!excess.empty()) log::warn("{}: {}", file, excess);
  return s;
}

void write_statistics(const LabelStatistics& s, const std::filesystem::path& path) {
  const std::size_t m = s.class_names.size();
  Json rows = Json::array();
  for (std::size_t i = 0; i < m; ++i) {
    rows.push_back(
        std::vector<double>(s.cooccurrence.begin() + i * m, s.cooccurrence.begin() + (i + 1) * m));
  }
  Json j = {{"classes", s.class_names},
            {"num_images", s.num_images},
            {"counts", s.counts},
            {"cooccurrence", rows}};
  // Compact rows: one line per matrix row keeps big files readable and small.
  std::string text = "{\n  \"classes\": " + j["classes"].dump() +
                     ",\n  \"num_images\": " + j["num_images"].dump() +
                     ",\n  \"counts\": " + j["counts"].dump() + ",\n  \"cooccurrence\": [\n";
  for (std::size_t i = 0; i < m; ++i) {
    text += "    " + rows[i].dump() + (i + 1 < m ? ",\n" : "\n");
  }
  text += "  ]\n}\n";
  write_file_atomically(path, text);
}

std::string statistics_hash(const LabelStatistics& s) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) {
      h ^= p[i];
      h *= 1099511628211ULL;
    }
  };
  const std::size_t m = s.class_names.size();
  for (const std::string& name : s.class_names) mix(name.c_str(), name.size() + 1);
  mix(&s.num_images, sizeof(s.num_images));
  for (double c : s.counts) mix(&c, sizeof(c));
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < m; ++j) {
      const double e = i == j ? 0.0 : s.cooccurrence[i * m + j];
      mix(&e, sizeof(e));
    }
  }
  char out[32];
  std::snprintf(out, sizeof(out), "fnv1a64:%016llx", static_cast<unsigned long long>(h));
  return out;
}

}  // namespace cpsd
