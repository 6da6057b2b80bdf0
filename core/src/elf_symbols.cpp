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
  auto range = [](uint64_t offset, uint64_t size) {
    return " (offset " + std::to_string(offset) + ", " + std::to_string(size) + " bytes)";
  };
  const std::string file_size = "the file's " + std::to_string(bytes.size()) + " bytes";
  if (!in_bounds(0, sizeof(Ehdr))) not_elf(file, "truncated header");
  Ehdr header;
  std::memcpy(&header, bytes.data(), sizeof(Ehdr));
  if (header.e_type != ET_DYN) not_elf(file, "not a shared object");
  if (header.e_shnum != 0 && header.e_shentsize != sizeof(Shdr)) {
    not_elf(file, "section headers of " + std::to_string(header.e_shentsize) + " bytes, not " +
                      std::to_string(sizeof(Shdr)));
  }
  const uint64_t table_size = uint64_t{header.e_shnum} * sizeof(Shdr);
  if (!in_bounds(header.e_shoff, table_size)) {
    not_elf(file, "truncated section table: " + std::to_string(header.e_shnum) + " sections" +
                      range(header.e_shoff, table_size) + " reach past " + file_size);
  }
  auto section = [&](std::size_t index) {
    Shdr s;
    std::memcpy(&s, bytes.data() + header.e_shoff + index * sizeof(Shdr), sizeof(Shdr));
    return s;
  };
  std::vector<std::string> names;
  for (std::size_t i = 0; i < header.e_shnum; ++i) {
    const Shdr dynsym = section(i);
    if (dynsym.sh_type != SHT_DYNSYM) continue;
    const std::string where = "symbol table (section " + std::to_string(i) + ")";
    if (dynsym.sh_link >= header.e_shnum) {
      not_elf(file, "bad symbol string table link: " + where + " links section " +
                        std::to_string(dynsym.sh_link) + " of " + std::to_string(header.e_shnum));
    }
    const Shdr strtab = section(dynsym.sh_link);
    if (strtab.sh_type != SHT_STRTAB) {
      not_elf(file, "bad symbol string table link: " + where + " links section " +
                        std::to_string(dynsym.sh_link) + ", which is not a string table");
    }
    if (!in_bounds(dynsym.sh_offset, dynsym.sh_size)) {
      not_elf(file, "truncated symbol table: " + where + range(dynsym.sh_offset, dynsym.sh_size) +
                        " reaches past " + file_size);
    }
    if (!in_bounds(strtab.sh_offset, strtab.sh_size)) {
      not_elf(file, "truncated symbol table: its string table" +
                        range(strtab.sh_offset, strtab.sh_size) + " reaches past " + file_size);
    }
    if (dynsym.sh_entsize != sizeof(Sym) || dynsym.sh_size % sizeof(Sym) != 0) {
      not_elf(file, "bad symbol table: " + where + " of " + std::to_string(dynsym.sh_size) +
                        " bytes in entries of " + std::to_string(dynsym.sh_entsize) +
                        " is not a whole number of " + std::to_string(sizeof(Sym)) +
                        "-byte symbols");
    }
    if (strtab.sh_size == 0 || bytes[strtab.sh_offset + strtab.sh_size - 1] != '\0')
      not_elf(file, "bad symbol string table: it does not end with a NUL");
    const std::size_t count = dynsym.sh_size / sizeof(Sym);
    for (std::size_t s = 0; s < count; ++s) {
      Sym sym;
      std::memcpy(&sym, bytes.data() + dynsym.sh_offset + s * sizeof(Sym), sizeof(Sym));
      if (sym.st_name >= strtab.sh_size) {
        not_elf(file, "bad symbol table: symbol " + std::to_string(s) + "'s name at " +
                          std::to_string(sym.st_name) + " is out of range of its " +
                          std::to_string(strtab.sh_size) + "-byte string table");
      }
      const unsigned bind = sym.st_info >> 4;
      const unsigned visibility = sym.st_other & 0x3;
      if (sym.st_shndx == SHN_UNDEF || (bind != STB_GLOBAL && bind != STB_WEAK) ||
          visibility != STV_DEFAULT) {
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
