// SPDX-License-Identifier: Apache-2.0
// The derived count (count_method::derived) against the walk on live sockets in a private
// namespace: every state, timewait and request minisockets, orphans, full accept queues, a SYN
// flood, both families and their mixtures, another namespace's sockets in the shared hash,
// gauges that lie, and churn. A derived count is taken only when both derivations agree; here
// it must then equal a walk made at a quiet moment (the walks before and after it agree).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ssfast/core/derivation.h"
#include "ssfast/doctor/doctor.h"
#include "ssfast/doctor/gather.h"
#include "ssfast/ssfast.h"
#include "support/live_fixture.h"
#include "support/printers.h"
#include "support/scenario.h"
#include "support/syn_flood.h"

namespace ssfast {
namespace {

using status = socket_summary::derivation_status;

collector open_netlink(const std::string& proc_root = "/proc", const std::string& netns = "") {
  collector_options o;
  o.source = source_choice::netlink;
  o.proc_root = proc_root;
  o.netns = netns;
  auto c = collector::open(o);
  if (!c) throw std::runtime_error("collector::open: " + c.error().message());
  return std::move(*c);
}

int must(int rc, const char* what) {
  if (rc < 0) throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
  return rc;
}

// Counts derived between two walks until the walks agree (a quiet moment: nothing but this
// test's own sockets lives here, and each of them has settled or is about to), then expects
// the derived count taken and equal to them, family by family. Returns it.
socket_summary expect_derived_equals_walk(collector& c, const char* what) {
  socket_summary before, derived, after;
  for (int attempt = 0; attempt < 200; ++attempt) {
    EXPECT_FALSE(c.count(before, {}, count_method::exact)) << c.error_context();
    EXPECT_FALSE(c.count(derived, {}, count_method::derived)) << c.error_context();
    EXPECT_FALSE(c.count(after, {}, count_method::exact)) << c.error_context();
    if (before.tcp != after.tcp) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    EXPECT_EQ(derived.derivation, status::taken) << what;
    EXPECT_EQ(derived.tcp, before.tcp) << what;
    EXPECT_EQ(derived.udp, before.udp) << what;
    EXPECT_EQ(derived.unix_domain, before.unix_domain) << what;
    EXPECT_EQ(before.derivation, status::not_requested);
    return derived;
  }
  ADD_FAILURE() << what << ": no quiet moment in 200 tries";
  return derived;
}

std::uint64_t established(const socket_summary& s) { return s.tcp_all()[tcp_state::established]; }

// The scenario's every state, both families, a dual-stack listener's IPv4 client (the
// accepted socket is AF_INET6, counted in TCP6 inuse as the dump counts it in IPv6).
TEST_F(LiveNamespace, DerivedIsTakenAndEqualsTheWalkOnEveryState) {
  collector c = open_netlink();
  const socket_summary d = expect_derived_equals_walk(c, "the scenario");
  EXPECT_EQ(d.tcp, got_.tcp);
  ASSERT_TRUE(d.gauges.curr_estab && d.gauges.inuse[0] && d.gauges.inuse[1]);
  const state_counts all = got_.tcp_all();
  EXPECT_EQ(*d.gauges.curr_estab,
            static_cast<std::int64_t>(all[tcp_state::established] + all[tcp_state::close_wait]));
  // inuse: every full socket; the scenario's TIME_WAIT and SYN_RECV (a request socket held
  // by TCP_DEFER_ACCEPT) are minisockets, one of each per family.
  for (std::size_t f = 0; f < 2; ++f)
    EXPECT_EQ(*d.gauges.inuse[f], static_cast<std::int64_t>(got_.tcp[f].total() - 2)) << f;
  EXPECT_NE(established(d), 0u);
}

// Minisockets beside full sockets in the same reported state: an orphaned FIN_WAIT2 becomes a
// timewait minisocket reporting FIN_WAIT2 (tcp_close() -> tcp_time_wait(sk, TCP_FIN_WAIT2)
// when its FIN timeout is within TCP_TIMEWAIT_LEN), one with TCP_LINGER2 past it stays a full
// orphan on its keepalive timer; TIME_WAIT piles; an IPv6 socket turned IPv4 by IPV6_ADDRFORM
// (its inuse count moves with it: tcp_v6 -> tcp_prot); an IPV6_V6ONLY listener.
TEST_F(LiveNamespace, DerivedHoldsWithMinisocketsOrphansAndFamiliesMixed) {
  testing::fd_set_guard g;
  std::array<std::uint64_t, 2> fw2_minisockets{}, fw2_full{};
  for (int family : {AF_INET, AF_INET6}) {
    const std::size_t fi = family == AF_INET ? 0 : 1;
    const int l = testing::tcp_listen(g, family, 64).fd;
    for (int i = 0; i < 3; ++i) {  // orphaned FIN_WAIT2, timewait substate
      const int a = testing::tcp_connect(g, family, testing::local_port(l));
      testing::accept_one(g, l);
      must(shutdown(a, SHUT_WR), "shutdown");
      testing::wait_state(a, tcp_state::fin_wait2);
      g.close_one(a);
      ++fw2_minisockets[fi];
    }
    for (int i = 0; i < 2; ++i) {  // orphaned FIN_WAIT2 kept a full socket
      const int a = testing::tcp_connect(g, family, testing::local_port(l));
      testing::accept_one(g, l);
      const int linger2 = 120;
      must(setsockopt(a, IPPROTO_TCP, TCP_LINGER2, &linger2, sizeof linger2), "TCP_LINGER2");
      must(shutdown(a, SHUT_WR), "shutdown");
      testing::wait_state(a, tcp_state::fin_wait2);
      g.close_one(a);
      ++fw2_full[fi];
    }
    for (int i = 0; i < 20; ++i) {  // TIME_WAIT
      const int a = testing::tcp_connect(g, family, testing::local_port(l));
      const int b = testing::accept_one(g, l);
      must(shutdown(a, SHUT_WR), "shutdown");
      testing::wait_state(a, tcp_state::fin_wait2);
      g.close_one(b);
      testing::wait_state(a, tcp_state::close);
    }
  }
  {  // IPV6_ADDRFORM: an IPv6 socket connected to a mapped IPv4 address becomes AF_INET
    const int l = testing::tcp_listen(g, AF_INET, 8).fd;
    const int fd = g.hold(must(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(testing::local_port(l));
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &a.sin6_addr);
    must(connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a), "connect");
    testing::accept_one(g, l);
    const int v4 = AF_INET;
    // Kernels that dropped IPV6_ADDRFORM answer ENOPROTOOPT: the socket stays IPv6 there.
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_ADDRFORM, &v4, sizeof v4) != 0 && errno != ENOPROTOOPT)
      FAIL() << "IPV6_ADDRFORM: " << std::strerror(errno);
  }
  testing::tcp_listen(g, AF_INET6, 8);
  collector c = open_netlink();
  // The walk shows both kinds of FIN_WAIT2 (timer 3 marks the minisockets).
  socket_table t;
  ASSERT_FALSE(c.snapshot(t, {})) << c.error_context();
  std::array<std::uint64_t, 2> mini{}, full{};
  for (std::size_t i = 0; i < t.size(); ++i) {
    const socket_row r = t.row(i);
    if (r.protocol != IPPROTO_TCP || r.state != static_cast<std::uint8_t>(tcp_state::fin_wait2))
      continue;
    ++(r.timer == 3 ? mini : full)[r.family == AF_INET ? 0 : 1];
  }
  for (std::size_t f = 0; f < 2; ++f) {
    EXPECT_EQ(mini[f], fw2_minisockets[f]) << "family " << f;
    // the scenario's own FIN_WAIT2 sockets are full ones with descriptors
    EXPECT_EQ(full[f], fw2_full[f] + want_.tcp[f][tcp_state::fin_wait2]) << "family " << f;
  }
  const socket_summary d = expect_derived_equals_walk(c, "minisockets and orphans");
  EXPECT_GE(d.tcp[0][tcp_state::time_wait], 21u);
  EXPECT_GE(d.tcp[1][tcp_state::time_wait], 21u);
}

// A listener whose accept queue is full (its clients' final ACKs dropped leave request sockets
// behind and further SYNs unanswered, clients in SYN_SENT), and a SYN flood from spoofed
// sources holding hundreds of request sockets.
TEST_F(LiveNamespace, DerivedHoldsWithFullQueuesAndAFlood) {
  testing::fd_set_guard g;
  const int l = testing::tcp_listen(g, AF_INET, 1).fd;
  for (int i = 0; i < 6; ++i) testing::tcp_connect(g, AF_INET, testing::local_port(l), 0, true);
  const int l6 = testing::tcp_listen(g, AF_INET6, 2).fd;
  for (int i = 0; i < 6; ++i) testing::tcp_connect(g, AF_INET6, testing::local_port(l6), 0, true);
  collector c = open_netlink();
  // The accept queues fill (backlog + 1 children each) before anything is judged.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  socket_summary s;
  do {
    ASSERT_FALSE(c.count(s)) << c.error_context();
  } while (established(s) < established(got_) + 5 && std::chrono::steady_clock::now() < deadline);
  expect_derived_equals_walk(c, "full accept queues");
  if (geteuid() != 0) GTEST_SKIP() << "the flood needs CAP_NET_RAW";
  testing::route_spoofed_sources("10.99.0.0/16");
  const int fl = testing::tcp_listen(g, AF_INET, 4096).fd;
  (void)fl;
  // tcp_listen binds 127.0.0.1 on an ephemeral port: flood it.
  testing::syn_sender syns;
  syns.flood("10.99.0.1", 300, "127.0.0.1", testing::local_port(fl), 300);
  do {
    ASSERT_FALSE(c.count(s)) << c.error_context();
  } while (s.tcp[0][tcp_state::syn_recv] < 300 + got_.tcp[0][tcp_state::syn_recv] &&
           std::chrono::steady_clock::now() < deadline + std::chrono::seconds(30));
  const socket_summary d = expect_derived_equals_walk(c, "a SYN flood");
  EXPECT_GE(d.tcp[0][tcp_state::syn_recv], 300u);
}

// Another namespace's sockets share the established hash (the walk passes them, filtering by
// namespace) and its own gauges: neither changes this namespace's answer, and that namespace
// derives its own, through a collector opened on it.
TEST_F(LiveNamespace, DerivedIgnoresAnotherNamespacesSockets) {
  int ready[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    if (unshare(CLONE_NEWNET) != 0) _exit(2);
    try {
      if (!testing::enter_private_netns().empty()) _exit(3);
    } catch (...) {
      _exit(3);
    }
    testing::fd_set_guard fds;
    try {
      testing::build_scenario(fds);
      testing::build_established(fds, AF_INET, 300);
      testing::build_established(fds, AF_INET6, 200);
    } catch (...) {
      _exit(4);
    }
    char ok = 'r';
    if (write(ready[1], &ok, 1) != 1) _exit(5);
    for (int i = 0; i < 300; ++i) sleep(1);  // until killed; bounded
    _exit(0);
  }
  close(ready[1]);
  char ok = 0;
  const bool started = read(ready[0], &ok, 1) == 1;
  close(ready[0]);
  struct reaper {
    pid_t pid;
    ~reaper() {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  } reap{child};
  ASSERT_TRUE(started) << "the child could not build its namespace";
  collector here = open_netlink();
  const socket_summary d = expect_derived_equals_walk(here, "this namespace");
  EXPECT_EQ(d.tcp, got_.tcp) << "the other namespace's sockets are not ours";
  collector there = open_netlink("/proc", "/proc/" + std::to_string(child) + "/ns/net");
  const socket_summary o = expect_derived_equals_walk(there, "the other namespace");
  EXPECT_EQ(established(o), established(got_) + 1000u);
  // --all-netns derives each namespace's count from that namespace's own gauges.
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-s", "--all-netns", "-j"});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  bool found = false;
  for (const auto& n : j["namespaces"]) {
    if (n["pid"] != child) continue;
    found = true;
    EXPECT_EQ(n["method"], "derived") << n.dump();
    EXPECT_EQ(n["tcp"]["states"]["ESTABLISHED"], established(o)) << n.dump();
    EXPECT_EQ(n["tcp"]["total"], o.tcp_all().total()) << n.dump();
  }
  EXPECT_TRUE(found) << r.out;
}

// Gauges that do not describe the dumped sockets make the count walk, and say why: each
// derivation is checked on its own (one off by one is enough), a missing gauge, one family, and
// the /proc source.
TEST_F(LiveNamespace, DerivedWalksWhenTheGaugesCannotBeTrusted) {
  const std::string root = ::testing::TempDir() + "ssfast-derived-root-" + std::to_string(getpid());
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root + "/net");
  auto slurp = [](const char* path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  const std::string sockstat = slurp("/proc/net/sockstat");
  const std::string sockstat6 = slurp("/proc/net/sockstat6");
  const state_counts all = got_.tcp_all();
  const std::uint64_t curr_estab = all[tcp_state::established] + all[tcp_state::close_wait];
  auto write_root = [&](std::int64_t estab_delta, std::int64_t inuse_delta) {
    std::ofstream(root + "/net/snmp")
        << "Tcp: CurrEstab\nTcp: " << static_cast<std::int64_t>(curr_estab) + estab_delta << "\n";
    std::string s4 = sockstat;
    const auto at = s4.find("TCP: inuse ");
    const auto end = s4.find(' ', at + 11);
    const std::int64_t inuse = std::stoll(s4.substr(at + 11, end - at - 11)) + inuse_delta;
    s4.replace(at + 11, end - at - 11, std::to_string(inuse));
    std::ofstream(root + "/net/sockstat") << s4;
    std::ofstream(root + "/net/sockstat6") << sockstat6;
  };
  collector c = open_netlink(root);
  socket_summary s;
  write_root(0, 0);  // the truth, copied: taken
  ASSERT_FALSE(c.count(s, {}, count_method::derived)) << c.error_context();
  EXPECT_EQ(s.derivation, status::taken);
  EXPECT_EQ(s.tcp, got_.tcp);
  for (auto [estab, inuse] : {std::pair{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {1, -1}}) {
    write_root(estab, inuse);
    ASSERT_FALSE(c.count(s, {}, count_method::derived)) << c.error_context();
    EXPECT_EQ(s.derivation, status::disagreed) << estab << " " << inuse;
    EXPECT_EQ(s.tcp, got_.tcp) << "walked instead";
    write_root(0, 0);  // a derivation taken between them: no back-off yet
    ASSERT_FALSE(c.count(s, {}, count_method::derived)) << c.error_context();
    EXPECT_EQ(s.derivation, status::taken);
  }
  // Failed tries in a row (derivation_backoff::patience) make the next counts walk without a
  // try, 1 then 2 between single tries; one taken starts over.
  write_root(1, 0);
  for (unsigned i = 0; i < derivation_backoff::patience; ++i) {
    ASSERT_FALSE(c.count(s, {}, count_method::derived)) << c.error_context();
    EXPECT_EQ(s.derivation, status::disagreed) << i;
  }
  write_root(0, 0);  // would be taken, but the pause comes first
  ASSERT_FALSE(c.count(s, {}, count_method::derived)) << c.error_context();
  EXPECT_EQ(s.derivation, status::backed_off);
  EXPECT_EQ(s.tcp, got_.tcp) << "walked";
  write_root(1, 0);
  ASSERT_FALSE(c.count(s, {}, count_method::derived)) << c.error_context();
  EXPECT_EQ(s.derivation, status::disagreed) << "one try after the pause";
  write_root(0, 0);
  for (int i = 0; i < 2; ++i) {
    ASSERT_FALSE(c.count(s, {}, count_method::derived)) << c.error_context();
    EXPECT_EQ(s.derivation, status::backed_off) << "the pause doubled: " << i;
  }
  ASSERT_FALSE(c.count(s, {}, count_method::derived)) << c.error_context();
  EXPECT_EQ(s.derivation, status::taken);
  write_root(1, 0);
  ASSERT_FALSE(c.count(s, {}, count_method::derived)) << c.error_context();
  EXPECT_EQ(s.derivation, status::disagreed) << "taken started over: no pause after one";
  write_root(0, 0);
  // The gauges are the kernel's word: both saying one more ESTABLISHED socket is believed (they
  // check each other and the dump, not the kernel).
  write_root(1, 1);
  ASSERT_FALSE(c.count(s, {}, count_method::derived)) << c.error_context();
  EXPECT_EQ(s.derivation, status::taken);
  EXPECT_EQ(s.tcp[0][tcp_state::established], got_.tcp[0][tcp_state::established] + 1);
  // Gauges that change between the two reads: never taken, even when each state is
  // self-consistent (one more ESTABLISHED in both), since the dump lies between them. A thread
  // swaps the files (by rename, so a read sees one whole state) as fast as it can.
  {
    std::atomic<bool> stop{false};
    std::thread flipper([&] {
      const std::string net = root + "/net/";
      for (std::int64_t i = 0; !stop; ++i) {
        const std::string snmp = net + "snmp.new", s4 = net + "sockstat.new";
        std::ofstream(snmp) << "Tcp: CurrEstab\nTcp: "
                            << static_cast<std::int64_t>(curr_estab) + (i & 1) << "\n";
        std::string text = sockstat;
        const auto at = text.find("TCP: inuse ");
        const auto end = text.find(' ', at + 11);
        text.replace(at + 11, end - at - 11,
                     std::to_string(std::stoll(text.substr(at + 11, end - at - 11)) + (i & 1)));
        std::ofstream(s4) << text;
        std::filesystem::rename(snmp, net + "snmp");
        std::filesystem::rename(s4, net + "sockstat");
      }
    });
    int moved = 0;
    for (int i = 0; i < 2000 && moved == 0; ++i) {
      ASSERT_FALSE(c.count(s, {}, count_method::derived)) << c.error_context();
      moved += s.derivation == status::gauges_moved;
      if (s.derivation == status::taken) {
        const std::uint64_t e = s.tcp[0][tcp_state::established];
        EXPECT_TRUE(e == got_.tcp[0][tcp_state::established] ||
                    e == got_.tcp[0][tcp_state::established] + 1)
            << e;
      } else {
        EXPECT_EQ(s.tcp, got_.tcp) << "walked";
      }
    }
    stop = true;
    flipper.join();
    EXPECT_GT(moved, 0) << "gauges that changed across the dump were never noticed";
  }
  // The flipping may have left a pause (failures in a row): it runs out, then one is taken.
  write_root(0, 0);
  for (unsigned i = 0; i <= derivation_backoff::longest_pause; ++i) {
    ASSERT_FALSE(c.count(s, {}, count_method::derived)) << c.error_context();
    if (s.derivation != status::backed_off) break;
  }
  EXPECT_EQ(s.derivation, status::taken);
  std::filesystem::remove(root + "/net/sockstat");
  ASSERT_FALSE(c.count(s, {}, count_method::derived));
  EXPECT_EQ(s.derivation, status::gauge_missing);
  EXPECT_EQ(s.tcp, got_.tcp);
  count_scope v4;
  v4.ipv6 = false;
  ASSERT_FALSE(c.count(s, v4, count_method::derived));
  EXPECT_EQ(s.derivation, status::needs_both_families);
  EXPECT_EQ(s.tcp[0], got_.tcp[0]);
  std::filesystem::remove_all(root);
  collector_options po;
  po.source = source_choice::proc;
  auto p = collector::open(po);
  ASSERT_TRUE(p);
  ASSERT_FALSE(p->count(s, {}, count_method::derived));
  EXPECT_EQ(s.derivation, status::needs_netlink);
  EXPECT_EQ(s.tcp, got_.tcp);
}

// Connections opened and reset (SO_LINGER 0 on both ends, so no TIME_WAIT piles up) by
// `clients` threads, each pausing `pause` between connections, until stopped. Each thread
// connects, accepts one child from the shared listener and resets both, so at most three of
// its sockets are ESTABLISHED at once: its client, that client's child while queued, and the
// child it accepted (perhaps another thread's).
class churn {
 public:
  static constexpr std::uint64_t max_established(int clients) { return 3u * clients; }

  churn(int clients, std::chrono::microseconds pause) {
    listener_ = testing::tcp_listen(fds_, AF_INET, 64).fd;
    port_ = testing::local_port(listener_);
    for (int i = 0; i < clients; ++i) threads_.emplace_back([this, pause] { loop(pause); });
  }
  churn(const churn&) = delete;
  churn& operator=(const churn&) = delete;
  ~churn() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }
  std::uint64_t made() const { return made_.load(); }

 private:
  static void reset_close(int fd) {
    const linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
  }
  void loop(std::chrono::microseconds pause) {
    const testing::endpoint a = testing::loopback(AF_INET, port_);
    while (!stop_) {
      const int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (c < 0) continue;
      if (connect(c, reinterpret_cast<const sockaddr*>(&a.addr), a.len) == 0) {
        ++made_;
        pollfd p{listener_, POLLIN, 0};
        if (poll(&p, 1, 200) > 0) {
          const int child = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
          if (child >= 0) reset_close(child);
        }
      }
      reset_close(c);
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
    }
  }

  testing::fd_set_guard fds_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> made_{0};
  std::vector<std::thread> threads_;
};

// Stable sockets beside churn: a derived count taken is never above the truth (the stable
// ESTABLISHED plus what the churn can hold at once) and never further below it than a walk
// beside it strays; how often it falls back to the walk is measured, not bounded, except that
// light churn must leave it quiet moments to take.
TEST_F(LiveNamespace, DerivedUnderChurnIsNeverAboveTheTruth) {
  testing::fd_set_guard stable;
  testing::build_established(stable, AF_INET, 300);
  testing::build_established(stable, AF_INET6, 100);
  const std::uint64_t truth = established(got_) + 800;
  collector c = open_netlink();
  struct phase {
    const char* name;
    int clients;
    std::chrono::microseconds pause;
  };
  for (const phase& p : {phase{"heavy", 2, std::chrono::microseconds(0)},
                         phase{"light", 1, std::chrono::microseconds(2000)}}) {
    std::uint64_t tries = 0, taken = 0, paused = 0, walk_low = truth, walk_high = truth;
    std::uint64_t derived_low = truth, derived_high = truth;
    std::uint64_t made = 0;
    const auto start = std::chrono::steady_clock::now();
    {
      churn load(p.clients, p.pause);
      const std::uint64_t ceiling = truth + churn::max_established(p.clients);
      while (std::chrono::steady_clock::now() - start < std::chrono::seconds(2)) {
        socket_summary d, w;
        ASSERT_FALSE(c.count(d, {}, count_method::derived)) << c.error_context();
        ASSERT_FALSE(c.count(w, {}, count_method::exact)) << c.error_context();
        ++tries;
        walk_low = std::min(walk_low, established(w));
        walk_high = std::max(walk_high, established(w));
        if (d.derivation != status::taken) {
          paused += d.derivation == status::backed_off;
          EXPECT_TRUE(d.derivation == status::gauges_moved || d.derivation == status::disagreed ||
                      d.derivation == status::backed_off)
              << static_cast<int>(d.derivation);
          continue;
        }
        ++taken;
        derived_low = std::min(derived_low, established(d));
        derived_high = std::max(derived_high, established(d));
        EXPECT_LE(established(d), ceiling) << p.name << ": above the truth";
      }
      made = load.made();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // The walk's own stray below the truth (a skipped socket) bounds the derived count's.
    EXPECT_GE(derived_low + (truth - std::min(walk_low, truth)), truth) << p.name;
    std::printf(
        "%s churn: %.0f connections/s; derived taken %llu of %llu (fallback %.1f%%, %llu of "
        "them without a try); "
        "ESTABLISHED truth %llu..%llu: derived %llu..%llu, walk %llu..%llu\n",
        p.name, static_cast<double>(made) / seconds, static_cast<unsigned long long>(taken),
        static_cast<unsigned long long>(tries),
        tries == 0 ? 0.0 : 100.0 * static_cast<double>(tries - taken) / static_cast<double>(tries),
        static_cast<unsigned long long>(paused), static_cast<unsigned long long>(truth),
        static_cast<unsigned long long>(truth + churn::max_established(p.clients)),
        static_cast<unsigned long long>(derived_low), static_cast<unsigned long long>(derived_high),
        static_cast<unsigned long long>(walk_low), static_cast<unsigned long long>(walk_high));
    EXPECT_GT(made, 100u) << p.name << ": the churn did not run";
    if (std::string(p.name) == "light") {
      EXPECT_GT(taken, 0u) << "light churn leaves quiet moments";
    }
  }
}

// The command: -s derives by default and says so in JSON only (the text is ss's and netstat's
// shape, untouched); --exact walks; one family walks and says why; the two methods agree.
TEST_F(LiveNamespace, CliDerivesByDefaultAndSaysWhichMethodAnswered) {
  const auto d = testing::run_process({SSFAST_CLI_PATH, "-s", "-j"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  const auto jd = nlohmann::json::parse(d.out);
  EXPECT_EQ(jd["method"], "derived") << d.out;
  EXPECT_FALSE(jd.contains("walked_because"));
  const auto w = testing::run_process({SSFAST_CLI_PATH, "-s", "-j", "--exact"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  const auto jw = nlohmann::json::parse(w.out);
  EXPECT_EQ(jw["method"], "walk");
  EXPECT_FALSE(jw.contains("walked_because")) << "a walk asked for needs no reason";
  EXPECT_EQ(jd["tcp"], jw["tcp"]);
  for (tcp_state st : netstat_states)
    EXPECT_EQ(json_state(jd["tcp"]["states"], st), got_.tcp_all().netstat_count(st));
  const auto v4 = testing::run_process({SSFAST_CLI_PATH, "-s", "-j", "-4"});
  ASSERT_EQ(v4.exit_code, 0) << v4.err;
  const auto j4 = nlohmann::json::parse(v4.out);
  EXPECT_EQ(j4["method"], "walk");
  EXPECT_EQ(j4["walked_because"], "CurrEstab counts IPv4 and IPv6 together");
  EXPECT_EQ(j4["tcp"]["ipv4"]["total"], got_.tcp[0].total());
  const auto pd = testing::run_process({SSFAST_CLI_PATH, "-s", "--format", "prometheus"});
  EXPECT_NE(pd.out.find("\nssfast_tcp_count_method_info{method=\"derived\"} 1\n"),
            std::string::npos)
      << pd.out;
  const auto pw =
      testing::run_process({SSFAST_CLI_PATH, "-s", "--format", "prometheus", "--exact"});
  EXPECT_NE(pw.out.find("\nssfast_tcp_count_method_info{method=\"walk\"} 1\n"), std::string::npos)
      << pw.out;
  // The text is the same whichever method answered.
  const auto td = testing::run_process({SSFAST_CLI_PATH, "-s"});
  const auto tw = testing::run_process({SSFAST_CLI_PATH, "-s", "--exact"});
  ASSERT_EQ(td.exit_code, 0);
  const auto sockets_part = [](const std::string& t) { return t.substr(0, t.find("Kernel")); };
  EXPECT_EQ(sockets_part(td.out), sockets_part(tw.out));
  EXPECT_EQ(td.out.find("derived"), std::string::npos) << td.out;
  const auto both = testing::run_process({SSFAST_CLI_PATH, "-s", "--exact", "--estimate"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_EQ(both.err,
            "ssfast: options '--exact' and '--estimate' ask for opposite counts: give one "
            "(see ssfast help -s)\n");
  // check derives too, and agrees with the walk.
  const auto cd = testing::run_process({SSFAST_CLI_PATH, "check", "--warn", "established=1000"});
  const auto cw =
      testing::run_process({SSFAST_CLI_PATH, "check", "--exact", "--warn", "established=1000"});
  EXPECT_EQ(cd.exit_code, 0) << cd.out << cd.err;
  const auto perf = [](const std::string& t) { return t.substr(t.find("established=")); };
  ASSERT_NE(cd.out.find("established="), std::string::npos) << cd.out;
  EXPECT_EQ(perf(cd.out).substr(0, perf(cd.out).find(';')),
            "established=" + std::to_string(established(got_)));
  EXPECT_EQ(perf(cd.out).substr(0, 20), perf(cw.out).substr(0, 20));
}

// Each listener's address, accept queue and backlog, in address order (a listing over parallel
// dumps meets them in no fixed order).
std::vector<std::string> listeners_of(const doctor_evidence& e) {
  std::vector<std::string> out;
  for (const listener_evidence& l : e.listeners)
    out.push_back(l.address + " " + std::to_string(l.accept_queue) + "/" +
                  std::to_string(l.backlog));
  std::sort(out.begin(), out.end());
  return out;
}

// The doctor's sampler (the exporter's and the live view's) deriving ESTABLISHED: it lists
// every other state and the connections on ephemeral local ports, derives the rest, and must
// gather the same evidence as when it lists every socket: the histogram, the ephemeral-port
// groups, the listeners and their queues, the findings.
TEST_F(LiveNamespace, DoctorSamplerDerivingGathersWhatTheListingGathers) {
  testing::fd_set_guard g;
  testing::build_established(g, AF_INET, 150);
  testing::build_established(g, AF_INET6, 50);
  auto sample = [](collector& c, doctor_options::established_way way) {
    doctor_options o;
    o.processes = false;
    o.established = way;
    doctor_sampler sampler(o);
    doctor_evidence e;
    bool ready = false;
    for (int i = 0; i < 2; ++i) EXPECT_FALSE(sampler.sample(c, e, ready)) << c.error_context();
    EXPECT_TRUE(ready);
    return e;
  };
  collector c = open_netlink();
  for (int attempt = 0; attempt < 50; ++attempt) {
    const doctor_evidence w = sample(c, doctor_options::established_way::never);
    const doctor_evidence d = sample(c, doctor_options::established_way::always);
    const doctor_evidence w2 = sample(c, doctor_options::established_way::never);
    if (w.sockets.tcp != w2.sockets.tcp) continue;  // not a quiet moment
    EXPECT_EQ(w.sockets.derivation, status::not_requested);
    EXPECT_EQ(d.sockets.derivation, status::taken);
    EXPECT_EQ(d.sockets.tcp, w.sockets.tcp);
    // The scenario and this test's 150 + 50 connections with their two listeners.
    std::array<state_counts, 2> want = got_.tcp;
    want[0][static_cast<std::size_t>(tcp_state::established)] += 300;
    want[1][static_cast<std::size_t>(tcp_state::established)] += 100;
    want[0][static_cast<std::size_t>(tcp_state::listen)] += 1;
    want[1][static_cast<std::size_t>(tcp_state::listen)] += 1;
    EXPECT_EQ(d.sockets.tcp, want);
    ASSERT_EQ(d.ephemeral_groups.size(), w.ephemeral_groups.size());
    ASSERT_FALSE(d.ephemeral_groups.empty());
    for (std::size_t i = 0; i < d.ephemeral_groups.size(); ++i) {
      EXPECT_EQ(d.ephemeral_groups[i].key, w.ephemeral_groups[i].key);
      EXPECT_EQ(d.ephemeral_groups[i].count, w.ephemeral_groups[i].count);
    }
    EXPECT_EQ(listeners_of(d), listeners_of(w));
    EXPECT_EQ(d.fin_wait2_held, w.fin_wait2_held);
    EXPECT_EQ(d.fin_wait2_orphaned, w.fin_wait2_orphaned);
    EXPECT_EQ(d.close_wait_persisting, w.close_wait_persisting);
    EXPECT_EQ(d.syn_sent, w.syn_sent);
    std::vector<std::string> fd, fw;
    for (const finding& f : diagnose(d)) fd.push_back(f.id + " " + f.subject);
    for (const finding& f : diagnose(w)) fw.push_back(f.id + " " + f.subject);
    EXPECT_EQ(fd, fw);
    return;
  }
  ADD_FAILURE() << "no quiet moment in 50 tries";
}

// The doctor's deriving sample when its derivations keep failing (CurrEstab one too many, as
// churn leaves the gauges): a failed sample lists, derives and then counts ESTABLISHED again,
// so after derivation_backoff::patience failures in a row the samples list every socket
// instead (backed_off), a pause that grows, until a derivation is taken. Every sample's
// histogram is the walk's.
TEST_F(LiveNamespace, DoctorSamplerListsWhileItsDerivationsFail) {
  const std::string root = ::testing::TempDir() + "ssfast-doctor-root-" + std::to_string(getpid());
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root + "/net");
  std::filesystem::create_directories(root + "/sys/net/ipv4");
  struct remover {
    std::string path;
    ~remover() { std::filesystem::remove_all(path); }
  } remove_root{root};
  // Read and written: copy_file would trust the size /proc reports, 0.
  for (const char* f : {"net/sockstat", "net/sockstat6", "net/netstat", "net/snmp6",
                        "sys/net/ipv4/ip_local_port_range"}) {
    std::ifstream in(std::string("/proc/") + f);
    std::ofstream(root + "/" + f) << in.rdbuf();
  }
  const state_counts all = got_.tcp_all();
  const std::uint64_t curr_estab = all[tcp_state::established] + all[tcp_state::close_wait];
  auto write_snmp = [&](std::int64_t delta) {
    std::ofstream(root + "/net/snmp")
        << "Tcp: CurrEstab\nTcp: " << static_cast<std::int64_t>(curr_estab) + delta << "\n";
  };
  collector c = open_netlink(root);
  doctor_options o;
  o.processes = false;
  o.established = doctor_options::established_way::always;
  doctor_sampler sampler(o);
  doctor_evidence e;
  bool ready = false;
  std::string seen;
  for (int i = 0; i < 8; ++i) {
    write_snmp(i < 7 ? 1 : 0);  // the truth for the last one
    ASSERT_FALSE(sampler.sample(c, e, ready)) << c.error_context();
    EXPECT_EQ(e.sockets.tcp, got_.tcp) << "sample " << i;
    switch (e.sockets.derivation) {
      case status::taken: seen += 't'; break;
      case status::disagreed: seen += 'd'; break;
      case status::backed_off: seen += 'B'; break;
      default: seen += '?';
    }
  }
  // Three failures, one listed, a try that fails, two listed, then a try that is taken.
  EXPECT_EQ(seen, "dddBdBBt");
}

// A server: every ESTABLISHED socket here is an inbound connection, from clients in another
// namespace behind a veth pair (10.77.0.2 -> 10.77.0.1:443). The sampler's automatic way lists
// every socket until a sample finds derive_min_established ESTABLISHED with fewer than half on
// ephemeral local ports, then derives (and gathers what a listing gathers), and lists again
// once the connections are gone.
TEST_F(LiveNamespace, DoctorSamplerDerivesOnceMostConnectionsAreInbound) {
  if (!testing::have_program("ip") || !testing::have_program("nsenter"))
    GTEST_SKIP() << "needs ip and nsenter";
  constexpr int inbound = static_cast<int>(doctor_options::derive_min_established) + 8;
  constexpr int kept = 100;
  int to_child[2], from_child[2];
  ASSERT_EQ(pipe2(to_child, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(from_child, O_CLOEXEC), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // the clients: async-signal-safe calls only until _exit
    close(to_child[1]);
    close(from_child[0]);
    auto say = [&](char c) {
      if (write(from_child[1], &c, 1) != 1) _exit(5);
    };
    auto hear = [&](char want) {
      char c = 0;
      if (read(to_child[0], &c, 1) != 1 || c != want) _exit(0);  // the parent gave up
    };
    if (unshare(CLONE_NEWNET) != 0) _exit(2);
    say('n');
    hear('g');  // the veth pair is up, 10.77.0.2 here
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(443);
    server.sin_addr.s_addr = htonl(0x0a4d0001);  // 10.77.0.1
    static int fds[inbound];
    for (int& fd : fds) {
      fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0)
        _exit(6);
    }
    say('c');
    hear('x');
    for (int i = kept; i < inbound; ++i) {
      const linger reset{1, 0};
      setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      close(fds[i]);
    }
    say('k');
    hear('q');
    _exit(0);
  }
  close(to_child[0]);
  close(from_child[1]);
  struct ending {
    pid_t pid;
    int to, from;
    ~ending() {
      close(to);  // the child reads EOF and leaves; its namespace and the veth pair go with it
      close(from);
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  } end{child, to_child[1], from_child[0]};
  auto hear = [&](char want) {
    pollfd p{from_child[0], POLLIN, 0};
    char c = 0;
    return poll(&p, 1, 60000) == 1 && read(from_child[0], &c, 1) == 1 && c == want;
  };
  auto say = [&](char c) { return write(to_child[1], &c, 1) == 1; };
  ASSERT_TRUE(hear('n')) << "the child could not make its namespace";
  const std::string theirs = "--net=/proc/" + std::to_string(child) + "/ns/net";
  testing::run_command({"ip", "link", "add", "ssfast-in0", "type", "veth", "peer", "name",
                        "ssfast-in1", "netns", std::to_string(child)});
  testing::run_command({"ip", "addr", "add", "10.77.0.1/24", "dev", "ssfast-in0"});
  testing::run_command({"ip", "link", "set", "ssfast-in0", "up"});
  testing::run_command(
      {"nsenter", theirs, "ip", "addr", "add", "10.77.0.2/24", "dev", "ssfast-in1"});
  testing::run_command({"nsenter", theirs, "ip", "link", "set", "ssfast-in1", "up"});
  testing::run_command({"nsenter", theirs, "ip", "link", "set", "lo", "up"});
  const int l = fds_.hold(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(443);
  a.sin_addr.s_addr = htonl(0x0a4d0001);
  ASSERT_EQ(bind(l, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  ASSERT_EQ(listen(l, 4096), 0);
  // Accepted as they come (the accept queue holds somaxconn at most), held until the end.
  testing::fd_set_guard accepted;
  int got = 0;
  std::thread acceptor([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (got < inbound && std::chrono::steady_clock::now() < deadline) {
      pollfd p{l, POLLIN, 0};
      if (poll(&p, 1, 100) != 1) continue;
      const int fd = accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        accepted.hold(fd);
        ++got;
      }
    }
  });
  ASSERT_TRUE(say('g'));
  const bool connected = hear('c');
  acceptor.join();
  ASSERT_TRUE(connected) << "the clients could not connect";
  ASSERT_EQ(got, inbound);

  collector c = open_netlink();
  const std::uint64_t here = established(got_);  // the scenario's loopback pairs
  doctor_options o;
  o.processes = false;
  doctor_sampler automatic(o);
  doctor_evidence e;
  bool ready = false;
  ASSERT_FALSE(automatic.sample(c, e, ready)) << c.error_context();
  EXPECT_EQ(e.sockets.derivation, status::not_requested) << "the first sample lists";
  EXPECT_EQ(established(e.sockets), here + inbound);
  ASSERT_FALSE(automatic.sample(c, e, ready)) << c.error_context();
  EXPECT_EQ(e.sockets.derivation, status::taken) << "most are inbound: derived";
  EXPECT_EQ(established(e.sockets), here + inbound);
  // What a listing of every socket gathers, the same.
  o.established = doctor_options::established_way::never;
  doctor_sampler listing(o);
  doctor_evidence w;
  for (int i = 0; i < 2; ++i) ASSERT_FALSE(listing.sample(c, w, ready)) << c.error_context();
  EXPECT_EQ(e.sockets.tcp, w.sockets.tcp);
  ASSERT_EQ(e.ephemeral_groups.size(), w.ephemeral_groups.size());
  for (std::size_t i = 0; i < e.ephemeral_groups.size(); ++i) {
    EXPECT_EQ(e.ephemeral_groups[i].key, w.ephemeral_groups[i].key);
    EXPECT_EQ(e.ephemeral_groups[i].count, w.ephemeral_groups[i].count);
  }
  EXPECT_EQ(listeners_of(e), listeners_of(w));
  // The clients reset all but `kept`: the sample that sees it still derives (its way was
  // chosen by the sample before), the next lists again.
  ASSERT_TRUE(say('x'));
  ASSERT_TRUE(hear('k'));
  socket_summary now;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    ASSERT_FALSE(c.count(now)) << c.error_context();
  } while (established(now) != here + kept && std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(established(now), here + kept);
  ASSERT_FALSE(automatic.sample(c, e, ready)) << c.error_context();
  EXPECT_EQ(e.sockets.derivation, status::taken);
  EXPECT_EQ(established(e.sockets), here + kept);
  ASSERT_FALSE(automatic.sample(c, e, ready)) << c.error_context();
  EXPECT_EQ(e.sockets.derivation, status::not_requested) << "few connections: listed again";
  EXPECT_EQ(established(e.sockets), here + kept);
  EXPECT_TRUE(say('q'));
}

}  // namespace
}  // namespace ssfast
