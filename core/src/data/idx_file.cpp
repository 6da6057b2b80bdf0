// SPDX-License-Identifier: Apache-2.0
#include "idx_file.h"

#include <zlib.h>

#include <string>

#include "cpsd/sdk/error.h"

namespace cpsd::data {
namespace {

// zlib's gzread reads plain files too, so both forms go through here.
std::vector<uint8_t> read_all(const std::filesystem::path& file) {
  gzFile f = gzopen(file.c_str(), "rb");
  if (f == nullptr) throw ConfigError(file.string() + ": file not found or not readable");
  std::vector<uint8_t> bytes;
  uint8_t buffer[1 << 16];
  int n = 0;
  while ((n = gzread(f, buffer, sizeof(buffer))) > 0) bytes.insert(bytes.end(), buffer, buffer + n);
  const bool failed = n < 0;
  gzclose(f);
  if (failed) throw ConfigError(file.string() + ": corrupt gzip data");
  return bytes;
}

uint32_t be32(const std::vector<uint8_t>& b, std::size_t at) {
  return (uint32_t(b[at]) << 24) | (uint32_t(b[at + 1]) << 16) | (uint32_t(b[at + 2]) << 8) |
         b[at + 3];
}

}  // namespace

IdxImages read_idx_images(const std::filesystem::path& file) {
  const std::vector<uint8_t> b = read_all(file);
  if (b.size() < 16 || be32(b, 0) != 0x803)
    throw ConfigError(file.string() + ": not an idx3-ubyte image file");
  IdxImages out;
  out.count = be32(b, 4);
  out.rows = be32(b, 8);
  out.cols = be32(b, 12);
  const auto size = static_cast<std::size_t>(out.count * out.rows * out.cols);
  if (b.size() != 16 + size) throw ConfigError(file.string() + ": truncated image data");
  out.pixels.assign(b.begin() + 16, b.end());
  return out;
}

std::vector<uint8_t> read_idx_labels(const std::filesystem::path& file) {
  const std::vector<uint8_t> b = read_all(file);
  if (b.size() < 8 || be32(b, 0) != 0x801)
    throw ConfigError(file.string() + ": not an idx1-ubyte label file");
  const std::size_t count = be32(b, 4);
  if (b.size() != 8 + count) throw ConfigError(file.string() + ": truncated label data");
  return std::vector<uint8_t>(b.begin() + 8, b.end());
}

std::filesystem::path fashion_mnist_file(const std::filesystem::path& dir, const char* name) {
  const std::filesystem::path p = dir / name;
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) {
    throw ConfigError(
        p.string() +
        " not found: install Debian's dataset-fashion-mnist or pass --fashion-mnist DIR");
  }
  return p;
}

}  // namespace cpsd::data
