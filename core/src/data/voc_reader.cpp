// SPDX-License-Identifier: Apache-2.0
// PASCAL VOC: ImageSets/Main/<class>_<split>.txt with 1 (present), -1 (absent), 0 (difficult).
#include <algorithm>
#include <map>
#include <sstream>

#include "cpsd/core/data/readers.h"
#include "cpsd/sdk/error.h"
#include "text_files.h"

namespace cpsd::data {

Dataset read_voc(const fs::path& voc_root, const fs::path& images, const std::string& split,
                 Difficult difficult) {
  const fs::path main = voc_root / "ImageSets" / "Main";
  std::error_code ec;
  if (!fs::is_directory(main, ec)) {
    throw ConfigError(main.string() +
                      ": not found; give the VOC year directory (e.g. VOCdevkit/VOC2007)");
  }
  const std::string suffix = "_" + split + ".txt";
  Dataset out;
  out.name = "VOC " + split;
  for (const auto& entry : fs::directory_iterator(main)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.class_names.push_back(name.substr(0, name.size() - suffix.size()));
    }
  }
  std::sort(out.class_names.begin(), out.class_names.end());
  if (out.class_names.empty()) {
    throw ConfigError(main.string() + ": no <class>" + suffix + " files for split '" + split + "'");
  }
  std::map<std::string, std::size_t> sample_of;
  for (std::size_t c = 0; c < out.class_names.size(); ++c) {
    const fs::path file = main / (out.class_names[c] + suffix);
    const std::vector<std::string> lines = read_lines(file);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::istringstream row(lines[i]);
      std::string id;
      int value = 0;
      if (!(row >> id)) continue;  // blank line
      if (!(row >> value) || (value != 1 && value != -1 && value != 0)) {
        throw ConfigError(file.string() + ":" + std::to_string(i + 1) +
                          ": expected `<image id> 1|-1|0`");
      }
      auto [it, added] = sample_of.emplace(id, out.samples.size());
      if (added) out.samples.push_back({(images / (id + ".jpg")).string(), {}, {}});
      Sample& s = out.samples[it->second];
      const bool positive = value == 1 || (value == 0 && difficult == Difficult::positive);
      if (positive) s.labels.push_back(static_cast<int64_t>(c));
      if (value == 0 && difficult == Difficult::ignore)
        s.ignored.push_back(static_cast<int64_t>(c));
    }
  }
  return out;
}

}  // namespace cpsd::data
