// SPDX-License-Identifier: Apache-2.0
#include "json_file.h"

#include <fstream>
#include <sstream>

#include "cpsd/sdk/error.h"

namespace cpsd {

Json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path.string() + ": file not found or not readable");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // Turn the byte offset into line:column.
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string why = e.what();
    if (auto p = why.find("syntax error"); p != std::string::npos) why = why.substr(p);
    throw ConfigError(path.string() + ":" + std::to_string(line) + ":" + std::to_string(column) +
                      ": invalid JSON: " + why);
  } catch (const Json::exception& e) {  // e.g. a number too large for any type
    throw ConfigError(path.string() + ": invalid JSON: " + e.what());
  }
}

const Json& json_member(const Json& object, const std::string& key, const std::string& file) {
  if (!object.is_object()) json_fail(file, "expected a JSON object at the top level");
  auto it = object.find(key);
  if (it == object.end()) json_fail(file, "missing key '" + key + "'");
  return *it;
}

void json_fail(const std::string& file, const std::string& what) {
  throw ConfigError(file + ": " + what);
}

std::string json_text(const Json& value) { return value.dump(2) + "\n"; }

}  // namespace cpsd
