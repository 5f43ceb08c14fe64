// SPDX-License-Identifier: Apache-2.0
// The SSE2 state histogram (baseline x86-64): 16 byte-lane counters per state value.
#include <emmintrin.h>

#include "kernels.h"

namespace ssfast::detail {

void count_states_sse2(const std::uint8_t* p, std::size_t n, std::uint64_t* out16) noexcept {
  const __m128i zero = _mm_setzero_si128();
  std::size_t i = 0;
  while (n - i >= 16) {
    // Byte-lane counters overflow after 255 vectors: count a block, then widen with psadbw.
    std::size_t blocks = (n - i) / 16;
    if (blocks > 255) blocks = 255;
    __m128i acc[16];
    for (auto& a : acc) a = zero;
    for (std::size_t b = 0; b < blocks; ++b, i += 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
      for (int v = 0; v < 16; ++v)
        acc[v] = _mm_sub_epi8(acc[v], _mm_cmpeq_epi8(x, _mm_set1_epi8(static_cast<char>(v))));
    }
    for (int v = 0; v < 16; ++v) {
      const __m128i s = _mm_sad_epu8(acc[v], zero);
      out16[v] += static_cast<std::uint64_t>(_mm_cvtsi128_si64(s)) +
                  static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(s, s)));
    }
  }
  if (i < n) count_states_scalar(p + i, n - i, out16);
}

}  // namespace ssfast::detail
