// SPDX-License-Identifier: Apache-2.0
// COCO instances JSON, read with a SAX parser: train2017 is ~450 MB of mostly segmentation
// polygons, which a DOM would hold in several GB; only ids, names and file names are kept.
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "cpsd/core/data/readers.h"
#include "cpsd/sdk/error.h"

namespace cpsd::data {
namespace {

using Json = nlohmann::json;

struct CocoImage {
  int64_t id = -1;
  std::string file_name;
};
struct CocoCategory {
  int64_t id = -1;
  std::string name;
};
struct CocoAnnotation {
  int64_t image_id = -1;
  int64_t category_id = -1;
};

// Collects images[], categories[] and annotations[] members at depth 3 (top object,
// array, element object); everything deeper (segmentation, bbox) is skipped.
class CocoSax : public nlohmann::json_sax<Json> {
 public:
  std::vector<CocoImage> images;
  std::vector<CocoCategory> categories;
  std::vector<CocoAnnotation> annotations;
  std::string error;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t v) override { return integer(v); }
  bool number_unsigned(number_unsigned_t v) override { return integer(static_cast<int64_t>(v)); }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool string(string_t& v) override {
    if (depth_ != 3) return true;
    if (section_ == Section::images && key_ == "file_name") images.back().file_name = v;
    if (section_ == Section::categories && key_ == "name") categories.back().name = v;
    return true;
  }
  bool start_object(std::size_t) override {
    ++depth_;
    if (depth_ == 3) {
      if (section_ == Section::images) images.emplace_back();
      if (section_ == Section::categories) categories.emplace_back();
      if (section_ == Section::annotations) annotations.emplace_back();
    }
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth_;
    if (depth_ == 2) {
      section_ = key_ == "images"        ? Section::images
                 : key_ == "categories"  ? Section::categories
                 : key_ == "annotations" ? Section::annotations
                                         : Section::other;
    }
    return true;
  }
  bool end_array() override {
    if (depth_ == 2) section_ = Section::other;
    --depth_;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1 || depth_ == 3) key_ = k;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    position_ = position;
    error = e.what();
    return false;
  }
  std::size_t position() const { return position_; }

 private:
  enum class Section { other, images, categories, annotations };
  bool integer(int64_t v) {
    if (depth_ != 3) return true;
    if (section_ == Section::images && key_ == "id") images.back().id = v;
    if (section_ == Section::categories && key_ == "id") categories.back().id = v;
    if (section_ == Section::annotations && key_ == "image_id") annotations.back().image_id = v;
    if (section_ == Section::annotations && key_ == "category_id")
      annotations.back().category_id = v;
    return true;
  }
  int depth_ = 0;
  Section section_ = Section::other;
  std::string key_;
  std::size_t position_ = 0;
};

std::string line_column(const std::string& text, std::size_t byte) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace

Dataset read_coco(const fs::path& annotations, const fs::path& images, const CocoOptions& options) {
  const std::string file = annotations.string();
  std::ifstream in(annotations, std::ios::binary);
  if (!in) throw ConfigError(file + ": file not found or not readable");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  CocoSax sax;
  if (!Json::sax_parse(text, &sax)) {
    std::string why = sax.error;
    if (auto p = why.find("syntax error"); p != std::string::npos) why = why.substr(p);
    throw ConfigError(file + ":" + line_column(text, sax.position()) + ": invalid JSON: " + why);
  }
  if (sax.categories.empty()) {
    throw ConfigError(file +
                      ": no 'categories': not a COCO instances file (expected images, "
                      "annotations and categories arrays)");
  }
  std::vector<CocoCategory> categories = sax.categories;
  for (const CocoCategory& c : categories) {
    if (c.id < 0 || c.name.empty()) throw ConfigError(file + ": a category lacks its id or name");
  }
  std::stable_sort(categories.begin(), categories.end(), [&](const auto& a, const auto& b) {
    return options.order_by_name ? a.name < b.name : a.id < b.id;
  });
  Dataset out;
  out.name = annotations.filename().string();
  std::unordered_map<int64_t, int64_t> class_of;
  for (const CocoCategory& c : categories) {
    if (!class_of.emplace(c.id, out.num_classes()).second) {
      throw ConfigError(file + ": category id " + std::to_string(c.id) + " appears twice");
    }
    out.class_names.push_back(c.name);
  }
  std::unordered_map<int64_t, std::size_t> sample_of;
  for (const CocoImage& im : sax.images) {
    if (im.id < 0 || im.file_name.empty())
      throw ConfigError(file + ": an image lacks its id or file_name");
    if (!sample_of.emplace(im.id, out.samples.size()).second) {
      throw ConfigError(file + ": image id " + std::to_string(im.id) + " appears twice");
    }
    out.samples.push_back({(images / im.file_name).string(), {}, {}});
  }
  for (std::size_t a = 0; a < sax.annotations.size(); ++a) {
    const CocoAnnotation& ann = sax.annotations[a];
    auto cls = class_of.find(ann.category_id);
    if (cls == class_of.end()) {
      throw ConfigError(file + ": annotation " + std::to_string(a) + " has category_id " +
                        std::to_string(ann.category_id) + ", which is not in 'categories'");
    }
    auto sample = sample_of.find(ann.image_id);
    if (sample == sample_of.end()) {
      throw ConfigError(file + ": annotation " + std::to_string(a) + " refers to image_id " +
                        std::to_string(ann.image_id) + ", which is not in 'images'");
    }
    out.samples[sample->second].labels.push_back(cls->second);
  }
  std::vector<Sample> kept;
  kept.reserve(out.samples.size());
  for (Sample& s : out.samples) {
    std::sort(s.labels.begin(), s.labels.end());
    s.labels.erase(std::unique(s.labels.begin(), s.labels.end()), s.labels.end());
    if (options.keep_empty || !s.labels.empty()) kept.push_back(std::move(s));
  }
  out.samples = std::move(kept);
  return out;
}

}  // namespace cpsd::data
