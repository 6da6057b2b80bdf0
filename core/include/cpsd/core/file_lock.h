// SPDX-License-Identifier: Apache-2.0
// FileLock: an advisory lock that processes sharing a run directory or a stage store take.
#pragma once

#include <filesystem>

#include "cpsd/core/export.h"

namespace cpsd {

/// An exclusive lock on a file (flock), released when the object dies or the process ends,
/// however it ends. The file is created when missing and never removed.
class CPSD_CORE_API FileLock {
 public:
  /// Waits for the lock when `wait`, else owns() tells whether it was free.
  FileLock(const std::filesystem::path& file, bool wait);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock(FileLock&& other) noexcept;
  bool owns() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace cpsd
