// SPDX-License-Identifier: Apache-2.0
// The parsers of files users download or write, as fuzz targets: one function per format
// that feeds it a byte string. Shared by the libFuzzer executables (tests/fuzz, built with
// -DCPSD_FUZZ=ON and clang) and the replay test of the normal suite.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cpsd::fuzz {

/// pth, safetensors, elf, statistics, partition, coco, voc, nuswide, csv, toml.
const std::vector<std::string>& target_names();

/// Gives `bytes` to the parser of `target` (written to a scratch file first where the
/// parser reads files; split at NUL bytes where the format is several files). Returns when
/// the parser reads the input or refuses it with a cpsd::Error; any other exception escapes
/// to the caller, as a crash or sanitizer report would: those are the findings.
void run_target(std::string_view target, std::string_view bytes);

}  // namespace cpsd::fuzz
