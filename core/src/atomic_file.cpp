// SPDX-License-Identifier: Apache-2.0
#include "cpsd/core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "cpsd/sdk/error.h"

namespace fs = std::filesystem;

namespace cpsd {
namespace {

[[noreturn]] void fail(const fs::path& path, const std::string& what, int error) {
  throw RuntimeError("cannot write " + path.string() + ": " + what + ": " + std::strerror(error));
}

fs::path directory_of(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

// The temporaries of `path` are named <dir>/.<name>.tmp-XXXXXX (mkstemp fills the X's).
std::string temporary_prefix(const fs::path& path) {
  return "." + path.filename().string() + ".tmp-";
}

}  // namespace

void write_file_atomically(const fs::path& path, std::string_view bytes) {
  const fs::path dir = directory_of(path);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(path, "cannot create " + dir.string(), ec.value());
  std::string temp = (dir / (temporary_prefix(path) + "XXXXXX")).string();
  const int fd = mkstemp(temp.data());
  if (fd < 0) fail(path, "cannot create a temporary file", errno);
  auto abandon = [&](const std::string& what) {
    const int error = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    fail(path, what, error);
  };
  const char* data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, data, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      abandon("write failed");
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0) abandon("chmod failed");
  if (::fsync(fd) != 0) abandon("fsync failed");
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    fail(path, "close failed", error);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    fail(path, "rename failed", error);
  }
  // Make the rename itself durable.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

void remove_abandoned_temporaries(const fs::path& path) {
  const std::string prefix = temporary_prefix(path);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(directory_of(path), ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) fs::remove(entry.path(), ec);
  }
}

void build_directory_atomically(const fs::path& path, bool overwrite,
                                const std::function<void(const fs::path&)>& fill) {
  std::error_code ec;
  if (fs::exists(path, ec) && !overwrite) {
    throw ConfigError(path.string() + " already exists; choose another --out or pass --overwrite");
  }
  const fs::path temp = path.string() + ".partial-" + std::to_string(::getpid());
  fs::remove_all(temp, ec);
  try {
    fill(temp);
    if (overwrite) fs::remove_all(path, ec);
    fs::rename(temp, path);
  } catch (...) {
    fs::remove_all(temp, ec);
    throw;
  }
}

}  // namespace cpsd
