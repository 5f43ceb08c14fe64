// SPDX-License-Identifier: Apache-2.0
// The state histogram kernels: the scalar reference and the vector variants. Only this folder
// uses intrinsics; each file is compiled for the instruction set its name says.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ssfast::detail {

/// out16[v] += number of bytes equal to v (v < 16) in p[0, n). Bytes >= 16 are not counted.
void count_states_scalar(const std::uint8_t* p, std::size_t n, std::uint64_t* out16) noexcept;

#if defined(__x86_64__)
void count_states_sse2(const std::uint8_t* p, std::size_t n, std::uint64_t* out16) noexcept;
void count_states_avx2(const std::uint8_t* p, std::size_t n, std::uint64_t* out16) noexcept;
#endif

}  // namespace ssfast::detail
