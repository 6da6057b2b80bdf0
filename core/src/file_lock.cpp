// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "cpsd/sdk/error.h"

namespace fs = std::filesystem;

namespace cpsd {

FileLock::FileLock(const fs::path& file, bool wait) {
  fs::create_directories(file.parent_path());
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw RuntimeError("cannot open the lock file " + file.string());
  if (::flock(fd_, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    ::close(fd_);
    fd_ = -1;
    if (wait) throw RuntimeError("cannot lock " + file.string());
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the lock
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

}  // namespace cpsd
