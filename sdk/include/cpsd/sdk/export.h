// SPDX-License-Identifier: Apache-2.0
// Symbol visibility for the SDK library (everything else is built hidden).
#pragma once

/// Marks a class or function of libcpsd_sdk as visible across shared objects, so that
/// interface typeinfo and vtables exist once, in libcpsd_sdk.so.
#define CPSD_SDK_API __attribute__((visibility("default")))
