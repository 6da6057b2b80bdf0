// SPDX-License-Identifier: Apache-2.0
// Private: the IDX files of (Fashion-)MNIST, plain or gzip-compressed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace cpsd::data {

struct IdxImages {
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  ///< count x rows x cols, row-major
  const uint8_t* image(int64_t i) const { return pixels.data() + i * rows * cols; }
};

/// Reads an idx3-ubyte file (magic 0x803). Throws ConfigError naming the file.
IdxImages read_idx_images(const std::filesystem::path& file);
/// Reads an idx1-ubyte file (magic 0x801).
std::vector<uint8_t> read_idx_labels(const std::filesystem::path& file);

/// `dir`/`name` when it exists; otherwise a ConfigError saying how to get Fashion-MNIST.
std::filesystem::path fashion_mnist_file(const std::filesystem::path& dir, const char* name);

}  // namespace cpsd::data
