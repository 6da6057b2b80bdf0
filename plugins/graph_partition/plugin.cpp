// SPDX-License-Identifier: Apache-2.0
// Entry point of cpsd_plugin_graph_partition.
#include "cpsd/sdk/plugin.h"
#include "full_decomposer.h"
#include "graph_decomposer.h"
#include "random_decomposer.h"

CPSD_PLUGIN("graph_partition", "0.1.0",
            cpsd::plugin::factory<cpsd::partition::CgpDecomposer>(
                "cgp", "co-occurrence graph partition: labels that appear together go together",
                cpsd::partition::kGraphDefaults),
            cpsd::plugin::factory<cpsd::partition::DgpDecomposer>(
                "dgp", "dis-occurrence graph partition: labels that never meet go together",
                cpsd::partition::kGraphDefaults),
            cpsd::plugin::factory<cpsd::partition::RandomDecomposer>(
                "random", "seeded random partition into near-equal groups (baseline)",
                cpsd::partition::RandomDecomposer::kDefaults),
            cpsd::plugin::factory<cpsd::partition::FullDecomposer>(
                "full", "one group of every class (the SD branch: a single full-label teacher)",
                cpsd::partition::FullDecomposer::kDefaults))
