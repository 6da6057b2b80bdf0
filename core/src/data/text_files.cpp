// SPDX-License-Identifier: Apache-2.0
#include "text_files.h"

#include <fstream>

#include "cpsd/sdk/error.h"

namespace cpsd::data {

std::vector<std::string> read_lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw ConfigError(file.string() + ": file not found or not readable");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\'' || s[b] == '"')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\'' || s[e - 1] == '"')) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> split_label_names(const std::string& cell) {
  std::string text = trim(cell);
  if (!text.empty() && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  char separator = ';';
  if (text.find(';') == std::string::npos) {
    if (text.find('|') != std::string::npos) {
      separator = '|';
    } else if (cell.find('[') != std::string::npos) {
      separator = ',';
    }
  }
  std::vector<std::string> names;
  std::string current;
  for (char c : text + separator) {
    if (c == separator) {
      std::string name = trim(current);
      if (!name.empty()) names.push_back(name);
      current.clear();
    } else {
      current += c;
    }
  }
  return names;
}

}  // namespace cpsd::data
