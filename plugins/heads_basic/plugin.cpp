// SPDX-License-Identifier: Apache-2.0
// Entry point of cpsd_plugin_heads_basic.
#include "cpsd/sdk/plugin.h"
#include "linear_head.h"

CPSD_PLUGIN("heads_basic", "0.1.0",
            cpsd::plugin::factory<cpsd::heads::LinearHead>(
                "linear", "global average pooling + linear classifier",
                cpsd::heads::LinearHead::kDefaults))
