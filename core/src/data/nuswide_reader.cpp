// SPDX-License-Identifier: Apache-2.0
// NUS-WIDE: the official image list + per-concept label files, or the one-CSV form.
#include <algorithm>
#include <map>

#include "cpsd/core/data/readers.h"
#include "cpsd/core/text.h"
#include "cpsd/sdk/error.h"
#include "text_files.h"

namespace cpsd::data {
namespace {

Dataset read_nuswide_csv(const fs::path& csv, const fs::path& images,
                         const fs::path& classes_file) {
  const std::vector<std::string> lines = read_lines(csv);
  const std::string file = csv.string();
  if (lines.empty())
    throw ConfigError(file + ": empty file (expected a header, then path,labels rows)");
  std::vector<std::pair<std::string, std::vector<std::string>>> rows;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (trim(lines[i]).empty()) continue;
    const std::vector<std::string> fields = split_csv(lines[i]);
    if (fields.size() < 2) {
      throw ConfigError(file + ":" + std::to_string(i + 1) + ": expected `path,labels`");
    }
    std::string path = trim(fields[0]);
    std::replace(path.begin(), path.end(), '\\', '/');
    // A Python list written without quotes spans several CSV fields: join them back.
    std::string cell = fields[1];
    for (std::size_t f = 2; f < fields.size(); ++f) cell += "," + fields[f];
    rows.emplace_back(path, split_label_names(cell));
  }
  Dataset out;
  out.name = csv.filename().string();
  if (!classes_file.empty()) {
    out.class_names = read_class_list(classes_file);
  } else {
    for (const auto& [path, names] : rows) {
      out.class_names.insert(out.class_names.end(), names.begin(), names.end());
    }
    std::sort(out.class_names.begin(), out.class_names.end());
    out.class_names.erase(std::unique(out.class_names.begin(), out.class_names.end()),
                          out.class_names.end());
  }
  std::map<std::string, int64_t> index;
  for (std::size_t c = 0; c < out.class_names.size(); ++c) index[out.class_names[c]] = c;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    Sample s{(images / rows[r].first).string(), {}, {}};
    for (const std::string& name : rows[r].second) {
      auto it = index.find(name);
      if (it == index.end()) {
        throw ConfigError(file + ": row " + std::to_string(r + 1) + ": unknown class '" + name +
                          "'" + did_you_mean(name, out.class_names));
      }
      s.labels.push_back(it->second);
    }
    std::sort(s.labels.begin(), s.labels.end());
    s.labels.erase(std::unique(s.labels.begin(), s.labels.end()), s.labels.end());
    if (!s.labels.empty()) out.samples.push_back(std::move(s));
  }
  return out;
}

}  // namespace

Dataset read_nuswide(const fs::path& root, const fs::path& images, const std::string& split,
                     const fs::path& classes_file) {
  if (root.extension() == ".csv") return read_nuswide_csv(root, images, classes_file);
  if (split != "Train" && split != "Test") {
    throw ConfigError("nuswide split '" + split + "': the official layout has Train and Test");
  }
  Dataset out;
  out.name = "NUS-WIDE " + split;
  out.class_names = read_class_list(classes_file.empty() ? root / "Concepts81.txt" : classes_file);
  const fs::path list = root / "ImageList" / (split + "Imagelist.txt");
  std::vector<std::string> paths;
  for (std::string line : read_lines(list)) {
    line = trim(line);
    if (line.empty()) continue;
    std::replace(line.begin(), line.end(), '\\', '/');
    paths.push_back(line);
  }
  std::vector<std::vector<int64_t>> labels(paths.size());
  for (std::size_t c = 0; c < out.class_names.size(); ++c) {
    const fs::path label_file = root / "Groundtruth" / "TrainTestLabels" /
                                ("Labels_" + out.class_names[c] + "_" + split + ".txt");
    const std::vector<std::string> values = read_lines(label_file);
    std::size_t row = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::string v = trim(values[i]);
      if (v.empty()) continue;
      if (row >= paths.size()) {
        throw ConfigError(label_file.string() + ": more rows than the " +
                          std::to_string(paths.size()) + " images of " + list.string());
      }
      if (v != "0" && v != "1") {
        throw ConfigError(label_file.string() + ":" + std::to_string(i + 1) +
                          ": expected 0 or 1, got '" + v + "'");
      }
      if (v == "1") labels[row].push_back(static_cast<int64_t>(c));
      ++row;
    }
    if (row != paths.size()) {
      throw ConfigError(label_file.string() + ": " + std::to_string(row) + " rows for " +
                        std::to_string(paths.size()) + " images of " + list.string());
    }
  }
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (!labels[i].empty()) out.samples.push_back({(images / paths[i]).string(), labels[i], {}});
  }
  return out;
}

}  // namespace cpsd::data
