// SPDX-License-Identifier: Apache-2.0
// A health probe in C++: one collector, opened once, counting every second. A warm count()
// allocates nothing and makes one netlink dump per protocol (TCP split across threads).
//
//   find_package(ssfast) / target_link_libraries(probe PRIVATE ssfast::ssfast)
//   ./probe [ROUNDS]
#include <ssfast/ssfast.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 3;
  auto c = ssfast::collector::open();
  if (!c) {
    std::fprintf(stderr, "ssfast: %s\n", c.error().message().c_str());
    return 2;
  }
  ssfast::socket_summary s;
  for (int i = 0; i < rounds; ++i) {
    if (auto ec = c->count(s)) {
      std::fprintf(stderr, "ssfast: %.*s: %s\n", static_cast<int>(c->error_context().size()),
                   c->error_context().data(), ec.message().c_str());
      return 2;
    }
    const ssfast::state_counts tcp = s.tcp_histogram();
    std::printf("source=%.*s threads=%u established=%llu time_wait=%llu syn_recv=%llu\n",
                static_cast<int>(ssfast::to_string(c->source()).size()),
                ssfast::to_string(c->source()).data(), c->threads(),
                static_cast<unsigned long long>(tcp[ssfast::tcp_state::established]),
                static_cast<unsigned long long>(tcp[ssfast::tcp_state::time_wait]),
                static_cast<unsigned long long>(tcp.netstat_count(ssfast::tcp_state::syn_recv)));
    if (i + 1 < rounds) std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return 0;
}
