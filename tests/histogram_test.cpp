// SPDX-License-Identifier: Apache-2.0
// Every histogram kernel against the scalar reference, at every length 0..1025 and every
// alignment within a cache line, and the table's padded column.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "ssfast/core/socket_table.h"
#include "ssfast/core/state_counts.h"
#include "support/printers.h"

namespace ssfast {
namespace {

using counts16 = std::array<std::uint64_t, 16>;

counts16 reference(const std::uint8_t* p, std::size_t n) {
  counts16 c{};
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] < 16) ++c[p[i]];
  return c;
}

counts16 run(const histogram_kernel& k, const std::uint8_t* p, std::size_t n) {
  counts16 c{};
  k.fn(p, n, c.data());
  return c;
}

TEST(HistogramKernels, ScalarIsFirstAndAllHaveNames) {
  const auto ks = histogram_kernels();
  ASSERT_FALSE(ks.empty());
  EXPECT_EQ(ks.front().name, "scalar");
#if defined(__x86_64__)
  EXPECT_GE(ks.size(), 2u) << "SSE2 is baseline x86-64";
#endif
}

// Bytes drawn so every state and out-of-range values (padding 0xFF, 16, 200) occur.
std::vector<std::uint8_t> random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(0, 19);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) {
    const int r = pick(rng);
    b = static_cast<std::uint8_t>(r < 16 ? r : r == 16 ? 0xFF : r == 17 ? 16 : r == 18 ? 200 : 1);
  }
  return v;
}

TEST(HistogramKernels, MatchScalarAtEveryLengthAndAlignment) {
  constexpr std::size_t max_len = 1025, max_align = 64;
  const auto data = random_bytes(max_len + max_align, 42);
  // Copy into a 64-byte aligned buffer so `align` is the real address alignment.
  std::vector<std::uint8_t> storage(max_len + 2 * max_align);
  auto* base = reinterpret_cast<std::uint8_t*>(
      (reinterpret_cast<std::uintptr_t>(storage.data()) + 63) & ~std::uintptr_t{63});
  std::copy(data.begin(), data.end(), base);
  for (const histogram_kernel& k : histogram_kernels()) {
    for (std::size_t align = 0; align < max_align; ++align) {
      for (std::size_t len = 0; len <= max_len; ++len) {
        const std::uint8_t* p = base + align;
        ASSERT_EQ(run(k, p, len), reference(p, len))
            << k.name << " len " << len << " align " << align;
      }
    }
  }
}

TEST(HistogramKernels, AccumulateIntoExistingCounts) {
  const auto data = random_bytes(300, 7);
  for (const histogram_kernel& k : histogram_kernels()) {
    counts16 c{};
    c[1] = 1000;
    k.fn(data.data(), data.size(), c.data());
    counts16 want = reference(data.data(), data.size());
    want[1] += 1000;
    EXPECT_EQ(c, want) << k.name;
  }
}

TEST(HistogramKernels, LongRunsOfOneStateDoNotOverflowLaneCounters) {
  // Byte-lane counters flush every 255 vectors; 1 MiB of ESTABLISHED crosses that many times.
  std::vector<std::uint8_t> v(1 << 20, 1);
  v[12345] = 10;
  for (const histogram_kernel& k : histogram_kernels()) {
    const counts16 c = run(k, v.data(), v.size());
    EXPECT_EQ(c[1], v.size() - 1) << k.name;
    EXPECT_EQ(c[10], 1u) << k.name;
  }
}

TEST(HistogramKernels, LargeRandomInput) {
  const auto data = random_bytes(3'000'017, 99);
  const counts16 want = reference(data.data(), data.size());
  for (const histogram_kernel& k : histogram_kernels())
    EXPECT_EQ(run(k, data.data(), data.size()), want) << k.name;
}

TEST(CountStates, UsesAKernelAndIgnoresPadding) {
  std::vector<std::uint8_t> v = {1, 1, 10, 6, 0xFF, 0xFF, 3};
  state_counts c;
  count_states(v, c);
  EXPECT_EQ(c[tcp_state::established], 2u);
  EXPECT_EQ(c[tcp_state::listen], 1u);
  EXPECT_EQ(c[tcp_state::time_wait], 1u);
  EXPECT_EQ(c[tcp_state::syn_recv], 1u);
  EXPECT_EQ(c.total(), 5u);
}

TEST(StateCounts, NetstatCountFoldsRequestAndBoundSockets) {
  state_counts c;
  c[3] = 2;   // SYN_RECV
  c[12] = 5;  // NEW_SYN_RECV
  c[7] = 1;   // CLOSE
  c[13] = 4;  // BOUND_INACTIVE
  EXPECT_EQ(c.netstat_count(tcp_state::syn_recv), 7u);
  EXPECT_EQ(c.netstat_count(tcp_state::close), 5u);
  EXPECT_EQ(c.total(), 12u);
  EXPECT_EQ(netstat_name(12), "SYN_RECV");
  EXPECT_EQ(netstat_name(13), "CLOSE");
  EXPECT_EQ(netstat_name(0), "");
  EXPECT_EQ(netstat_name(14), "");
}

TEST(SocketTable, StateColumnIsPaddedAndCountsMatch) {
  socket_table t;
  EXPECT_EQ(t.state_padded().size(), 0u);
  std::mt19937 rng(3);
  state_counts want;
  for (int i = 0; i < 130; ++i) {
    socket_row r;
    r.state = static_cast<std::uint8_t>(rng() % 12);
    ++want[r.state];
    t.append(r);
    ASSERT_EQ(t.state_padded().size() % socket_table::state_padding, 0u);
    ASSERT_GE(t.state_padded().size(), t.size());
    for (std::size_t j = t.size(); j < t.state_padded().size(); ++j)
      ASSERT_EQ(t.state_padded()[j], socket_table::state_pad_byte);
  }
  EXPECT_EQ(t.count_states(), want);
}

TEST(SocketTable, RowsRoundTripAndClearKeepsNothing) {
  socket_table t;
  socket_row a;
  a.family = 10;
  a.protocol = 6;
  a.state = 1;
  a.local_addr[15] = 1;
  a.local_port = 443;
  a.peer_port = 50000;
  a.recv_q = 7;
  a.send_q = 9;
  a.uid = 33;
  a.inode = 1234567890123ull;
  a.cookie = 0xdeadbeefcafeull;
  socket_row b;
  b.family = 1;
  b.sock_type = 1;
  b.state = 10;
  b.path = "@abstract";
  b.peer_inode = 77;
  t.append(a);
  t.append(b);
  ASSERT_EQ(t.size(), 2u);
  const socket_row ra = t.row(0), rb = t.row(1);
  EXPECT_EQ(ra.local_addr, a.local_addr);
  EXPECT_EQ(ra.local_port, 443);
  EXPECT_EQ(ra.peer_port, 50000);
  EXPECT_EQ(ra.inode, a.inode);
  EXPECT_EQ(ra.cookie, a.cookie);
  EXPECT_EQ(ra.uid, 33u);
  EXPECT_EQ(ra.path, "");
  EXPECT_EQ(rb.path, "@abstract");
  EXPECT_EQ(rb.peer_inode, 77u);
  EXPECT_EQ(t.path(1), "@abstract");
  t.clear();
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.count_states().total(), 0u);
  t.append(b);
  EXPECT_EQ(t.path(0), "@abstract");
}

}  // namespace
}  // namespace ssfast
