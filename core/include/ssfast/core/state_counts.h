// SPDX-License-Identifier: Apache-2.0
// Per-state socket counts and the state histogram over a column of state bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ssfast/core/export.h"
#include "ssfast/core/tcp_state.h"

namespace ssfast {

/// Socket counts indexed by the kernel's state byte (TCP_* value, 0..15). Plain data: no
/// allocation, trivially copyable.
struct SSFAST_API state_counts {
  std::array<std::uint64_t, state_slots> by_state{};

  std::uint64_t& operator[](std::size_t state) noexcept { return by_state[state]; }
  std::uint64_t operator[](std::size_t state) const noexcept { return by_state[state]; }
  std::uint64_t operator[](tcp_state s) const noexcept {
    return by_state[static_cast<std::size_t>(s)];
  }
  /// Count in a state as netstat shows it: SYN_RECV includes NEW_SYN_RECV, CLOSE includes
  /// BOUND_INACTIVE.
  std::uint64_t netstat_count(tcp_state s) const noexcept;
  std::uint64_t total() const noexcept;
  state_counts& operator+=(const state_counts& o) noexcept;
  friend bool operator==(const state_counts&, const state_counts&) = default;
};

/// Adds to `out[v]` the number of bytes equal to v, for v in 0..15, over `states`; bytes of 16
/// or more are not counted (columns pad with 0xFF). Runs the widest kernel this CPU supports,
/// chosen once. No allocation, thread-safe.
SSFAST_API void count_states(std::span<const std::uint8_t> states, state_counts& out) noexcept;

/// One implementation of the histogram, for tests and benchmarks.
struct histogram_kernel {
  std::string_view name;
  void (*fn)(const std::uint8_t* p, std::size_t n, std::uint64_t* out16) noexcept;
};

/// Every kernel this CPU can run, the scalar reference first. No allocation.
SSFAST_API std::span<const histogram_kernel> histogram_kernels() noexcept;

}  // namespace ssfast
