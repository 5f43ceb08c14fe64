// SPDX-License-Identifier: Apache-2.0
// Live tests: a private network namespace holding sockets in every reachable state; the
// collector's counts and rows must equal what was built, and what `ss` shows.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "ssfast/ssfast.h"
#include "support/live_fixture.h"
#include "support/printers.h"
#include "support/scenario.h"
#include "support/seams.h"

namespace ssfast {
namespace {

// The fixtures' last check finds what a test left running, names it and ends it: a child of
// the test, a grandchild (its parent alive, as a tmux pane's command is the server's child),
// found by the namespace it runs in; one that already ended is not counted. Outside the
// test's own namespace nothing is touched (the host's processes, or a sandbox's).
TEST(LeftoverProcesses, AreNamedAndEnded) {
  const std::string why = testing::enter_private_netns();
  if (!why.empty()) GTEST_SKIP() << "live test skipped: " << why;
  // The write end closes on exec: EOF on the read end says both run `sleep`.
  int ready[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  const pid_t parent = fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {
    if (fork() == 0) {
      execlp("sleep", "sleep", "61", static_cast<char*>(nullptr));
      _exit(127);
    }
    execlp("sleep", "sleep", "63", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(ready[1]);
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 0);
  close(ready[0]);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    execlp("sleep", "sleep", "62", static_cast<char*>(nullptr));
    _exit(127);
  }
  const pid_t ended = fork();
  ASSERT_GE(ended, 0);
  if (ended == 0) _exit(0);  // a zombie until reaped: it runs nothing

  const auto said = testing::end_leftover_processes(std::chrono::milliseconds(200));
  ASSERT_EQ(said.size(), 3u) << ::testing::PrintToString(said);
  const std::string all = said[0] + "\n" + said[1] + "\n" + said[2];
  EXPECT_NE(all.find(" sleep: sleep 61"), std::string::npos) << "the grandchild: " << all;
  EXPECT_NE(all.find(std::to_string(child) + " sleep: sleep 62"), std::string::npos) << all;
  EXPECT_NE(all.find(std::to_string(parent) + " sleep: sleep 63"), std::string::npos) << all;
  EXPECT_NE(::kill(child, 0), 0) << "the child was ended and reaped";
  EXPECT_NE(::kill(parent, 0), 0) << "the grandchild's parent too";
  EXPECT_TRUE(testing::end_leftover_processes(std::chrono::milliseconds(0)).empty())
      << "nothing is left after the first call";
}

TEST_F(LiveNamespace, CountsEveryReachableTcpStateExactly) {
  EXPECT_EQ(got_.tcp[0], want_.tcp[0]) << "TCP over IPv4";
  EXPECT_EQ(got_.tcp[1], want_.tcp[1]) << "TCP over IPv6";
  // Every state ss can show on loopback is held, CLOSE aside (a closed socket is in no hash).
  for (tcp_state s : netstat_states) {
    if (s == tcp_state::close) continue;
    EXPECT_GT(got_.tcp[0][s], 0u) << netstat_name(static_cast<std::uint8_t>(s));
    EXPECT_GT(got_.tcp[1][s], 0u) << netstat_name(static_cast<std::uint8_t>(s));
  }
}

TEST_F(LiveNamespace, CountsUdpAndUnixExactly) {
  EXPECT_EQ(got_.udp[0], want_.udp[0]);
  EXPECT_EQ(got_.udp[1], want_.udp[1]);
  EXPECT_EQ(got_.unix_domain.by_type, want_.unix_by_type);
  EXPECT_EQ(got_.unix_domain.states[tcp_state::listen], want_.unix_listening);
}

TEST_F(LiveNamespace, AgreesWithSs) {
  if (!testing::have_program("ss")) GTEST_SKIP() << "iproute2's ss is not installed";
  EXPECT_EQ(testing::ss_inet_states("-tanH", "-4"), got_.tcp[0]);
  EXPECT_EQ(testing::ss_inet_states("-tanH", "-6"), got_.tcp[1]);
  EXPECT_EQ(testing::ss_inet_states("-uanH", "-4"), got_.udp[0]);
  EXPECT_EQ(testing::ss_inet_states("-uanH", "-6"), got_.udp[1]);
  EXPECT_EQ(testing::ss_unix_counts(), got_.unix_domain);
}

TEST_F(LiveNamespace, ScopeLimitsWhatIsDumped) {
  count_scope v4_tcp_only;
  v4_tcp_only.ipv6 = false;
  v4_tcp_only.udp = false;
  v4_tcp_only.unix_domain = false;
  socket_summary s;
  ASSERT_FALSE(collector_->count(s, v4_tcp_only));
  EXPECT_EQ(s.tcp[0], want_.tcp[0]);
  EXPECT_EQ(s.tcp[1].total(), 0u);
  EXPECT_EQ(s.udp_all().total(), 0u);
  EXPECT_EQ(s.unix_domain.total(), 0u);
  EXPECT_FALSE(s.scope.ipv6);
}

TEST_F(LiveNamespace, RepeatedCountsAreStable) {
  for (int i = 0; i < 50; ++i) {
    socket_summary s;
    ASSERT_FALSE(collector_->count(s));
    ASSERT_EQ(s.tcp, got_.tcp) << "round " << i;
    ASSERT_EQ(s.unix_domain, got_.unix_domain) << "round " << i;
  }
}

// (state, local port, peer port, recv-q, send-q) of every TCP socket, as ss prints them.
using row_key = std::tuple<int, int, int, std::uint64_t, std::uint64_t>;

std::multiset<row_key> ss_tcp_rows(const char* family_flag) {
  std::istringstream lines(testing::run_command({"ss", "-tanH", family_flag}));
  std::multiset<row_key> rows;
  std::string line;
  auto port = [](const std::string& a) {
    const std::string p = a.substr(a.rfind(':') + 1);
    return p == "*" ? 0 : std::stoi(p);  // a listener's peer is "*"
  };
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::string state, local, peer;
    std::uint64_t rq = 0, sq = 0;
    f >> state >> rq >> sq >> local >> peer;
    rows.emplace(testing::ss_state_byte(state), port(local), port(peer), rq, sq);
  }
  return rows;
}

TEST_F(LiveNamespace, SnapshotRowsMatchSsAndCounts) {
  socket_table t;
  ASSERT_FALSE(collector_->snapshot(t)) << collector_->error_context();
  std::array<state_counts, 2> tcp_counts;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const socket_row r = t.row(i);
    if (r.protocol != IPPROTO_TCP) continue;
    const std::size_t fi = r.family == AF_INET ? 0 : 1;
    ++tcp_counts[fi][r.state];
    // Request sockets and TIME_WAIT minisockets have no inode (KERNEL-NOTES); neither do
    // orphans (sock_orphan() detaches the struct socket) nor children never accepted. Every
    // listener here is held open, so it has one.
    if (r.state == static_cast<std::uint8_t>(tcp_state::syn_recv) ||
        r.state == static_cast<std::uint8_t>(tcp_state::time_wait)) {
      EXPECT_EQ(r.inode, 0u) << netstat_name(r.state);
    }
    if (r.state == static_cast<std::uint8_t>(tcp_state::listen)) {
      EXPECT_NE(r.inode, 0u);
    }
    EXPECT_NE(r.cookie, 0u);
  }
  EXPECT_EQ(tcp_counts, got_.tcp);
  // The histogram kernel over the table's state column agrees with the counting path.
  state_counts from_table = t.count_states();
  state_counts expected_all = got_.tcp_all();
  expected_all += got_.udp_all();
  expected_all += got_.unix_domain.states;
  EXPECT_EQ(from_table, expected_all);
  if (testing::have_program("ss")) {
    for (const std::size_t fi : {std::size_t{0}, std::size_t{1}}) {
      auto ours = [&] {
        socket_table now;
        EXPECT_FALSE(collector_->snapshot(now));
        std::multiset<row_key> keys;
        for (std::size_t i = 0; i < now.size(); ++i)
          if (now.protocol()[i] == IPPROTO_TCP && (now.family()[i] == AF_INET) == (fi == 0))
            keys.emplace(now.state()[i], now.local_port()[i], now.peer_port()[i], now.recv_q()[i],
                         now.send_q()[i]);
        return keys;
      };
      expect_equal_when_quiet(
          ours, [&] { return ss_tcp_rows(fi == 0 ? "-4" : "-6"); },
          fi == 0 ? "ss -tan -4 rows" : "ss -tan -6 rows");
    }
  }
  // The abstract UNIX listener is listed under its '@' name, with its queue and backlog.
  bool found = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.family()[i] == AF_UNIX && t.path(i) == "@ssfast-test-listener" &&
        t.state()[i] == static_cast<std::uint8_t>(tcp_state::listen)) {
      found = true;
      EXPECT_EQ(t.send_q()[i], 8u) << "backlog";
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(LiveNamespace, CountsWithoutPrivilege) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(p[0]);
    socket_summary s;
    int rc = 1;
    if (setgroups(0, nullptr) == 0 && setresgid(nobody, nobody, nobody) == 0 &&
        setresuid(nobody, nobody, nobody) == 0 && geteuid() == nobody) {
      auto c = collector::open();
      if (c && !c->count(s)) rc = 0;
    }
    if (write(p[1], &s, sizeof s) != static_cast<ssize_t>(sizeof s)) rc = 2;
    _exit(rc);
  }
  close(p[1]);
  socket_summary s;
  ASSERT_EQ(read(p[0], &s, sizeof s), static_cast<ssize_t>(sizeof s));
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "the unprivileged child could not count";
  EXPECT_EQ(s.tcp, got_.tcp);
  EXPECT_EQ(s.udp, got_.udp);
  EXPECT_EQ(s.unix_domain, got_.unix_domain);
}

TEST_F(LiveNamespace, CliJsonAsUnprivilegedUser) {
  testing::child_setup as_nobody;
  as_nobody.as_uid = nobody;
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-s", "-j"}, as_nobody);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("source"), "netlink");
  const state_counts all = got_.tcp_all();
  ASSERT_EQ(j.at("tcp").at("states").size(), 11u);
  for (tcp_state s : netstat_states) {
    EXPECT_EQ(json_state(j["tcp"]["states"], s), all.netstat_count(s));
    EXPECT_EQ(json_state(j["tcp"]["ipv4"]["states"], s), got_.tcp[0].netstat_count(s));
    EXPECT_EQ(json_state(j["tcp"]["ipv6"]["states"], s), got_.tcp[1].netstat_count(s));
  }
  EXPECT_EQ(j.at("tcp").at("total"), all.total());
  EXPECT_EQ(j.at("udp").at("total"), got_.udp_all().total());
  EXPECT_EQ(j.at("unix").at("total"), got_.unix_domain.total());
  EXPECT_EQ(j.at("unix").at("stream"), want_.unix_by_type[SOCK_STREAM]);
  EXPECT_TRUE(j.at("counters").is_object());
  EXPECT_EQ(j["counters"]["Tcp"]["CurrEstab"],
            all[tcp_state::established] + all[tcp_state::close_wait])
      << "RFC 1213 tcpCurrEstab: ESTABLISHED + CLOSE_WAIT";
}

TEST_F(LiveNamespace, CliFamilyFlagsRestrictTcpAndUdp) {
  for (const char* flag : {"-4", "-6"}) {
    const auto r = testing::run_process({SSFAST_CLI_PATH, "-s", flag, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    const bool v4 = flag[1] == '4';
    const std::size_t fi = v4 ? 0 : 1;
    EXPECT_EQ(j["tcp"].contains("ipv4"), v4);
    EXPECT_EQ(j["tcp"].contains("ipv6"), !v4);
    EXPECT_EQ(j["tcp"]["total"], got_.tcp[fi].total());
    EXPECT_EQ(j["udp"]["total"], got_.udp[fi].total());
    EXPECT_EQ(j["unix"]["total"], got_.unix_domain.total()) << "UNIX is not narrowed";
  }
}

TEST_F(LiveNamespace, CliTextHistogramIsTheNetstatAwkShape) {
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  state_counts seen;
  std::uint64_t previous = UINT64_MAX;
  while (std::getline(lines, line) && !line.empty()) {
    std::istringstream f(line);
    std::string name, extra;
    std::uint64_t n = 0;
    ASSERT_TRUE(f >> name >> n) << line;
    ASSERT_FALSE(f >> extra) << "a histogram line is exactly `STATE COUNT`: " << line;
    EXPECT_LE(n, previous) << "largest first";
    previous = n;
    bool known = false;
    for (tcp_state s : netstat_states) {
      if (netstat_name(static_cast<std::uint8_t>(s)) == name) {
        seen[static_cast<std::size_t>(s)] = n;
        known = true;
      }
    }
    EXPECT_TRUE(known) << name;
  }
  state_counts want;
  for (tcp_state s : netstat_states)
    want[static_cast<std::size_t>(s)] = got_.tcp_all().netstat_count(s);
  EXPECT_EQ(seen, want);
}

// The /proc source: the same sockets, the same answers.

collector open_source(source_choice s, detail::netlink_fault fault = {}) {
  collector_options o;
  o.source = s;
#if defined(SSFAST_TEST_SEAMS)
  detail::inject_netlink_fault(fault);  // read once, by open()
#else
  (void)fault;
#endif
  auto c = collector::open(o);
#if defined(SSFAST_TEST_SEAMS)
  detail::inject_netlink_fault({});
#endif
  if (!c) throw std::runtime_error("collector::open: " + c.error().message());
  return std::move(*c);
}

TEST_F(LiveNamespace, ProcSourceCountsExactlyWhatNetlinkCounts) {
  collector p = open_source(source_choice::proc);
  EXPECT_EQ(p.source(), source_kind::proc);
  socket_summary s;
  ASSERT_FALSE(p.count(s)) << p.error_context();
  EXPECT_EQ(s.tcp[0], got_.tcp[0]);
  EXPECT_EQ(s.tcp[1], got_.tcp[1]);
  EXPECT_EQ(s.udp, got_.udp);
  EXPECT_EQ(s.unix_domain, got_.unix_domain);
  EXPECT_EQ(s.skipped_lines, 0u);
  EXPECT_EQ(p.fallback(), nullptr);
}

// The fields both sources provide. A listener's Send-Q is its backlog over netlink and 0 in
// /proc, so it is left out for listeners.
using shared_row = std::tuple<int, int, int, address_bytes, int, address_bytes, int, std::uint64_t,
                              std::uint64_t, std::uint64_t, std::uint64_t, std::string>;

std::multiset<shared_row> shared_rows(const socket_table& t) {
  std::multiset<shared_row> rows;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const socket_row r = t.row(i);
    const bool unix_domain = r.family == AF_UNIX;
    const bool listener = r.state == static_cast<std::uint8_t>(tcp_state::listen);
    rows.emplace(r.family, r.protocol, r.state, r.local_addr, r.local_port, r.peer_addr,
                 r.peer_port, unix_domain ? 0 : r.recv_q, unix_domain || listener ? 0 : r.send_q,
                 unix_domain ? 0 : r.uid, r.inode, std::string(r.path));
  }
  return rows;
}

TEST_F(LiveNamespace, ProcRowsEqualNetlinkRowsOnSharedFields) {
  collector p = open_source(source_choice::proc);
  socket_table from_netlink, from_proc;
  ASSERT_FALSE(collector_->snapshot(from_netlink));
  ASSERT_FALSE(p.snapshot(from_proc)) << p.error_context();
  ASSERT_EQ(from_proc.size(), from_netlink.size());
  EXPECT_EQ(from_proc.count_states(), from_netlink.count_states());
  auto netlink_rows = [&] {
    socket_table t;
    EXPECT_FALSE(collector_->snapshot(t));
    return shared_rows(t);
  };
  auto proc_rows = [&] {
    socket_table t;
    EXPECT_FALSE(p.snapshot(t)) << p.error_context();
    return shared_rows(t);
  };
  expect_equal_when_quiet(netlink_rows, proc_rows, "/proc rows against netlink rows");
}

std::string histogram_lines(const std::string& out) { return out.substr(0, out.find("\n\n")); }

TEST_F(LiveNamespace, CliPrintsTheSameHistogramFromEitherSource) {
  const auto nl = testing::run_process({SSFAST_CLI_PATH, "-s"});
  const auto pr = testing::run_process({SSFAST_CLI_PATH, "-s", "--source", "proc"});
  ASSERT_EQ(nl.exit_code, 0) << nl.err;
  ASSERT_EQ(pr.exit_code, 0) << pr.err;
  EXPECT_EQ(histogram_lines(pr.out), histogram_lines(nl.out));
  EXPECT_NE(pr.out.find("Sockets (source: proc)\n"), std::string::npos);
  for (const char* flag : {"-4", "-6"}) {
    const auto a = testing::run_process({SSFAST_CLI_PATH, "-s", flag, "-j"});
    const auto b = testing::run_process({SSFAST_CLI_PATH, "-s", flag, "-j", "--source=proc"});
    auto ja = nlohmann::json::parse(a.out), jb = nlohmann::json::parse(b.out);
    EXPECT_EQ(ja["source"], "netlink");
    EXPECT_EQ(jb["source"], "proc");
    EXPECT_EQ(ja["netlink"]["repeats_dropped"], 0) << "a quiet namespace: nothing repeated";
    EXPECT_FALSE(jb.contains("netlink"));
    EXPECT_EQ(ja["tcp"], jb["tcp"]) << flag;
    EXPECT_EQ(ja["udp"], jb["udp"]) << flag;
    EXPECT_EQ(ja["unix"], jb["unix"]) << flag;
  }
}

TEST_F(LiveNamespace, CollectorFallsBackWhenADumpIsRefused) {
  SSFAST_REQUIRE_TEST_SEAMS();
  collector c = open_source(source_choice::automatic, {ENOENT, true});
  EXPECT_EQ(c.source(), source_kind::netlink) << "the socket opened";
  socket_summary s;
  ASSERT_FALSE(c.count(s)) << c.error_context();
  EXPECT_EQ(c.source(), source_kind::proc);
  ASSERT_NE(c.fallback(), nullptr);
  EXPECT_EQ(c.fallback()->error, std::errc::no_such_file_or_directory);
  EXPECT_EQ(c.fallback()->step, "TCP dump");
  EXPECT_EQ(s.tcp, got_.tcp);
  EXPECT_EQ(s.unix_domain, got_.unix_domain);
  // Netlink only: the same failure is an error, not a fallback.
  collector n = open_source(source_choice::netlink, {ENOENT, true});
  EXPECT_EQ(n.count(s), std::errc::no_such_file_or_directory);
  EXPECT_EQ(n.error_context(), "TCP dump");
  EXPECT_EQ(n.source(), source_kind::netlink);
  // An error that says nothing about sock_diag being unavailable does not fall back.
  collector e = open_source(source_choice::automatic, {EINVAL, true});
  EXPECT_EQ(e.count(s), std::errc::invalid_argument);
  EXPECT_EQ(e.source(), source_kind::netlink);
}

TEST_F(LiveNamespace, CliFallsBackAndSaysSo) {
  SSFAST_REQUIRE_TEST_SEAMS();
  for (const char* fault : {"open:EACCES", "open:EPROTONOSUPPORT", "dump:ENOENT", "dump:EPERM"}) {
    testing::child_setup setup;
    setup.env = {std::string("SSFAST_INJECT_NETLINK_FAILURE=") + fault};
    const auto t = testing::run_process({SSFAST_CLI_PATH, "-s"}, setup);
    ASSERT_EQ(t.exit_code, 0) << fault << ": " << t.err;
    EXPECT_NE(t.out.find("Sockets (source: proc; netlink unavailable: "), std::string::npos)
        << t.out;
    const auto j = testing::run_process({SSFAST_CLI_PATH, "-s", "-j"}, setup);
    ASSERT_EQ(j.exit_code, 0) << fault;
    const auto js = nlohmann::json::parse(j.out);
    EXPECT_EQ(js["source"], "proc");
    EXPECT_TRUE(js["fallback_reason"].is_string());
    for (tcp_state s : netstat_states)
      EXPECT_EQ(json_state(js["tcp"]["states"], s), got_.tcp_all().netstat_count(s)) << fault;
  }
  testing::child_setup setup;
  setup.env = {"SSFAST_INJECT_NETLINK_FAILURE=dump:ENOENT"};
  const auto n = testing::run_process({SSFAST_CLI_PATH, "-s", "--source", "netlink"}, setup);
  EXPECT_EQ(n.exit_code, 1);
  EXPECT_EQ(n.err, "ssfast: TCP dump: No such file or directory\n");
}

TEST_F(LiveNamespace, CliFallsBackWhenAPolicyDeniesNetlink) {
  if (!testing::can_deny_netlink()) GTEST_SKIP() << "the seccomp filter is written for x86-64";
  testing::child_setup setup;
  setup.deny_netlink = true;
  setup.as_uid = nobody;
  const auto r = testing::run_process({SSFAST_CLI_PATH, "-s", "-j"}, setup);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["source"], "proc");
  EXPECT_EQ(j["fallback_reason"], "opening the sock_diag socket: Permission denied");
  EXPECT_EQ(j["unix"]["total"], got_.unix_domain.total());
  EXPECT_EQ(j["tcp"]["total"], got_.tcp_all().total());
  // Netlink only, under the same policy: exit 1, one line.
  const auto n = testing::run_process({SSFAST_CLI_PATH, "-s", "--source", "netlink"}, setup);
  EXPECT_EQ(n.exit_code, 1);
  EXPECT_EQ(n.err, "ssfast: cannot open the sock_diag netlink socket: Permission denied\n");
}

// Parallel dumps over port slices, and the estimate.

collector open_threads(unsigned threads, std::string proc_root = "/proc") {
  collector_options o;
  o.source = source_choice::netlink;
  o.threads = threads;
  o.proc_root = std::move(proc_root);
  auto c = collector::open(o);
  if (!c) throw std::runtime_error("collector::open: " + c.error().message());
  return std::move(*c);
}

// What this process holds: NETLINK_SOCK_DIAG sockets (protocol 4 in /proc/self/net/netlink,
// whose inodes are this process's own) and threads.
std::size_t sock_diag_sockets() {
  std::set<std::string> mine;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(e.path(), ec).string();
    if (!ec && target.starts_with("socket:[")) mine.insert(target.substr(8, target.size() - 9));
  }
  std::ifstream in("/proc/self/net/netlink");
  std::string line;
  std::getline(in, line);  // header
  std::size_t n = 0;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sk, eth, pid, groups, rmem, wmem, dump, locks, drops, inode;
    f >> sk >> eth >> pid >> groups >> rmem >> wmem >> dump >> locks >> drops >> inode;
    n += eth == "4" && mine.count(inode) > 0;
  }
  return n;
}

std::size_t threads_now() {
  std::size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/task");
       it != std::filesystem::directory_iterator(); ++it)
    ++n;
  return n;
}

// The contract in ssfast.h: open() takes one socket and starts no thread; a count opens the
// partitions only when it splits (N threads asked: at once; left to ssfast: a big table).
TEST_F(LiveNamespace, PartitionsOpenWhenACountSplits) {
  const std::size_t sockets0 = sock_diag_sockets(), threads0 = threads_now();
  {
    collector c = open_threads(4);
    EXPECT_EQ(sock_diag_sockets(), sockets0 + 1) << "open(): one socket";
    EXPECT_EQ(threads_now(), threads0) << "open(): no thread";
    EXPECT_EQ(c.threads(), 4u);
    socket_summary s;
    ASSERT_FALSE(c.count(s)) << c.error_context();
    EXPECT_EQ(s.tcp, got_.tcp);
    EXPECT_EQ(sock_diag_sockets(), sockets0 + 4) << "a split count: a socket per partition";
    EXPECT_EQ(threads_now(), threads0 + 3) << "and a thread per partition but the caller's";
  }
  EXPECT_EQ(sock_diag_sockets(), sockets0);
  collector_options o;
  o.source = source_choice::netlink;  // threads left to ssfast: this table is small
  auto c = collector::open(o);
  ASSERT_TRUE(c);
  for (int round = 0; round < 3; ++round) {
    socket_summary s;
    ASSERT_FALSE(c->count(s)) << c->error_context();
  }
  EXPECT_EQ(sock_diag_sockets(), sockets0 + 1) << "a small table never opens partitions";
  EXPECT_EQ(threads_now(), threads0);
  // Every call reports failure as an error code, never by throwing.
  std::vector<std::pair<std::string, std::int64_t>> all;
  std::vector<std::int64_t> values;
  static_assert(noexcept(c->read_all_counters(all)));
  static_assert(noexcept(c->read_sysctl("net.core.somaxconn", values)));
}

TEST_F(LiveNamespace, ParallelSlicesCountEverySocketOnce) {
  for (unsigned threads : {1u, 2u, 3u, 4u, 7u, 16u}) {
    collector c = open_threads(threads);
    EXPECT_EQ(c.threads(), threads);
    // The first count splits the ephemeral range evenly; the second uses the first's spread.
    for (int round = 0; round < 2; ++round) {
      socket_summary s;
      ASSERT_FALSE(c.count(s)) << c.error_context();
      EXPECT_EQ(s.tcp, got_.tcp) << threads << " threads, round " << round;
      EXPECT_EQ(s.udp, got_.udp);
      EXPECT_EQ(s.unix_domain, got_.unix_domain);
    }
    // One family: per-family requests carry the same slices.
    count_scope v6;
    v6.ipv4 = false;
    socket_summary s6;
    ASSERT_FALSE(c.count(s6, v6)) << c.error_context();
    EXPECT_EQ(s6.tcp[1], got_.tcp[1]) << threads << " threads, IPv6 only";
    EXPECT_EQ(s6.tcp[0].total(), 0u);
  }
}

TEST_F(LiveNamespace, EstimateMatchesExactOnQuietSockets) {
  collector c = open_threads(2);
  socket_summary s;
  ASSERT_FALSE(c.count(s, {}, count_method::estimate)) << c.error_context();
  ASSERT_EQ(s.estimate, socket_summary::estimate_status::estimated);
  const state_counts exact = got_.tcp_all();
  EXPECT_EQ(s.established_estimate, exact[tcp_state::established]);
  EXPECT_EQ(s.tcp_histogram(), exact);
  EXPECT_EQ(s.tcp[0][tcp_state::established] + s.tcp[1][tcp_state::established], 0u)
      << "ESTABLISHED is not dumped";
  EXPECT_EQ(s.curr_estab, static_cast<std::int64_t>(exact[tcp_state::established] +
                                                    exact[tcp_state::close_wait]));
  EXPECT_EQ(s.unix_domain, got_.unix_domain);
}

TEST_F(LiveNamespace, EstimateFallsBackToExactWhenTheFiguresDisagree) {
  // A proc root whose snmp says CurrEstab 0: below the scenario's CLOSE_WAIT sockets.
  const std::string root = ::testing::TempDir() + "ssfast-estimate-root";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root + "/net");
  std::ofstream(root + "/net/snmp") << "Tcp: CurrEstab\nTcp: 0\n";
  collector c = open_threads(2, root);
  socket_summary s;
  ASSERT_FALSE(c.count(s, {}, count_method::estimate));
  EXPECT_EQ(s.estimate, socket_summary::estimate_status::inconsistent);
  EXPECT_EQ(s.tcp, got_.tcp) << "counted exactly instead";
  // No snmp at all.
  std::filesystem::remove(root + "/net/snmp");
  ASSERT_FALSE(c.count(s, {}, count_method::estimate));
  EXPECT_EQ(s.estimate, socket_summary::estimate_status::counter_missing);
  EXPECT_EQ(s.tcp, got_.tcp);
  // One family: CurrEstab cannot be split.
  count_scope v4;
  v4.ipv6 = false;
  ASSERT_FALSE(c.count(s, v4, count_method::estimate));
  EXPECT_EQ(s.estimate, socket_summary::estimate_status::needs_both_families);
  EXPECT_EQ(s.tcp[0], got_.tcp[0]);
  std::filesystem::remove_all(root);
}

TEST_F(LiveNamespace, CliEstimateIsLabelled) {
  const auto t = testing::run_process({SSFAST_CLI_PATH, "-s", "--estimate"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const std::uint64_t est = got_.tcp_all()[tcp_state::established];
  EXPECT_NE(t.out.find("ESTABLISHED " + std::to_string(est) + "\n"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("(ESTABLISHED estimated: CurrEstab "), std::string::npos) << t.out;
  const auto j = testing::run_process({SSFAST_CLI_PATH, "-s", "--estimate", "-j"});
  const auto js = nlohmann::json::parse(j.out);
  EXPECT_EQ(js["estimate"]["established"], est);
  EXPECT_EQ(js["tcp"]["states"]["ESTABLISHED"], est);
  EXPECT_FALSE(js["tcp"].contains("ipv4")) << "per-family ESTABLISHED is unknown";
  for (const char* threads : {"1", "2", "5"}) {
    const auto r = testing::run_process({SSFAST_CLI_PATH, "-s", "-j", "--threads", threads});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto jr = nlohmann::json::parse(r.out);
    for (tcp_state st : netstat_states)
      EXPECT_EQ(json_state(jr["tcp"]["states"], st), got_.tcp_all().netstat_count(st)) << threads;
  }
}

// A command started with standard descriptors closed opens them on /dev/null before anything
// else: its netlink socket must not become fd 1 and take the report. A closed stdout is the
// usual "cannot write the output", exit 1, for a summary, a listing and a JSON document.
TEST_F(LiveNamespace, ClosedStandardDescriptorsAreNeverWrittenInto) {
  for (const char* args : {"-s", "-s -j", "-ta", "top lport", "counters"}) {
    const auto r = testing::run_process(
        {"sh", "-c", std::string("exec \"$0\" ") + args + " >&-", SSFAST_CLI_PATH});
    EXPECT_EQ(r.exit_code, 1) << args;
    EXPECT_EQ(r.err, "ssfast: cannot write the output\n") << args;
  }
  // Nothing open at all: still exit 1, and no crash.
  const auto r = testing::run_process({"sh", "-c", "exec \"$0\" -s <&- >&- 2>&-", SSFAST_CLI_PATH});
  EXPECT_EQ(r.exit_code, 1);
  // A closed stdin or stderr alone changes nothing about the report.
  const auto ok = testing::run_process({"sh", "-c", "exec \"$0\" -s -j <&- 2>&-", SSFAST_CLI_PATH});
  ASSERT_EQ(ok.exit_code, 0);
  const auto js = nlohmann::json::parse(ok.out);
  for (tcp_state st : netstat_states)
    EXPECT_EQ(json_state(js["tcp"]["states"], st), got_.tcp_all().netstat_count(st));
}

// A proc root in a new temporary directory: proc-scenario's socket tables under net/, and the
// `counters` files of proc/ beside them.
std::filesystem::path fake_proc_root(const std::string& name,
                                     std::initializer_list<const char*> counters) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / (name + "-" + std::to_string(getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "net");
  for (const char* f : {"tcp", "tcp6", "udp", "udp6", "unix"})
    fs::copy_file(fs::path(SSFAST_TEST_DATA) / "proc-scenario" / f, root / "net" / f);
  for (const char* f : counters)
    fs::copy_file(fs::path(SSFAST_TEST_DATA) / "proc" / f, root / "net" / f);
  return root;
}

// --proc-root reads what it is given: a FIFO or a device where a /proc file should be must
// neither hang the run nor be read without end (net/snmp -> /dev/zero grew 1.2 GB in 6 s);
// a counter file past 1 MiB is not one. Each is one clear line.
TEST(ProcRoot, WhatIsNotAProcFileIsRefused) {
  namespace fs = std::filesystem;
  const fs::path root = fake_proc_root("ssfast-notproc", {"sockstat", "sockstat6"});
  fs::create_symlink("/dev/zero", root / "net" / "snmp");
  testing::child_setup bounded;
  bounded.timeout = std::chrono::seconds(60);
  const std::string r_root = root.string();
  auto r = testing::run_process({SSFAST_CLI_PATH, "-s", "--proc-root", r_root}, bounded);
  EXPECT_NE(r.out + r.err, "");
  EXPECT_NE((r.out + r.err).find(r_root + "/net/snmp: not a regular file"), std::string::npos)
      << r.out << r.err;
  fs::remove(root / "net" / "snmp");
  std::ofstream(root / "net" / "snmp") << std::string(std::size_t{2} << 20, ' ');
  r = testing::run_process({SSFAST_CLI_PATH, "-s", "--proc-root", r_root}, bounded);
  EXPECT_NE((r.out + r.err).find(r_root + "/net/snmp: File too large"), std::string::npos)
      << r.out << r.err;
  fs::copy_file(fs::path(SSFAST_TEST_DATA) / "proc" / "snmp", root / "net" / "snmp",
                fs::copy_options::overwrite_existing);
  fs::remove(root / "net" / "tcp");
  ASSERT_EQ(::mkfifo((root / "net" / "tcp").c_str(), 0600), 0);
  r = testing::run_process({SSFAST_CLI_PATH, "-s", "--proc-root", r_root}, bounded);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(r_root + "/net/tcp: not a regular file"), std::string::npos) << r.err;
  r = testing::run_process({SSFAST_CLI_PATH, "-tan", "--proc-root", r_root}, bounded);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a regular file"), std::string::npos) << r.err;
  fs::remove_all(root);
}

// A malformed /proc row is judged alike everywhere: -s, a filtered -s and a listing all leave
// it out (-s used to count a row whose inode or queues were garbage, while listings dropped it
// without a word), and one stderr line per file says how many; the exit status is unchanged.
TEST(ProcRoot, AMalformedRowIsLeftOutAlikeAndSaid) {
  namespace fs = std::filesystem;
  const fs::path root = fake_proc_root("ssfast-badrow", {"sockstat", "sockstat6", "snmp"});
  const std::string r_root = root.string();
  auto counts = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv{SSFAST_CLI_PATH, "-s", "-j", "--proc-root", r_root};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::run_process(argv);
  };
  auto listing = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{SSFAST_CLI_PATH, "-H", "--proc-root", r_root};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::run_process(argv);
  };
  auto lines = [](const std::string& s) { return std::count(s.begin(), s.end(), '\n'); };
  const auto whole = counts({}), whole_filtered = counts({"sport > :0"});
  const auto whole_tcp = listing({"-tan"}), whole_unix = listing({"-xa"});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_EQ(whole.err, "");
  // A listener's row with a garbage inode (every column in place), a line that is no row, and
  // a UNIX row with a garbage inode.
  std::string tcp;
  {
    std::ifstream in(root / "net" / "tcp");
    std::string header, first;
    std::getline(in, header);
    std::getline(in, first);
    const auto at = first.find(" 946283 ");
    ASSERT_NE(at, std::string::npos) << first;
    first.replace(at + 1, 6, "94x283");
    tcp = first + "\n   x: not a row\n";
  }
  std::ofstream(root / "net" / "tcp", std::ios::app) << tcp;
  std::ofstream(root / "net" / "unix", std::ios::app)
      << "0000000004960499: 00000003 00000000 00000000 0001 03 9463z7\n";
  const auto bad = counts({}), bad_filtered = counts({"sport > :0"});
  const auto bad_tcp = listing({"-tan"}), bad_unix = listing({"-xa"});
  fs::remove_all(root);
  const std::string tcp_said = "ssfast: warning: " + r_root +
                               "/net/tcp: 2 malformed lines left out (not counted, not listed)\n";
  const std::string unix_said = "ssfast: warning: " + r_root +
                                "/net/unix: 1 malformed line left out (not counted, not listed)\n";
  for (const auto* r : {&bad, &bad_filtered, &bad_tcp, &bad_unix}) EXPECT_EQ(r->exit_code, 0);
  const auto j = nlohmann::json::parse(bad.out), w = nlohmann::json::parse(whole.out);
  EXPECT_EQ(j["tcp"], w["tcp"]) << "the listener with a garbage inode is not counted";
  EXPECT_EQ(j["unix"], w["unix"]);
  EXPECT_EQ(bad.err, tcp_said + unix_said);
  const auto jf = nlohmann::json::parse(bad_filtered.out),
             wf = nlohmann::json::parse(whole_filtered.out);
  EXPECT_EQ(jf["tcp"], wf["tcp"]);
  EXPECT_NE(bad_filtered.err.find(tcp_said), std::string::npos) << bad_filtered.err;
  EXPECT_EQ(lines(bad_tcp.out), lines(whole_tcp.out));
  // A TCP listing with listeners from /proc also says, on stderr, that their fullness is not
  // judged there (standard output is the header and the rows).
  EXPECT_EQ(bad_tcp.err, tcp_said +
                             "ssfast: note: source: proc; a listener's Send-Q there is 0, not its "
                             "backlog\n");
  EXPECT_EQ(lines(bad_unix.out), lines(whole_unix.out));
  EXPECT_EQ(bad_unix.err, unix_said);
}

// An empty tmpfs mounted on /proc (a sandbox, a broken container image) showed no namespace,
// no owner and no error: exit 0 with nothing. Every command that looks into /proc's process
// directories now says /proc is not procfs, exit 1. A mount namespace of the command's own.
TEST(ProcRoot, AProcThatIsNotProcfsIsSaid) {
  if (geteuid() != 0 || !testing::have_program("unshare"))
    GTEST_SKIP() << "needs root and unshare for a private mount namespace";
  const std::string wrap = "mount -t tmpfs tmpfs /proc || exit 99; exec \"$0\" \"$@\"";
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"-s", "--all-netns"}, {"top", "netns"}, {"-tanp"}}) {
    std::vector<std::string> argv{"unshare", "-m", "--propagation", "private", "sh",
                                  "-c",      wrap, SSFAST_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = testing::run_process(argv);
    ASSERT_NE(r.exit_code, 99) << "could not mount the tmpfs: " << r.err;
    EXPECT_EQ(r.exit_code, 1) << args[0] << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("ssfast: /proc: not a proc filesystem"), std::string::npos)
        << args[0] << ": " << r.err;
  }
}

}  // namespace
}  // namespace ssfast
