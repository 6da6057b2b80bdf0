// SPDX-License-Identifier: Apache-2.0
// Entry point of cpsd_plugin_transformer_heads.
#include "cpsd/sdk/plugin.h"
#include "ml_decoder.h"
#include "query2label.h"
#include "transformer_head.h"

CPSD_PLUGIN(
    "transformer_heads", "0.1.0",
    cpsd::plugin::factory<cpsd::heads::TransformerHead>(
        "transformer",
        "CPSD's ResNet101-TF head: image and class tokens (GloVe) through a Transformer",
        cpsd::heads::TransformerHead::kDefaults),
    cpsd::plugin::factory<cpsd::heads::Query2Label>(
        "query2label", "Query2Label: label queries attending to the image, per-class read-out",
        cpsd::heads::Query2Label::kDefaults),
    cpsd::plugin::factory<cpsd::heads::MlDecoder>(
        "ml_decoder",
        "ML-Decoder: fixed group queries attending to the image, group fully-connected read-out",
        cpsd::heads::MlDecoder::kDefaults))
