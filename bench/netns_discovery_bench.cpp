// SPDX-License-Identifier: Apache-2.0
// Namespace discovery's cost on this host: one stat per process, comm and cgroup per namespace,
// mountinfo once. Run with many processes alive to see its scaling (README: 1,000 processes).
#include <benchmark/benchmark.h>

#include "ssfast/proc/namespaces.h"

namespace {

void bm_discover_netns(benchmark::State& state) {
  std::vector<ssfast::proc::netns_entry> found;
  ssfast::proc::netns_discovery_stats stats;
  for (auto _ : state) {
    if (ssfast::proc::discover_netns("/proc", found, stats)) state.SkipWithError("no /proc");
    benchmark::DoNotOptimize(found.data());
  }
  state.counters["processes"] = static_cast<double>(stats.processes);
  state.counters["namespaces"] = static_cast<double>(found.size());
}
BENCHMARK(bm_discover_netns)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
