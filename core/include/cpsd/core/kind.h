// SPDX-License-Identifier: Apache-2.0
// The four kinds of pluggable implementations and their names.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "cpsd/core/export.h"

namespace cpsd {

enum class Kind { backbone, head, loss, decomposer };

inline constexpr std::array<Kind, 4> kAllKinds = {Kind::backbone, Kind::head, Kind::loss,
                                                  Kind::decomposer};

/// "backbone", "head", "loss", "decomposer": the registry-key prefix and config table name.
CPSD_CORE_API std::string_view kind_name(Kind kind);
/// Inverse of kind_name; nullopt for anything else.
CPSD_CORE_API std::optional<Kind> parse_kind(std::string_view name);

}  // namespace cpsd
