// SPDX-License-Identifier: Apache-2.0
// state_counts arithmetic and the run-time choice of the histogram kernel.
#include <numeric>

#include "kernels/kernels.h"
#include "ssfast/core/state_counts.h"

namespace ssfast {
namespace {

constexpr histogram_kernel all_kernels[] = {
    {"scalar", detail::count_states_scalar},
#if defined(__x86_64__)
    {"sse2", detail::count_states_sse2},
    {"avx2", detail::count_states_avx2},
#endif
};

std::size_t supported_count() noexcept {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") ? 3 : 2;
#else
  return 1;
#endif
}

}  // namespace

std::span<const histogram_kernel> histogram_kernels() noexcept {
  static const std::size_t n = supported_count();
  return {all_kernels, n};
}

void count_states(std::span<const std::uint8_t> states, state_counts& out) noexcept {
  // The widest supported kernel is last; chosen once, on first use.
  static const auto fn = histogram_kernels().back().fn;
  fn(states.data(), states.size(), out.by_state.data());
}

std::uint64_t state_counts::netstat_count(tcp_state s) const noexcept {
  std::uint64_t n = (*this)[s];
  if (s == tcp_state::syn_recv) n += (*this)[tcp_state::new_syn_recv];
  if (s == tcp_state::close) n += (*this)[tcp_state::bound_inactive];
  return n;
}

std::uint64_t state_counts::total() const noexcept {
  return std::accumulate(by_state.begin(), by_state.end(), std::uint64_t{0});
}

state_counts& state_counts::operator+=(const state_counts& o) noexcept {
  for (std::size_t i = 0; i < state_slots; ++i) by_state[i] += o.by_state[i];
  return *this;
}

}  // namespace ssfast
