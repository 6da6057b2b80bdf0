// SPDX-License-Identifier: Apache-2.0
// Portable random draws: the same seed gives the same partition with any standard library
// (std::uniform_*_distribution and std::shuffle are implementation-defined).
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace cpsd::partition {

using Rng = std::mt19937_64;  // its output sequence is fixed by the standard

/// Uniform in [0, 1) with 53 random bits.
inline double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

/// Uniform in [0, n) without modulo bias.
inline uint64_t uniform_index(Rng& rng, uint64_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = rng();
  } while (x >= limit);
  return x % n;
}

/// Fisher-Yates shuffle.
template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[uniform_index(rng, i)]);
}

}  // namespace cpsd::partition
