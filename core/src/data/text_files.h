// SPDX-License-Identifier: Apache-2.0
// Private: line-oriented text files for the dataset readers.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace cpsd::data {

/// The lines of a text file without their end-of-line characters (\n or \r\n).
/// Throws ConfigError "<file>: file not found or not readable".
std::vector<std::string> read_lines(const std::filesystem::path& file);

/// Splits one CSV record on commas; double-quoted fields may hold commas and "" quotes.
std::vector<std::string> split_csv(const std::string& line);

/// Trims spaces, tabs and surrounding quotes.
std::string trim(const std::string& s);

/// Label names of one CSV cell: "a;b", "a|b" or a Python list "['a', 'b']".
std::vector<std::string> split_label_names(const std::string& cell);

}  // namespace cpsd::data
