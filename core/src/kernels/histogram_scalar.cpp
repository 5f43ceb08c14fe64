// SPDX-License-Identifier: Apache-2.0
// The scalar state histogram: the reference every vector kernel is tested against.
#include <algorithm>
#include <cstring>

#include "kernels.h"

namespace ssfast::detail {

void count_states_scalar(const std::uint8_t* p, std::size_t n, std::uint64_t* out16) noexcept {
  // Four sub-histograms over all 256 byte values: a run of one state (a host full of
  // ESTABLISHED) would otherwise serialize every increment on one counter in memory.
  std::uint32_t h[4][256];
  std::memset(h, 0, sizeof h);
  while (n > 0) {
    // Each sub-histogram counter sees at most chunk/4 increments, far below 2^32.
    const std::size_t chunk = std::min<std::size_t>(n, std::size_t{1} << 32);
    std::size_t i = 0;
    for (; i + 4 <= chunk; i += 4) {
      ++h[0][p[i]];
      ++h[1][p[i + 1]];
      ++h[2][p[i + 2]];
      ++h[3][p[i + 3]];
    }
    for (; i < chunk; ++i) ++h[0][p[i]];
    for (std::size_t v = 0; v < 16; ++v) {
      out16[v] += std::uint64_t{h[0][v]} + h[1][v] + h[2][v] + h[3][v];
      h[0][v] = h[1][v] = h[2][v] = h[3][v] = 0;
    }
    p += chunk;
    n -= chunk;
  }
}

}  // namespace ssfast::detail
