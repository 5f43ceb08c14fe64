// SPDX-License-Identifier: Apache-2.0
// The sock_diag parser on a recorded dump (tests/data/tcp4-many.nldump, 601 sockets): ns per
// socket for counting and for building rows.
#include <benchmark/benchmark.h>
#include <netinet/in.h>

#include "ssfast/netlink/dump_parser.h"
#include "support/dump_file.h"

namespace {

using namespace ssfast;

const testing::recorded_dump& dump() {
  static const testing::recorded_dump d =
      testing::read_dump_file(std::string(SSFAST_TEST_DATA) + "/tcp4-many.nldump");
  return d;
}

void bm_count_inet(benchmark::State& state) {
  const auto& d = dump();
  const netlink::reply_filter f{d.portid, d.seq};
  std::int64_t sockets = 0;
  for (auto _ : state) {
    std::array<state_counts, 2> c;
    for (const auto& g : d.datagrams) sockets += netlink::count_inet({g.bytes, 0}, f, c).sockets;
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(sockets);  // items/s = sockets/s
}
BENCHMARK(bm_count_inet);

void bm_rows_inet(benchmark::State& state) {
  const auto& d = dump();
  const netlink::reply_filter f{d.portid, d.seq};
  socket_table t;
  std::int64_t sockets = 0;
  for (auto _ : state) {
    t.clear();
    for (const auto& g : d.datagrams)
      sockets += netlink::rows_inet({g.bytes, 0}, f, IPPROTO_TCP, t).sockets;
    benchmark::DoNotOptimize(t.size());
  }
  state.SetItemsProcessed(sockets);
}
BENCHMARK(bm_rows_inet);

}  // namespace

BENCHMARK_MAIN();
