// SPDX-License-Identifier: Apache-2.0
#include "elf_symbols.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "cpsd/sdk/error.h"
#include "test_support.h"

namespace cpsd {
namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(ElfSymbols, PluginExportsOnlyItsEntry) {
  const auto symbols = exported_dynamic_symbols(test::plugin_dir() / "cpsd_plugin_heads_basic.so");
  EXPECT_TRUE(has(symbols, "cpsd_plugin_entry_v2"));
  // The version script hides everything else, including the plugin's C++ classes.
  for (const std::string& s : symbols) {
    EXPECT_TRUE(s == "cpsd_plugin_entry_v2") << "unexpected export " << s;
  }
}

TEST(ElfSymbols, ReadsStrippedFiles) {
  test::TempDir tmp;
  const auto stripped = tmp / "cpsd_plugin_stripped.so";
  const std::string cmd = "strip -o '" + stripped.string() + "' '" +
                          (test::plugin_dir() / "cpsd_plugin_losses.so").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_TRUE(has(exported_dynamic_symbols(stripped), "cpsd_plugin_entry_v2"));
}

TEST(ElfSymbols, RejectsNonElfAndTruncatedFiles) {
  test::TempDir tmp;
  test::write_file(tmp / "text.so", "hello, I am not a library\n");
  EXPECT_THROW(exported_dynamic_symbols(tmp / "text.so"), RuntimeError);
  const std::string bytes = test::read_file(test::plugin_dir() / "cpsd_plugin_losses.so");
  test::write_file(tmp / "cut.so", bytes.substr(0, 200));
  EXPECT_THROW(exported_dynamic_symbols(tmp / "cut.so"), RuntimeError);
  EXPECT_THROW(exported_dynamic_symbols(tmp / "absent.so"), RuntimeError);
}

template <class T>
T get(const std::string& bytes, std::size_t offset) {
  T v;
  std::memcpy(&v, bytes.data() + offset, sizeof(T));
  return v;
}
template <class T>
void set(std::string& bytes, std::size_t offset, const T& v) {
  std::memcpy(bytes.data() + offset, &v, sizeof(T));
}

// The RuntimeError reading `file` gives, checking that it names the file and came at once.
std::string refusal(const std::filesystem::path& file) {
  return test::prompt_refusal<RuntimeError>([&] { exported_dynamic_symbols(file); },
                                            file.string() + ": not a loadable ELF shared object (");
}

// A real plugin with one header field changed at a time: offsets, sizes, counts and indices
// that point outside the file or its tables are refused, saying which.
TEST(ElfSymbols, RefusesTablesThatPointOutsideTheFile) {
  test::TempDir tmp;
  const std::string good = test::read_file(test::plugin_dir() / "cpsd_plugin_losses.so");
  ASSERT_EQ(good[EI_CLASS], ELFCLASS64);
  const auto header = get<Elf64_Ehdr>(good, 0);
  auto section_at = [&](std::size_t i) { return header.e_shoff + i * sizeof(Elf64_Shdr); };
  std::size_t dynsym = 0;
  for (std::size_t i = 0; i < header.e_shnum; ++i) {
    if (get<Elf64_Shdr>(good, section_at(i)).sh_type == SHT_DYNSYM) dynsym = i;
  }
  ASSERT_NE(dynsym, 0u);
  const auto symbols = get<Elf64_Shdr>(good, section_at(dynsym));
  const std::size_t dynsym_at = section_at(dynsym);
  const std::size_t strtab_at = section_at(symbols.sh_link);
  int n = 0;
  auto expect = [&](auto patch, const std::string& says) {
    std::string bytes = good;
    patch(bytes);
    const auto file = tmp / ("patched" + std::to_string(n++) + ".so");
    test::write_file(file, bytes);
    const std::string what = refusal(file);
    EXPECT_NE(what.find(says), std::string::npos) << "should say '" << says << "'; got: " << what;
  };
  expect(
      [&](std::string& b) { set(b, offsetof(Elf64_Ehdr, e_shoff), Elf64_Off{good.size() - 10}); },
      "truncated section table: ");
  expect([&](std::string& b) { set(b, offsetof(Elf64_Ehdr, e_shnum), Elf64_Half{0xffff}); },
         "truncated section table: 65535 sections");
  expect([&](std::string& b) { set(b, offsetof(Elf64_Ehdr, e_shentsize), Elf64_Half{10}); },
         "section headers of 10 bytes, not 64");
  expect(
      [&](std::string& b) {
        set(b, dynsym_at + offsetof(Elf64_Shdr, sh_offset), Elf64_Off{1} << 40);
      },
      "truncated symbol table: symbol table (section ");
  expect(
      [&](std::string& b) {
        set(b, dynsym_at + offsetof(Elf64_Shdr, sh_size), Elf64_Xword{1} << 40);
      },
      "reaches past the file's");
  expect(
      [&](std::string& b) { set(b, dynsym_at + offsetof(Elf64_Shdr, sh_link), Elf64_Word{999}); },
      "bad symbol string table link: symbol table (section ");
  expect(
      [&](std::string& b) {
        set(b, dynsym_at + offsetof(Elf64_Shdr, sh_link), static_cast<Elf64_Word>(dynsym));
      },
      "which is not a string table");
  expect(
      [&](std::string& b) {
        set(b, strtab_at + offsetof(Elf64_Shdr, sh_size), Elf64_Xword{good.size()});
      },
      "truncated symbol table: its string table");
  expect(
      [&](std::string& b) {
        set(b, dynsym_at + offsetof(Elf64_Shdr, sh_size), Elf64_Xword{symbols.sh_size - 1});
      },
      "is not a whole number of 24-byte symbols");
  expect(
      [&](std::string& b) {
        set(b, dynsym_at + offsetof(Elf64_Shdr, sh_entsize), Elf64_Xword{16});
      },
      "in entries of 16 is not a whole number");
  expect(
      [&](std::string& b) {
        const std::size_t second =
            symbols.sh_offset + sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_name);
        set(b, second, Elf64_Word{0x7fffffff});
      },
      "symbol 1's name at 2147483647 is out of range of its ");
}

}  // namespace
}  // namespace cpsd
