// SPDX-License-Identifier: Apache-2.0
#include "elf_symbols.h"

#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "cpsd/sdk/error.h"

namespace cpsd {
namespace {

[[noreturn]] void not_elf(const std::filesystem::path& file, const std::string& why) {
  throw RuntimeError(file.string() + ": not a loadable ELF shared object (" + why + ")");
}

template <class Ehdr, class Shdr, class Sym>
std::vector<std::string> read_symbols(const std::filesystem::path& file,
                                      const std::vector<char>& bytes) {
  auto in_bounds = [&](uint64_t offset, uint64_t size) {
    return offset <= bytes.size() && size <= bytes.size() - offset;
  };
  if (!in_bounds(0, sizeof(Ehdr))) not_elf(file, "truncated header");
  Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof(Ehdr));
  if (header.e_type != ET_DYN) not_elf(file, "not a shared object");
  if (header.e_shentsize != sizeof(Shdr) ||
      !in_bounds(header.e_shoff, uint64_t{header.e_shnum} * sizeof(Shdr))) {
    not_elf(file, "truncated section table");
  }
  auto section = [&](std::size_t index) {
    Shdr s;
    std::memcpy(&s, bytes.data() + header.e_shoff + index * sizeof(Shdr), sizeof(Shdr));
    return s;
  };
  std::vector<std::string> names;
  for (std::size_t i = 0; i < header.e_shnum; ++i) {
    Shdr dynsym = section(i);
    if (dynsym.sh_type != SHT_DYNSYM) continue;
    if (dynsym.sh_link >= header.e_shnum) not_elf(file, "bad symbol string table link");
    Shdr strtab = section(dynsym.sh_link);
    if (!in_bounds(dynsym.sh_offset, dynsym.sh_size) ||
        !in_bounds(strtab.sh_offset, strtab.sh_size)) {
      not_elf(file, "truncated symbol table");
    }
    const std::size_t count = dynsym.sh_size / sizeof(Sym);
    for (std::size_t s = 0; s < count; ++s) {
      Sym sym;
      std::memcpy(&sym, bytes.data() + dynsym.sh_offset + s * sizeof(Sym), sizeof(Sym));
      const unsigned bind = sym.st_info >> 4;
      const unsigned visibility = sym.st_other & 0x3;
      if (sym.st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK) ||
          visibility != STV_DEFAULT || sym.st_name >= strtab.sh_size) {
        continue;
      }
      const char* name = bytes.data() + strtab.sh_offset + sym.st_name;
      names.emplace_back(name, strnlen(name, strtab.sh_size - sym.st_name));
    }
  }
  return names;
}

}  // namespace

std::vector<std::string> exported_dynamic_symbols(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw RuntimeError(file.string() + ": cannot open for reading");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < EI_NIDENT || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0) {
    not_elf(file, "no ELF magic");
  }
  if (bytes[EI_DATA] != ELFDATA2LSB) not_elf(file, "big-endian");
  if (bytes[EI_CLASS] == ELFCLASS64)
    return read_symbols<Elf64_Ehdr, Elf64_Shdr, Elf64_Sym>(file, bytes);
  if (bytes[EI_CLASS] == ELFCLASS32)
    return read_symbols<Elf32_Ehdr, Elf32_Shdr, Elf32_Sym>(file, bytes);
  not_elf(file, "unknown ELF class");
}

}  // namespace cpsd
