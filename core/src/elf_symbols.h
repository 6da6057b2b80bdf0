// SPDX-License-Identifier: Apache-2.0
// Reads the exported dynamic symbols of an ELF shared object without loading it.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace cpsd {

/// Names of the defined, default-visibility global/weak symbols in `.dynsym`: the
/// symbols dlsym() can find. Works on stripped files (Boost.DLL 1.74's library_info reads
/// `.symtab` only, which `strip` removes). Throws RuntimeError naming the file and what is
/// wrong when it is not a readable ELF object: no magic, truncated, or a section table,
/// symbol table or string table (offsets, sizes, entry sizes, links, name indices) that does
/// not fit the file. Nothing is read outside the file's bytes.
std::vector<std::string> exported_dynamic_symbols(const std::filesystem::path& file);

}  // namespace cpsd
