// SPDX-License-Identifier: Apache-2.0
// Private: a whole text file as a string.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace cpsd {

/// The file's bytes; "" when it cannot be read (callers check existence where it matters).
inline std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace cpsd
