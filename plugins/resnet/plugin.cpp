// SPDX-License-Identifier: Apache-2.0
// Entry point of cpsd_plugin_resnet: one implementation, a record per named variant.
#include "cpsd/sdk/plugin.h"
#include "resnet.h"

namespace {

using cpsd::resnet::ResNet;
using cpsd::resnet::resnet_defaults;

// Static: the records point into these strings for as long as the plugin is loaded.
const std::string kSmall = resnet_defaults("resnet", "basic", "[1, 1, 1, 1]", 32, 1, 64, "small");
const std::string k18 = resnet_defaults("resnet18", "basic", "[2, 2, 2, 2]", 64, 1, 64, "imagenet");
const std::string k34 = resnet_defaults("resnet34", "basic", "[3, 4, 6, 3]", 64, 1, 64, "imagenet");
const std::string k50 =
    resnet_defaults("resnet50", "bottleneck", "[3, 4, 6, 3]", 64, 1, 64, "imagenet");
const std::string k101 =
    resnet_defaults("resnet101", "bottleneck", "[3, 4, 23, 3]", 64, 1, 64, "imagenet");
const std::string k152 =
    resnet_defaults("resnet152", "bottleneck", "[3, 8, 36, 3]", 64, 1, 64, "imagenet");
const std::string kX50 =
    resnet_defaults("resnext50_32x4d", "bottleneck", "[3, 4, 6, 3]", 64, 32, 4, "imagenet");
const std::string kX101 =
    resnet_defaults("resnext101_32x8d", "bottleneck", "[3, 4, 23, 3]", 64, 32, 8, "imagenet");

}  // namespace

CPSD_PLUGIN(
    "resnet", "0.1.0",
    cpsd::plugin::factory<ResNet>(
        "resnet", "small configurable ResNet for CPU work (10 layers, width 32, small stem)",
        kSmall.c_str()),
    cpsd::plugin::factory<ResNet>("resnet18", "ResNet-18 (torchvision)", k18.c_str()),
    cpsd::plugin::factory<ResNet>("resnet34", "ResNet-34 (torchvision)", k34.c_str()),
    cpsd::plugin::factory<ResNet>("resnet50", "ResNet-50 (torchvision)", k50.c_str()),
    cpsd::plugin::factory<ResNet>("resnet101", "ResNet-101 (torchvision; the paper's R101)",
                                  k101.c_str()),
    cpsd::plugin::factory<ResNet>("resnet152", "ResNet-152 (torchvision)", k152.c_str()),
    cpsd::plugin::factory<ResNet>("resnext50_32x4d",
                                  "ResNeXt-50 32x4d (torchvision; the SWSL weights' layout)",
                                  kX50.c_str()),
    cpsd::plugin::factory<ResNet>("resnext101_32x8d", "ResNeXt-101 32x8d (torchvision)",
                                  kX101.c_str()))
