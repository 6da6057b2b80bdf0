// SPDX-License-Identifier: Apache-2.0
#include "elf_symbols.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

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

}  // namespace
}  // namespace cpsd
