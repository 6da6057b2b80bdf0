// SPDX-License-Identifier: Apache-2.0
// Entry point of cpsd_plugin_tresnet.
#include "cpsd/sdk/plugin.h"
#include "tresnet.h"

namespace {

constexpr const char* kM = R"(# backbone/tresnet_m
layers = [3, 4, 11, 3]   # blocks in layer1..layer4
width_factor = 1.0       # layer1 width = 64 x width_factor
)";
constexpr const char* kL = R"(# backbone/tresnet_l (the paper's TResNet-L)
layers = [4, 5, 18, 3]   # blocks in layer1..layer4
width_factor = 1.2       # layer1 width = 64 x width_factor = 76
)";
constexpr const char* kXL = R"(# backbone/tresnet_xl
layers = [4, 5, 24, 3]   # blocks in layer1..layer4
width_factor = 1.3       # layer1 width = 64 x width_factor = 83
)";

}  // namespace

CPSD_PLUGIN("tresnet", "0.1.0",
            cpsd::plugin::factory<cpsd::tresnet::TResNet>("tresnet_m",
                                                          "TResNet-M (BatchNorm + LeakyReLU)", kM),
            cpsd::plugin::factory<cpsd::tresnet::TResNet>(
                "tresnet_l", "TResNet-L (BatchNorm + LeakyReLU), the paper's", kL),
            cpsd::plugin::factory<cpsd::tresnet::TResNet>("tresnet_xl",
                                                          "TResNet-XL (BatchNorm + LeakyReLU)",
                                                          kXL))
