// SPDX-License-Identifier: Apache-2.0
#include "class_vectors.h"

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <ATen/ATen.h>

namespace cpsd::heads {
namespace {

std::vector<std::string> words_of(const std::string& name) {
  std::vector<std::string> words;
  std::string current;
  for (char c : name + " ") {
    if (c == ' ' || c == '_' || c == '-') {
      if (!current.empty()) words.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  return words;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

at::Tensor read_class_vectors(const std::string& file, const std::vector<std::string>& class_names,
                              int64_t dim, const Options& options, const char* key) {
  std::set<std::string> wanted;
  for (const std::string& name : class_names) {
    wanted.insert(name);
    wanted.insert(lower(name));
    for (const std::string& w : words_of(name)) {
      wanted.insert(w);
      wanted.insert(lower(w));
    }
  }
  std::ifstream in(file);
  if (!in)
    options.fail(key, "cannot open '" + file + "' (a GloVe text file, e.g. glove.6B.300d.txt)");
  std::map<std::string, std::vector<float>> found;
  std::string line;
  int64_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    // The word ends at the last space before `dim` numbers; class names may contain spaces.
    std::size_t cut = line.size();
    for (int64_t i = 0; i < dim && cut != std::string::npos; ++i)
      cut = cut == 0 ? std::string::npos : line.rfind(' ', cut - 1);
    if (cut == std::string::npos) continue;
    const std::string word = line.substr(0, cut);
    if (!wanted.count(word) || found.count(word)) continue;
    std::istringstream numbers(line.substr(cut + 1));
    std::vector<float> v;
    for (float x; numbers >> x;) v.push_back(x);
    if (static_cast<int64_t>(v.size()) != dim) {
      options.fail(key, file + ":" + std::to_string(line_number) + ": '" + word + "' has " +
                            std::to_string(v.size()) + " numbers, expected " + std::to_string(dim));
    }
    found[word] = std::move(v);
  }
  auto lookup = [&](const std::string& w) -> const std::vector<float>* {
    if (auto it = found.find(w); it != found.end()) return &it->second;
    if (auto it = found.find(lower(w)); it != found.end()) return &it->second;
    return nullptr;
  };
  at::Tensor out = at::zeros({static_cast<int64_t>(class_names.size()), dim});
  std::vector<std::string> missing;
  for (std::size_t c = 0; c < class_names.size(); ++c) {
    if (const auto* v = lookup(class_names[c])) {
      out[static_cast<int64_t>(c)] = at::tensor(*v);
      continue;
    }
    const std::vector<std::string> words = words_of(class_names[c]);
    int64_t n = 0;
    for (const std::string& w : words) {
      const auto* v = lookup(w);
      if (v == nullptr) {
        missing.push_back(w + " (in '" + class_names[c] + "')");
        continue;
      }
      out[static_cast<int64_t>(c)] += at::tensor(*v);
      ++n;
    }
    if (n > 0) out[static_cast<int64_t>(c)] /= static_cast<double>(n);
  }
  if (!missing.empty()) {
    std::string list;
    for (std::size_t i = 0; i < missing.size(); ++i) list += (i ? ", " : "") + missing[i];
    options.fail(key, file + " has no vector for " + list + "; add lines `name v1 ... v" +
                          std::to_string(dim) + "` for them or use embeddings = \"learned\"");
  }
  return out;
}

}  // namespace cpsd::heads
