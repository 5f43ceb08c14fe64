// SPDX-License-Identifier: Apache-2.0
// The AVX2 state histogram: 32 byte-lane counters per state value. This file alone is
// compiled with -mavx2 and is only called after a CPUID check.
#include <immintrin.h>

#include "kernels.h"

namespace ssfast::detail {

void count_states_avx2(const std::uint8_t* p, std::size_t n, std::uint64_t* out16) noexcept {
  const __m256i zero = _mm256_setzero_si256();
  std::size_t i = 0;
  while (n - i >= 32) {
    // Byte-lane counters overflow after 255 vectors: count a block, then widen with vpsadbw.
    std::size_t blocks = (n - i) / 32;
    if (blocks > 255) blocks = 255;
    __m256i acc[16];
    for (auto& a : acc) a = zero;
    for (std::size_t b = 0; b < blocks; ++b, i += 32) {
      const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
      for (int v = 0; v < 16; ++v)
        acc[v] =
            _mm256_sub_epi8(acc[v], _mm256_cmpeq_epi8(x, _mm256_set1_epi8(static_cast<char>(v))));
    }
    for (int v = 0; v < 16; ++v) {
      const __m256i s = _mm256_sad_epu8(acc[v], zero);
      out16[v] += static_cast<std::uint64_t>(_mm256_extract_epi64(s, 0)) +
                  static_cast<std::uint64_t>(_mm256_extract_epi64(s, 1)) +
                  static_cast<std::uint64_t>(_mm256_extract_epi64(s, 2)) +
                  static_cast<std::uint64_t>(_mm256_extract_epi64(s, 3));
    }
  }
  if (i < n) count_states_sse2(p + i, n - i, out16);
}

}  // namespace ssfast::detail
