// SPDX-License-Identifier: Apache-2.0
// Writing files so that readers see the old content or the new one, never half of it.
#pragma once

#include <filesystem>
#include <string_view>

#include "cpsd/core/export.h"

namespace cpsd {

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk and renames it
/// over `path`. Creates missing parent directories. On failure nothing is left behind
/// and RuntimeError names the path and the system's reason.
CPSD_CORE_API void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace cpsd
