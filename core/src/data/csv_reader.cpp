// SPDX-License-Identifier: Apache-2.0
// The generic form for custom data: image,labels rows plus a class list.
#include <algorithm>
#include <map>

#include "cpsd/core/data/readers.h"
#include "cpsd/core/text.h"
#include "cpsd/sdk/error.h"
#include "text_files.h"

namespace cpsd::data {

std::vector<std::string> read_class_list(const fs::path& file) {
  std::vector<std::string> names;
  const std::vector<std::string> lines = read_lines(file);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string name = trim(lines[i]);
    if (name.empty() || name[0] == '#') continue;
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      throw ConfigError(file.string() + ":" + std::to_string(i + 1) + ": class '" + name +
                        "' is listed twice");
    }
    names.push_back(name);
  }
  if (names.empty()) throw ConfigError(file.string() + ": no class names");
  return names;
}

Dataset read_label_csv(const fs::path& csv, const fs::path& images, const fs::path& classes_file) {
  if (classes_file.empty()) {
    throw ConfigError(csv.string() + ": a csv dataset needs its class list (data.classes)");
  }
  Dataset out;
  out.name = csv.filename().string();
  out.class_names = read_class_list(classes_file);
  std::map<std::string, int64_t> index;
  for (std::size_t c = 0; c < out.class_names.size(); ++c) index[out.class_names[c]] = c;
  const std::vector<std::string> lines = read_lines(csv);
  const std::string file = csv.string();
  for (std::size_t i = 1; i < lines.size(); ++i) {  // line 1 is the header
    if (trim(lines[i]).empty()) continue;
    const std::vector<std::string> fields = split_csv(lines[i]);
    const std::string where = file + ":" + std::to_string(i + 1);
    if (fields.size() != 2) {
      throw ConfigError(where + ": expected 2 fields `image,labels`, found " +
                        std::to_string(fields.size()) + " (quote fields that contain commas)");
    }
    Sample s{(images / trim(fields[0])).string(), {}, {}};
    for (const std::string& name : split_label_names(fields[1])) {
      auto it = index.find(name);
      if (it == index.end()) {
        throw ConfigError(where + ": unknown class '" + name + "'" +
                          did_you_mean(name, out.class_names) + "; add it to " +
                          classes_file.string() + " or fix the row");
      }
      s.labels.push_back(it->second);
    }
    std::sort(s.labels.begin(), s.labels.end());
    s.labels.erase(std::unique(s.labels.begin(), s.labels.end()), s.labels.end());
    out.samples.push_back(std::move(s));
  }
  return out;
}

}  // namespace cpsd::data
