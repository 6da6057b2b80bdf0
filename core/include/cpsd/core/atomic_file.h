// SPDX-License-Identifier: Apache-2.0
// Writing files so that readers see the old content or the new one, never half of it.
#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

#include "cpsd/core/export.h"

namespace cpsd {

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk and renames it
/// over `path`. Creates missing parent directories. On failure nothing is left behind
/// and RuntimeError names the path and the system's reason.
CPSD_CORE_API void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

/// Removes the temporary files that writes of `path` killed midway (SIGKILL, power loss)
/// left beside it. Call only where no other process may be writing `path` at the time.
CPSD_CORE_API void remove_abandoned_temporaries(const std::filesystem::path& path);

/// Builds a directory in one go: `fill` writes its content into a temporary directory beside
/// `path`, which then replaces `path` (an existing `path` is removed first only when
/// `overwrite`; otherwise ConfigError before `fill` runs). When `fill` throws, the temporary
/// directory is removed and the exception passes on; `path` is untouched.
CPSD_CORE_API void build_directory_atomically(
    const std::filesystem::path& path, bool overwrite,
    const std::function<void(const std::filesystem::path&)>& fill);

}  // namespace cpsd
