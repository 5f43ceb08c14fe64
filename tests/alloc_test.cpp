// A warm collector::count() allocates nothing: operator new is replaced in this binary and
// counted around the calls.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "ssfast/ssfast.h"
#include "support/scenario.h"

namespace {
std::atomic<long> allocations{0};
}

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

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
  // The probe counts something: allocations are counted at all.
  const long probe = allocations.load();
  auto* p = new int(1);
  delete p;
  EXPECT_EQ(allocations.load() - probe, 1);
}

}  // namespace
}  // namespace ssfast
