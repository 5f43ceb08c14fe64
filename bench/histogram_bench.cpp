// SPDX-License-Identifier: Apache-2.0
// The state histogram kernels over state columns of 10k, 100k and 1M sockets.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "ssfast/core/state_counts.h"

namespace {

// A busy host's mix: mostly ESTABLISHED, some TIME_WAIT, a few of everything else.
std::vector<std::uint8_t> busy_host_states(std::size_t n) {
  std::mt19937 rng(1);
  std::vector<std::uint8_t> v(n);
  for (auto& s : v) {
    const auto r = static_cast<unsigned>(rng() % 100);
    s = static_cast<std::uint8_t>(r < 80 ? 1 : r < 95 ? 6 : 2 + r % 10);
  }
  return v;
}

void bm_kernel(benchmark::State& state, std::size_t kernel) {
  const auto kernels = ssfast::histogram_kernels();
  if (kernel >= kernels.size()) {
    state.SkipWithError("kernel not supported on this CPU");
    return;
  }
  const auto v = busy_host_states(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    std::uint64_t out[16] = {};
    kernels[kernel].fn(v.data(), v.size(), out);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
  state.SetLabel(std::string(kernels[kernel].name));
}

BENCHMARK_CAPTURE(bm_kernel, scalar, 0)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);
BENCHMARK_CAPTURE(bm_kernel, sse2, 1)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);
BENCHMARK_CAPTURE(bm_kernel, avx2, 2)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);

}  // namespace

BENCHMARK_MAIN();
