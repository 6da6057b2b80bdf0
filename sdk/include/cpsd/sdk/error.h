// SPDX-License-Identifier: Apache-2.0
// Error types shared by the host and plugins.
#pragma once

#include <stdexcept>
#include <string>

#include "cpsd/sdk/export.h"

namespace cpsd {

/// Base of every error cpsd raises. what() is one line: what went wrong, where
/// (file:line:column, option path or file name) and how to fix it.
class CPSD_SDK_API Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  ~Error() override;
};

/// A mistake the user can fix in a config file, an option or a command line.
/// The `cpsd` command exits with code 2 on it.
class CPSD_SDK_API ConfigError : public Error {
 public:
  using Error::Error;
  ~ConfigError() override;
};

/// A failure while doing the work (I/O, numerics, a plugin). Exit code 1.
class CPSD_SDK_API RuntimeError : public Error {
 public:
  using Error::Error;
  ~RuntimeError() override;
};

}  // namespace cpsd
