// SPDX-License-Identifier: Apache-2.0
// The ImageNet layout: one sub-directory per class, the images inside (single-label).
#include <algorithm>
#include <cctype>

#include "cpsd/core/data/readers.h"
#include "cpsd/sdk/error.h"

namespace cpsd::data {
namespace {

std::string lower_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool is_image(const fs::path& p) {
  const std::string ext = lower_extension(p);
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

// Images the pipeline does not decode (it reads JPEG and PNG): refused here, before a run
// starts, rather than at their first batch.
void refuse_other_formats(const fs::path& file) {
  const std::string ext = lower_extension(file);
  for (const char* e : {".bmp", ".webp", ".tif", ".tiff", ".gif"}) {
    if (ext == e) {
      throw ConfigError(file.string() + ": cpsd reads JPEG and PNG images, not " + ext +
                        "; convert the dataset's images to JPEG or PNG");
    }
  }
}

}  // namespace

Dataset read_image_folder(const fs::path& dir, const fs::path& classes_file) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw ConfigError(dir.string() + ": not a directory (a folder dataset is DIR/<class>/<image>)");
  }
  Dataset out;
  out.name = dir.filename().string();
  if (!classes_file.empty()) {
    out.class_names = read_class_list(classes_file);
  } else {
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.is_directory()) out.class_names.push_back(e.path().filename().string());
    }
    std::sort(out.class_names.begin(), out.class_names.end());  // torchvision's ImageFolder order
  }
  if (out.class_names.empty()) {
    throw ConfigError(dir.string() +
                      ": no class sub-directories (a folder dataset is DIR/<class>/<image>)");
  }
  for (std::size_t c = 0; c < out.class_names.size(); ++c) {
    const fs::path class_dir = dir / out.class_names[c];
    if (!fs::is_directory(class_dir, ec)) {
      throw ConfigError(class_dir.string() + ": missing; every class of " + classes_file.string() +
                        " needs its sub-directory");
    }
    std::vector<std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(class_dir)) {
      if (!e.is_regular_file()) continue;
      refuse_other_formats(e.path());
      if (is_image(e.path())) files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    for (std::string& f : files)
      out.samples.push_back(Sample{std::move(f), {static_cast<int64_t>(c)}, {}});
  }
  if (out.samples.empty())
    throw ConfigError(dir.string() + ": no images in its class sub-directories");
  return out;
}

}  // namespace cpsd::data
