// SPDX-License-Identifier: Apache-2.0
// libFuzzer entry of one target; CPSD_FUZZ_TARGET names it (tests/fuzz/CMakeLists.txt).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cpsd::fuzz::run_target(CPSD_FUZZ_TARGET,
                         std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
