// SPDX-License-Identifier: Apache-2.0
// Symbol visibility for libcpsd_core (built with hidden visibility by default).
#pragma once

#define CPSD_CORE_API __attribute__((visibility("default")))
