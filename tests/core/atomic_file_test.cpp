// SPDX-License-Identifier: Apache-2.0
// Atomic writes and the clean-up of what a killed writer leaves beside its file.
#include <gtest/gtest.h>

#include <filesystem>

#include "cpsd/core/atomic_file.h"
#include "test_support.h"

namespace cpsd {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) out.push_back(entry.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(AtomicFile, WritesLeaveOnlyTheFile) {
  test::TempDir dir;
  write_file_atomically(dir / "sub" / "a.json", "old");
  write_file_atomically(dir / "sub" / "a.json", "new");
  EXPECT_EQ(test::read_file(dir / "sub" / "a.json"), "new");
  EXPECT_EQ(names_in(dir / "sub"), std::vector<std::string>{"a.json"});
}

TEST(AtomicFile, AbandonedTemporariesOfThatFileAloneAreRemoved) {
  test::TempDir dir;
  // What SIGKILL during write_file_atomically leaves: .<name>.tmp-XXXXXX beside the file.
  for (const char* name : {"last.ckpt", ".last.ckpt.tmp-a1B2c3", ".last.ckpt.tmp-zzzzzz",
                           ".best.ckpt.tmp-a1B2c3", "last.ckpt.tmp-a1B2c3", ".last.ckpt"})
    test::write_file(dir / name, "x");
  remove_abandoned_temporaries(dir / "last.ckpt");
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{".best.ckpt.tmp-a1B2c3", ".last.ckpt",
                                                            "last.ckpt", "last.ckpt.tmp-a1B2c3"}));
  remove_abandoned_temporaries(dir / "missing" / "x.json");  // no directory: nothing to do
}

}  // namespace
}  // namespace cpsd
