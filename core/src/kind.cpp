// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/kind.h"

namespace cpsd {

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::backbone:
      return "backbone";
    case Kind::head:
      return "head";
    case Kind::loss:
      return "loss";
    case Kind::decomposer:
      return "decomposer";
  }
  return "unknown";
}

std::optional<Kind> parse_kind(std::string_view name) {
  for (Kind k : kAllKinds) {
    if (kind_name(k) == name) return k;
  }
  return std::nullopt;
}

}  // namespace cpsd
