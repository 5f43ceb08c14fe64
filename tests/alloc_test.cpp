// SPDX-License-Identifier: Apache-2.0
// A warm collector::count() and service() allocate nothing, and the recorder's heap does not
// grow with its samples: operator new is replaced in this binary, counted around the calls,
// and the bytes it holds tracked.
#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "ssfast/doctor/history.h"
#include "ssfast/report/history_file.h"
#include "ssfast/ssfast.h"
#include "support/background.h"
#include "support/scenario.h"

namespace {
std::atomic<long> allocations{0};
std::atomic<long> live_bytes{0};  // held through operator new (malloc_usable_size of each)
// >= 0: the allocation that many allocations from now throws bad_alloc (then -1 again).
std::atomic<long> fail_in{-1};
}  // namespace

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (fail_in.load(std::memory_order_relaxed) >= 0 &&
      fail_in.fetch_sub(1, std::memory_order_relaxed) == 0) {
    fail_in.store(-1);
    throw std::bad_alloc();
  }
  if (void* p = std::malloc(n ? n : 1)) {
    live_bytes.fetch_add(static_cast<long>(malloc_usable_size(p)), std::memory_order_relaxed);
    return p;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = std::malloc(n ? n : 1);
  if (p) live_bytes.fetch_add(static_cast<long>(malloc_usable_size(p)), std::memory_order_relaxed);
  return p;
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept {
  if (p) live_bytes.fetch_sub(static_cast<long>(malloc_usable_size(p)), std::memory_order_relaxed);
  std::free(p);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }

namespace ssfast {
namespace {

TEST(Allocation, WarmCountAndCountersAllocateNothing) {
  // In a private namespace with the full scenario and 400 more connections (a dump of several
  // datagrams) when root; otherwise over whatever this namespace holds.
  testing::fd_set_guard fds;
  const std::string why = testing::enter_private_netns();
  if (why.empty()) {
    testing::build_scenario(fds);
    testing::build_established(fds, AF_INET6, 200);
  } else {
    std::printf("note: counting the current namespace (%s)\n", why.c_str());
  }
  auto c = collector::open();
  ASSERT_TRUE(c) << c.error().message();
  socket_summary s;
  kernel_counters k;
  ASSERT_FALSE(c->count(s));  // warm-up
  ASSERT_FALSE(c->read_counters(k));
  const long before = allocations.load();
  for (int i = 0; i < 20; ++i) {
    ASSERT_FALSE(c->count(s));
    ASSERT_FALSE(c->read_counters(k));
  }
  EXPECT_EQ(allocations.load() - before, 0) << "heap allocations in 20 warm rounds";
  if (why.empty()) {
    EXPECT_GE(s.tcp[1][tcp_state::established], 400u);
  }

  // The /proc source reuses its file buffer and path the same way.
  collector_options po;
  po.source = source_choice::proc;
  auto pc = collector::open(po);
  ASSERT_TRUE(pc);
  socket_summary ps;
  ASSERT_FALSE(pc->count(ps));  // warm-up
  const long before_proc = allocations.load();
  for (int i = 0; i < 20; ++i) ASSERT_FALSE(pc->count(ps));
  EXPECT_EQ(allocations.load() - before_proc, 0) << "heap allocations in 20 warm /proc counts";
  EXPECT_EQ(ps.tcp, s.tcp);
  // The probe API: a warm service() allocates nothing, listeners only or with ESTABLISHED
  // (the port's filter is kept; the batch's rows reuse their capacity). Port 7 has nothing
  // (the answer is the same walk), the scenario's listeners are on other ports.
  service_state st;
  const service_rules limited{.max_established = 1000};
  ASSERT_FALSE(c->service(7, {}, st));  // warm-up
  ASSERT_FALSE(c->service(7, limited, st));
  const long before_probe = allocations.load();
  for (int i = 0; i < 20; ++i) {
    ASSERT_FALSE(c->service(7, {}, st));
    ASSERT_FALSE(c->service(7, limited, st));
  }
  EXPECT_EQ(allocations.load() - before_probe, 0) << "heap allocations in 40 warm service() calls";
  EXPECT_EQ(st.verdict, service_verdict::down);
  // A filtered count, as collector::count(summary, query) promises: its bytecode is kept.
  const std::string_view words[] = {"sport = :7 or dport = :7"};
  const auto parsed = parse_filter(words);
  ASSERT_TRUE(parsed.filter) << parsed.error;
  const socket_query q = query_of(*parsed.filter, {}, abi::tcp_all_states);
  ASSERT_FALSE(c->count(s, q));  // warm-up
  const long before_filtered = allocations.load();
  for (int i = 0; i < 20; ++i) ASSERT_FALSE(c->count(s, q));
  EXPECT_EQ(allocations.load() - before_filtered, 0) << "heap allocations in 20 filtered counts";

  // The probe counts something: allocations are counted at all.
  const long probe = allocations.load();
  auto* p = new int(1);
  delete p;
  EXPECT_EQ(allocations.load() - probe, 1);
}

// The recorder (ssfast record) over thousands of samples: each taken and appended as the
// command does (take_history_sample, history_writer::append) in a namespace holding the test
// scenario; the heap it holds after 3,000 samples is what it held after the first 200, to
// within a page (a byte kept per sample would be 2,800 past it). A week at 10 s is 60,480.
TEST(Allocation, TheRecordersHeapStaysFlatOverThousandsOfSamples) {
  testing::fd_set_guard fds;
  const std::string why = testing::enter_private_netns();
  if (!why.empty()) GTEST_SKIP() << "needs a private namespace: " << why;
  testing::build_scenario(fds);
  const testing::scratch_dir dir("ssfast-record-heap");
  ASSERT_TRUE(dir.made());
  auto c = collector::open();
  ASSERT_TRUE(c);
  history_writer w(dir.path());
  history_sample s;
  long warm = 0;
  for (int i = 0; i < 3000; ++i) {
    ASSERT_FALSE(take_history_sample(*c, 5, "/proc", s));
    ASSERT_EQ(w.append(s), "");
    if (i == 199) warm = live_bytes.load();
  }
  EXPECT_FALSE(s.listeners.empty()) << "the scenario's listeners were sampled";
  EXPECT_LE(live_bytes.load() - warm, 4096)
      << "heap bytes held after 3,000 samples beyond " << warm << " after 200";
}

// socket_table::append is all or nothing: whichever allocation fails, every column keeps the
// same length and the rows already there are intact.
TEST(Allocation, AppendThatFailsLeavesTheTableAsItWas) {
  auto row_n = [](std::uint64_t n) {
    socket_row r;
    r.family = 1;
    r.state = static_cast<std::uint8_t>(n % 11 + 1);
    r.inode = n;
    r.local_port = static_cast<std::uint16_t>(n);
    r.path = "/run/a-path-long-enough-to-need-the-arena-to-grow";
    return r;
  };
  int failures = 0;
  for (long step = 0; step < 64; ++step) {
    socket_table built;
    // Capacities double from 1: after 64 rows every column is full, so the next append grows
    // each of them (and the state column's next padded block). Odd steps append into a copy,
    // whose columns have exactly the room their 64 rows need.
    for (std::uint64_t n = 0; n < 64; ++n) built.append(row_n(n));
    socket_table t = step % 2 ? socket_table(built) : std::move(built);
    fail_in.store(step);
    bool threw = false;
    socket_row failing = row_n(64);
    failing.path = "/run/the-row-that-failed";
    try {
      t.append(failing);
    } catch (const std::bad_alloc&) {
      threw = true;
    }
    fail_in.store(-1);
    if (threw) {
      // The next append lines up: a column left one longer would pair this row's fields with
      // the failed row's leftovers (its path, here).
      socket_row next = row_n(64);
      next.path = "/run/the-row-after";
      t.append(next);
      ASSERT_EQ(t.row(64).path, "/run/the-row-after") << "step " << step;
      ASSERT_EQ(t.row(64).inode, 64u);
      t = socket_table{};
      for (std::uint64_t n = 0; n < 64; ++n) t.append(row_n(n));
    }
    failures += threw;
    const std::size_t want = threw ? 64 : 65;  // after a failure: rebuilt to its 64 rows
    ASSERT_EQ(t.size(), want) << "step " << step;
    EXPECT_EQ(t.family().size(), want);
    EXPECT_EQ(t.dual_stack().size(), want);
    EXPECT_EQ(t.inode().size(), want);
    EXPECT_EQ(t.state_padded().size() % socket_table::state_padding, 0u);
    for (std::uint64_t n = 0; n < 64; ++n) {
      const socket_row r = t.row(n);
      ASSERT_EQ(r.inode, n) << "step " << step;
      ASSERT_EQ(r.state, n % 11 + 1);
      ASSERT_EQ(r.path, "/run/a-path-long-enough-to-need-the-arena-to-grow");
    }
    EXPECT_EQ(t.count_states().total(), want) << "no stray state byte counted";
  }
  EXPECT_GT(failures, 10) << "the injected failures reached the table's growth";
}

}  // namespace
}  // namespace ssfast
