// SPDX-License-Identifier: Apache-2.0
// Every seed input and every input a fuzzer once crashed on (tests/fuzz/regressions/<target>)
// is read or refused with a cpsd error by its parser; under `make test-asan` also without a
// sanitizer report.
#include <gtest/gtest.h>

#include <filesystem>

#include "fuzz_targets.h"
#include "test_support.h"

namespace cpsd {
namespace {

namespace fs = std::filesystem;

class FuzzReplay : public ::testing::TestWithParam<std::string> {};

TEST_P(FuzzReplay, SeedsAndPastFindingsAreReadOrRefusedCleanly) {
  const fs::path root = test::source_dir() / "tests" / "fuzz";
  int seeds = 0;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = root / kind / GetParam();
    if (!fs::exists(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      SCOPED_TRACE(entry.path().string());
      EXPECT_NO_THROW(fuzz::run_target(GetParam(), test::read_file(entry.path())));
      if (std::string(kind) == "corpus") ++seeds;
    }
  }
  EXPECT_GT(seeds, 0) << "no seed input for " << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Parsers, FuzzReplay, ::testing::ValuesIn(fuzz::target_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cpsd
