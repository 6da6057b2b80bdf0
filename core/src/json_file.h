// SPDX-License-Identifier: Apache-2.0
// Private: reading JSON files with messages that name the file, the position and the key.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace cpsd {

using Json = nlohmann::json;

/// Parses a JSON file. Throws ConfigError "file: not found", or "file:line:column: invalid
/// JSON: ..." on a syntax error.
Json read_json_file(const std::filesystem::path& path);

/// The member `key` of object `object` (found in `file`), or ConfigError naming both.
const Json& json_member(const Json& object, const std::string& key, const std::string& file);

/// Throws ConfigError "file: <what>".
[[noreturn]] void json_fail(const std::string& file, const std::string& what);

/// Pretty JSON text with a final newline.
std::string json_text(const Json& value);

}  // namespace cpsd
