// SPDX-License-Identifier: Apache-2.0
// Out-of-line destructors: they anchor the error types' typeinfo in libcpsd_sdk.so.
#include "cpsd/sdk/error.h"

namespace cpsd {

Error::~Error() = default;
ConfigError::~ConfigError() = default;
RuntimeError::~RuntimeError() = default;

}  // namespace cpsd
