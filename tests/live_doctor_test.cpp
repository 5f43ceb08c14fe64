// SPDX-License-Identifier: Apache-2.0
// `ssfast doctor` on real sockets: each finding fires on a namespace built to show it (the
// sysctls it needs are per network namespace, so the host is never touched) with the right
// evidence, and a quiet namespace gives none.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "ssfast/doctor/gather.h"
#include "ssfast/doctor/history.h"
#include "ssfast/report/history_file.h"
#include "ssfast/report/history_view.h"
#include "ssfast/ssfast.h"
#include "support/background.h"
#include "support/live_fixture.h"
#include "support/scenario.h"
#include "support/syn_flood.h"

namespace ssfast {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

class DoctorNamespace : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = testing::enter_private_netns();
    if (!why.empty()) GTEST_SKIP() << "live test skipped: " << why;
  }
  void TearDown() override { expect_no_leftover_processes(); }

  // Writes /proc/sys/<name>: net sysctls follow the writer's namespace, this test's own.
  static void sysctl(const std::string& name, const std::string& value) {
    std::ofstream f("/proc/sys/" + name);
    f << value;
    f.close();
    ASSERT_TRUE(f) << "cannot write " << name;
  }

  int listener(std::uint16_t port, int backlog, int defer_accept_s = 0) {
    return fds_.hold(testing::listen_loopback(port, backlog, defer_accept_s));
  }

  // A blocking connect from `from` to 127.0.0.1:port; the descriptor is held.
  int client(std::uint16_t port, const char* from = nullptr) {
    return fds_.hold(testing::connect_tcp("127.0.0.1", port, from));
  }

  int accept_one(int l) { return fds_.hold(accept4(l, nullptr, nullptr, SOCK_CLOEXEC)); }

  // A listener on `port` and `n` connections its clients closed and it never did: n sockets
  // in CLOSE_WAIT, held (waited for, bounded).
  void close_wait_leak(std::uint16_t port, int n) {
    const int l = listener(port, 64);
    for (int i = 0; i < n; ++i) {
      const int c = client(port);
      accept_one(l);
      fds_.close_one(c);  // the peer closes; this side never does: CLOSE_WAIT
    }
    ASSERT_EQ(count_state(tcp_state::close_wait, static_cast<std::uint64_t>(n)),
              static_cast<std::uint64_t>(n));
  }

  // n connections to listener `l` on `port` that the client closes first: the client keeps
  // TIME_WAIT (unless the namespace has no bucket left), the server's side is gone.
  void time_wait_pairs(int l, std::uint16_t port, int n) {
    for (int i = 0; i < n; ++i) {
      const int c = client(port);
      const int s = accept_one(l);
      fds_.close_one(c);
      char b;
      ASSERT_EQ(read(s, &b, 1), 0);
      fds_.close_one(s);
    }
  }

  // TCP sockets in `s` now (bounded wait until `want`, when given).
  std::uint64_t count_state(tcp_state s, std::uint64_t want = UINT64_MAX) {
    auto c = collector::open();
    if (!c) throw std::runtime_error("collector::open failed");
    socket_summary sum;
    const auto end = std::chrono::steady_clock::now() + 30s;
    do {
      if (c->count(sum)) throw std::runtime_error("count failed");
      if (want == UINT64_MAX || sum.tcp_histogram().netstat_count(s) == want) break;
      std::this_thread::sleep_for(10ms);
    } while (std::chrono::steady_clock::now() < end);
    return sum.tcp_histogram().netstat_count(s);
  }

  // `ssfast doctor -j` in this namespace (or with extra arguments): exit code and report.
  static std::pair<int, json> doctor(std::vector<std::string> extra = {},
                                     const char* interval = "0.3") {
    std::vector<std::string> argv = {SSFAST_CLI_PATH, "doctor", "-j", "--interval", interval};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const auto r = testing::run_process(argv);
    EXPECT_EQ(r.err, "");
    json j;
    try {
      j = json::parse(r.out);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not JSON: " << r.out << r.err;
    }
    return {r.exit_code, j};
  }

  static const json* finding(const json& report, std::string_view id) {
    for (const auto& f : report["findings"])
      if (f["id"] == id) return &f;
    return nullptr;
  }

  // A listener on [::1]:port, and a client connected to it (held).
  int listener6(std::uint16_t port, int backlog, int defer_accept_s = 0) {
    const int fd = fds_.hold(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (defer_accept_s > 0)
      setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_accept_s, sizeof defer_accept_s);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_loopback;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, backlog) != 0)
      throw std::runtime_error("cannot listen on [::1]");
    return fd;
  }
  int client6(std::uint16_t port) {
    const int fd = fds_.hold(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_loopback;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("cannot connect to [::1]");
    return fd;
  }

  static std::string ids(const json& report) {
    std::string s;
    for (const auto& f : report["findings"])
      s += f["id"].get<std::string>() + "(" + f["severity"].get<std::string>() + ") ";
    return s;
  }

  // `ssfast doctor -j --interval S` while spoofed SYNs go on to 127.0.0.1:port, `burst` of
  // them every 5 ms from `first` + 0..spread-1, from before the doctor starts until it ends,
  // so its interval holds them however late it takes its first sample. Bounded: at most
  // 60,000 SYNs.
  static std::pair<int, json> doctor_during_flood(std::uint16_t port, const std::string& first,
                                                  std::uint32_t spread, std::uint32_t burst,
                                                  const char* interval) {
    testing::syn_sender syns;
    std::pair<int, json> result;
    std::atomic<bool> done{false};
    std::thread watcher([&] {
      result = doctor({}, interval);
      done = true;
    });
    for (std::uint32_t sent = 0; sent < 60000 && !done; sent += burst) {
      syns.flood(first, spread, "127.0.0.1", port, burst);
      std::this_thread::sleep_for(5ms);
    }
    watcher.join();
    EXPECT_TRUE(done) << "the doctor ran past 60,000 SYNs";
    return result;
  }

  // One scenario, four judges: the doctor, -s --watch on a pipe (JSON), check with
  // `check_args` and the exporter's ssfast_finding must all reach `severity` on `id` about
  // `subject` (the doctor's rules serve all four).
  void same_verdict_everywhere(const std::string& id, const std::string& severity,
                               const std::string& subject,
                               const std::vector<std::string>& check_args) {
    const auto [code, report] = doctor();
    bool in_doctor = false;
    for (const auto& f : report["findings"])
      in_doctor |= f["id"] == id && f["severity"] == severity && f["subject"] == subject;
    EXPECT_TRUE(in_doctor) << "doctor: " << report.dump();

    const auto w =
        testing::run_process({SSFAST_CLI_PATH, "-s", "--watch", "0.3", "--count", "2", "-j"});
    ASSERT_EQ(w.exit_code, 0) << w.err;
    std::string lines = w.out;
    while (!lines.empty() && lines.back() == '\n') lines.pop_back();
    const std::size_t nl = lines.rfind('\n');
    const json last = json::parse(lines.substr(nl == std::string::npos ? 0 : nl + 1));
    bool in_watch = false;
    for (const auto& f : last["findings"])
      in_watch |= f["id"] == id && f["severity"] == severity && f["subject"] == subject;
    EXPECT_TRUE(in_watch) << "-s --watch: " << w.out;

    std::vector<std::string> argv = {SSFAST_CLI_PATH, "check"};
    argv.insert(argv.end(), check_args.begin(), check_args.end());
    const auto c = testing::run_process(argv);
    EXPECT_EQ(c.exit_code, severity == "critical" ? 2 : 1) << "check: " << c.out;

    testing::background_process exporter({SSFAST_CLI_PATH, "exporter", "--listen", "127.0.0.1:0"});
    const std::uint16_t port = exporter.wait_for_listening_port();
    std::string body;
    for (int i = 0; i < 2; ++i) {  // the first collection has no interval yet
      if (i) std::this_thread::sleep_for(300ms);
      testing::tcp_client http(port);
      ASSERT_TRUE(http.send("GET /metrics HTTP/1.0\r\n\r\n"));
      std::string r;
      ASSERT_TRUE(http.read_to_close(r));
      body = std::string(testing::http_body(r));
    }
    const std::string series = "ssfast_finding{id=\"" + id + "\",severity=\"" + severity +
                               "\",subject=\"" + subject + "\"} 1\n";
    EXPECT_NE(body.find(series), std::string::npos) << "exporter: " << body;
  }

  // A dual-stack listener on [::]:port (IPV6_V6ONLY off): IPv4 clients reach it too.
  int listener_dual(std::uint16_t port, int backlog) {
    const int fd = fds_.hold(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int off = 0;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, backlog) != 0)
      throw std::runtime_error("cannot listen on [::]");
    return fd;
  }

  testing::fd_set_guard fds_;
};

TEST_F(DoctorNamespace, QuietNamespaceHasNoFindings) {
  const int l = listener(700, 128);
  for (int i = 0; i < 5; ++i) {
    client(700);
    accept_one(l);
  }
  const auto [code, report] = doctor();
  EXPECT_EQ(code, 0) << report.dump();
  EXPECT_TRUE(report["findings"].empty()) << ids(report);
  EXPECT_EQ(report["source"], "netlink");
  const auto text = testing::run_process({SSFAST_CLI_PATH, "doctor", "--interval", "0.1"});
  EXPECT_EQ(text.exit_code, 0);
  // tcp_max_orphans and tcp_mem are global: a child namespace's /proc/sys has neither, so
  // those two rules cannot run here, and the report says so rather than "no findings".
  EXPECT_TRUE(text.out.starts_with(
      "ssfast doctor: no findings in the 8 of 10 rules that ran (netlink, sampled over 0.1 s"))
      << text.out;
  EXPECT_NE(text.out.find(": 11 TCP sockets, 10 established, "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\nnot run: orphans_limit (needs net.ipv4.tcp_max_orphans: "),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("\nnot run: tcp_memory (needs net.ipv4.tcp_mem: "), std::string::npos)
      << text.out;
  std::vector<std::string> not_run;
  for (const auto& r : report["not_run"]) not_run.push_back(r["id"]);
  EXPECT_EQ(not_run, (std::vector<std::string>{"orphans_limit", "tcp_memory"}));
}

TEST_F(LiveNamespace, TheAllStatesScenarioShowsOnlyItsFullAcceptQueue) {
  // Every state at once, a handful of each, is no emergency: the findings are the
  // scenario's listen(fd, 0) listeners (one per family) each holding a connection, full by
  // the kernel's own test (sk_acceptq_is_full: 1 > 0), so their next client would be
  // dropped; each listener is its own finding.
  const auto r = testing::run_process({SSFAST_CLI_PATH, "doctor", "-j", "--interval", "0.3"});
  const json report = json::parse(r.out);
  ASSERT_EQ(report["findings"].size(), 2u) << report.dump(1);
  std::set<std::string> subjects;
  for (const json& f : report["findings"]) {
    EXPECT_EQ(f["id"], "accept_queue_full");
    EXPECT_EQ(f["evidence"]["backlog"], 0);
    EXPECT_EQ(f["evidence"]["accept_queue"], 1);
    subjects.insert(f["subject"].get<std::string>());
  }
  EXPECT_EQ(subjects.size(), 2u) << "an IPv4 and an IPv6 listener";
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(DoctorNamespace, TimeWaitAtTheBucketLimit) {
  sysctl("net/ipv4/tcp_max_tw_buckets", "20");
  const int l = listener(700, 128);
  time_wait_pairs(l, 700, 17);
  ASSERT_EQ(count_state(tcp_state::time_wait, 17), 17u);
  auto [code, report] = doctor();
  const json* f = finding(report, "time_wait_buckets");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "warning") << "17 of 20";
  EXPECT_EQ((*f)["evidence"]["time_wait"], 17);
  EXPECT_EQ((*f)["evidence"]["sockstat_tw"], 17);
  EXPECT_EQ((*f)["evidence"]["tcp_max_tw_buckets"], 20);
  EXPECT_EQ(code, 1);
  // Three more fill it; the rest find no bucket and close without TIME_WAIT.
  time_wait_pairs(l, 700, 6);
  ASSERT_EQ(count_state(tcp_state::time_wait, 20), 20u) << "capped at tcp_max_tw_buckets";
  std::tie(code, report) = doctor();
  f = finding(report, "time_wait_buckets");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "critical");
  EXPECT_EQ((*f)["evidence"]["sockstat_tw"], 20);
  // The counter as the counter (3 overflowed so far, before this interval), its change over
  // the interval apart: it once printed the interval's 0 under the counter's name.
  EXPECT_EQ((*f)["evidence"]["TCPTimeWaitOverflow"], 3) << (*f)["evidence"].dump();
  EXPECT_EQ((*f)["evidence"]["TCPTimeWaitOverflow_delta"], 0);
  EXPECT_EQ((*f)["advice"][0].get<std::string>().rfind(
                "sysctl -w net.ipv4.tcp_max_tw_buckets=40   # now 20", 0),
            0u)
      << (*f)["advice"][0];
  EXPECT_EQ(code, 2);
}

TEST_F(DoctorNamespace, EphemeralPortsRunningOut) {
  sysctl("net/ipv4/ip_local_port_range", "40000 40019");
  const int l = listener(700, 128);
  for (int i = 0; i < 12; ++i) {
    client(700);
    accept_one(l);
  }
  auto [code, report] = doctor();
  const json* f = finding(report, "ephemeral_ports");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "warning") << "12 of 20";
  EXPECT_EQ((*f)["evidence"]["busiest"], "127.0.0.1 -> 127.0.0.1:700");
  EXPECT_EQ((*f)["evidence"]["connections"], 12);
  EXPECT_EQ((*f)["evidence"]["ports"], 20);
  EXPECT_EQ((*f)["evidence"]["ip_local_port_range"], "40000 40019");
  // Six more to the same destination: 18 of the 20 ports.
  for (int i = 0; i < 6; ++i) {
    client(700);
    accept_one(l);
  }
  std::tie(code, report) = doctor();
  f = finding(report, "ephemeral_ports");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "critical") << "18 of 20";
  EXPECT_EQ((*f)["evidence"]["connections"], 18);
  EXPECT_EQ(code, 2);
}

TEST_F(DoctorNamespace, SynFloodFillsTheSynQueue) {
  // TCP_DEFER_ACCEPT keeps each handshake half-open (the bare ACK is dropped): SYN_RECV on
  // the server while the clients believe they are connected.
  listener(701, 16, /*defer_accept_s=*/60);
  for (int i = 0; i < 10; ++i) client(701, "127.0.0.2");
  for (int i = 0; i < 2; ++i) client(701, "127.0.0.3");
  ASSERT_EQ(count_state(tcp_state::syn_recv, 12), 12u);
  auto [code, report] = doctor();
  const json* f = finding(report, "syn_flood");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "warning") << "12 of 16";
  EXPECT_EQ((*f)["evidence"]["listener"], "127.0.0.1:701");
  EXPECT_EQ((*f)["evidence"]["listener_syn_recv"], 12);
  EXPECT_EQ((*f)["evidence"]["listener_backlog"], 16);
  EXPECT_EQ((*f)["evidence"]["top_sources"], "127.0.0.2 (10), 127.0.0.3 (2)");
  bool names_source = false;
  for (const auto& a : (*f)["advice"])
    names_source |= a.get<std::string>().find("come from 127.0.0.2") != std::string::npos;
  EXPECT_TRUE(names_source) << (*f)["advice"].dump();
  for (int i = 0; i < 3; ++i) client(701, "127.0.0.2");
  ASSERT_EQ(count_state(tcp_state::syn_recv, 15), 15u);
  std::tie(code, report) = doctor();
  f = finding(report, "syn_flood");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "critical") << "15 of 16";
  EXPECT_EQ(code, 2);
}

// An IPv4 and an IPv6 listener on one port have a SYN queue each: 15 half-open on the IPv4
// one's 16 is critical however much room the IPv6 one has (summed it read 18 of 144: nothing).
TEST_F(DoctorNamespace, SynQueuesOfListenersSharingAPortAreJudgedApart) {
  listener(8443, 16, /*defer_accept_s=*/60);
  listener6(8443, 128, /*defer_accept_s=*/60);
  for (int i = 0; i < 15; ++i) client(8443, "127.0.0.2");
  for (int i = 0; i < 3; ++i) client6(8443);
  ASSERT_EQ(count_state(tcp_state::syn_recv, 18), 18u);
  const auto [code, report] = doctor();
  const json* f = finding(report, "syn_flood");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "critical");
  EXPECT_EQ((*f)["evidence"]["listener"], "127.0.0.1:8443");
  EXPECT_EQ((*f)["evidence"]["listener_syn_recv"], 15);
  EXPECT_EQ((*f)["evidence"]["listener_backlog"], 16);
  EXPECT_EQ(code, 2);
}

TEST_F(DoctorNamespace, SynCookiesDuringTheIntervalAreCritical) {
  // A SYN queue of 4 that overflows while the doctor watches: the kernel answers the excess
  // with cookies (tcp_syncookies=1, the default), which is a flood by definition. The SYNs go
  // on for as long as the doctor runs, so whenever its first sample is taken (however slowly
  // it starts on a busy host), cookies are sent after it and before its second: no sleep
  // guesses where the interval lies. TCP_DEFER_ACCEPT keeps the first handshakes half-open in
  // the SYN queue; a connection a cookie completes goes straight to the accept queue, and once
  // that is full the kernel drops SYNs instead of answering them (tcp_conn_request():
  // ListenOverflows, no cookie), so they are accepted (and held) as they come.
  const int l = listener(707, 4, /*defer_accept_s=*/60);
  ASSERT_EQ(fcntl(l, F_SETFL, fcntl(l, F_GETFL) | O_NONBLOCK), 0);
  std::pair<int, json> result;
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    result = doctor({}, "1.5");
    done = true;
  });
  // Non-blocking: the SYNs are what matters, and connect() must not wait on a full queue.
  // Bounded: at most 3,000 (a minute at one per 20 ms), each a descriptor held.
  int started = 0, failed = 0;
  for (int i = 0; i < 3000 && !done; ++i) {
    try {
      fds_.hold(testing::connect_tcp("127.0.0.1", 707, "127.0.0.2", /*wait=*/false));
      ++started;
    } catch (const std::exception&) {
      ++failed;  // said below, after the watcher is joined
    }
    std::this_thread::sleep_for(20ms);
    for (int a; (a = accept4(l, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) fds_.hold(a);
  }
  watcher.join();
  ASSERT_EQ(failed, 0) << "of " << started + failed << " connects";
  ASSERT_TRUE(done) << "the doctor ran past a minute of SYNs";
  const auto& [code, report] = result;
  const json* f = finding(report, "syn_flood");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "critical");
  EXPECT_NE((*f)["evidence"]["SyncookiesSent_per_s"], "0.0/s") << (*f)["evidence"].dump();
  EXPECT_NE((*f)["summary"].get<std::string>().find("SYN cookies sent"), std::string::npos)
      << (*f)["summary"];
  EXPECT_EQ(code, 2);
}

// A real flood with cookies off: the kernel stops at 3/4 of tcp_max_syn_backlog, far below
// listen(4096), and drops the rest (ListenDrops and the listener's own drops, not
// TCPReqQFullDrop). The finding names that limit and the sysctl that moves it.
TEST_F(DoctorNamespace, RealFloodWithCookiesOffStopsAtThreeQuartersOfMaxSynBacklog) {
  sysctl("net/ipv4/tcp_syncookies", "0");
  sysctl("net/ipv4/tcp_max_syn_backlog", "64");
  testing::route_spoofed_sources("10.99.0.0/16");
  listener(801, 4096);
  testing::syn_sender syns;
  syns.flood("10.99.0.1", 200, "127.0.0.1", 801, 200);
  // 48 = 64 - 64/4, one more on a kernel with 6.13's `>`: wait for the queue to settle there.
  const std::uint64_t held = count_state(tcp_state::syn_recv, 49);
  ASSERT_TRUE(held == 48 || held == 49) << held;
  const auto [code, report] = doctor_during_flood(801, "10.99.1.1", 100, 20, "1");
  const json* f = finding(report, "syn_flood");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "critical");
  EXPECT_EQ((*f)["subject"], "127.0.0.1:801");
  const json& ev = (*f)["evidence"];
  EXPECT_EQ(ev["syn_limit"], 48) << ev.dump();
  EXPECT_EQ(ev["syn_limit_by"], "tcp_max_syn_backlog");
  EXPECT_EQ(ev["listener_backlog"], 4096);
  EXPECT_GT(ev["listener_drops_delta"].get<std::int64_t>(), 0) << ev.dump();
  EXPECT_NE(ev["syn_drops_per_s"], "0.0/s") << ev.dump();
  EXPECT_EQ(ev["TCPReqQFullDrop_per_s"], "0.0/s") << "the 3/4 drops are not queue-full drops";
  bool moves_it = false, blames_backlog = false;
  for (const auto& a : (*f)["advice"]) {
    const std::string t = a.get<std::string>();
    moves_it |= t.starts_with("sysctl -w net.ipv4.tcp_max_syn_backlog=");
    blames_backlog |= t.find("passes to listen()") != std::string::npos;
  }
  EXPECT_TRUE(moves_it) << (*f)["advice"].dump();
  EXPECT_FALSE(blames_backlog) << (*f)["advice"].dump();
  EXPECT_EQ(code, 2);
}

// Two listeners flooded from different sources, and a dual-stack one flooded over IPv4: a
// finding for each, each naming only the sources of its own request sockets, as a filter
// writes them (10.99.3.1, not ::ffff:10.99.3.1). The quiet listener has none.
TEST_F(DoctorNamespace, EachFloodedListenerNamesItsOwnSources) {
  testing::route_spoofed_sources("10.99.0.0/16");
  listener(802, 32);
  listener(803, 16);
  listener(804, 16);
  listener_dual(805, 64);
  testing::syn_sender syns;
  syns.flood("10.99.1.1", 4, "127.0.0.1", 802, 20);  // 20 of 32: a warning
  syns.flood("10.99.2.1", 3, "127.0.0.1", 803, 15);  // 15 of 16: critical
  syns.flood("10.99.3.1", 1, "127.0.0.1", 805, 40);  // 40 of 64
  ASSERT_EQ(count_state(tcp_state::syn_recv, 75), 75u);
  const auto [code, report] = doctor();
  std::map<std::string, json> by_subject;
  for (const auto& f : report["findings"])
    if (f["id"] == "syn_flood") by_subject[f["subject"].get<std::string>()] = f;
  ASSERT_EQ(by_subject.size(), 3u) << ids(report) << report.dump();
  const json& a = by_subject["127.0.0.1:802"];
  EXPECT_EQ(a["severity"], "warning");
  EXPECT_EQ(a["evidence"]["top_sources"],
            "10.99.1.1 (5), 10.99.1.2 (5), 10.99.1.3 (5), 10.99.1.4 (5)");
  const json& b = by_subject["127.0.0.1:803"];
  EXPECT_EQ(b["severity"], "critical");
  EXPECT_EQ(b["evidence"]["top_sources"], "10.99.2.1 (5), 10.99.2.2 (5), 10.99.2.3 (5)");
  const json& c = by_subject["[::]:805"];
  EXPECT_EQ(c["evidence"]["listener_syn_recv"], 40);
  EXPECT_EQ(c["evidence"]["top_sources"], "10.99.3.1 (40)");
  bool filter_form = false;
  for (const auto& x : c["advice"])
    filter_form |= x.get<std::string>().find("come from 10.99.3.1:") != std::string::npos;
  EXPECT_TRUE(filter_form) << c["advice"].dump();
  EXPECT_EQ(code, 2);
}

// tcp_syncookies=2 answers every SYN with a cookie and queues nothing: the flood is only in
// the cookie counters, sent and never returned.
TEST_F(DoctorNamespace, RealFloodWithCookiesAlwaysShowsAsUnansweredCookies) {
  sysctl("net/ipv4/tcp_syncookies", "2");
  testing::route_spoofed_sources("10.99.0.0/16");
  listener(806, 128);
  const auto [code, report] = doctor_during_flood(806, "10.99.4.1", 250, 10, "1");
  const json* f = finding(report, "syn_flood");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["subject"], "");
  EXPECT_EQ((*f)["evidence"]["syn_recv"], 0);
  EXPECT_NE((*f)["summary"].get<std::string>().find("SYN cookies sent that no client returned"),
            std::string::npos)
      << (*f)["summary"];
  EXPECT_EQ(count_state(tcp_state::syn_recv), 0u);
  EXPECT_GE(code, 1);
}

// SYN-ACK retransmissions to spoofed clients count in TCPSynRetrans and RetransSegs: the
// retransmits rule leaves them to the SYN flood instead of sending the operator to SYN_SENT
// sockets that do not exist.
TEST_F(DoctorNamespace, SynAckRetransmissionsStayWithTheFlood) {
  testing::route_spoofed_sources("10.99.0.0/16");
  listener(807, 256);  // 150 of 256 half-open: a warning
  testing::syn_sender syns;
  syns.flood("10.99.5.1", 150, "127.0.0.1", 807, 150);
  ASSERT_EQ(count_state(tcp_state::syn_recv, 150), 150u);
  // SYN-ACKs are retransmitted 1 s and 3 s after the SYN: an interval of 2.5 s holds one.
  const auto [code, report] = doctor({}, "2.5");
  EXPECT_EQ(finding(report, "retransmits"), nullptr) << report.dump();
  const json* f = finding(report, "syn_flood");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_GE((*f)["evidence"]["synack_retrans"].get<std::int64_t>(), 150) << (*f).dump();
  EXPECT_EQ(code, 1) << "150 of 256: a warning, and nothing else";
}

// `check` alerts on listener incidents: a full accept queue with connections refused, and a
// flooded SYN queue, each naming the listener; with a filter, the listener's own drops.
TEST_F(DoctorNamespace, CheckAlertsOnListenerQueues) {
  const int l = listener(810, 4);
  (void)l;
  for (int i = 0; i < 5; ++i) client(810);  // 5 waiting on a backlog of 4: the kernel's "full"
  auto r = testing::run_process({SSFAST_CLI_PATH, "check", "--crit", "listen_queue=90"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(
      r.out.starts_with("SSFAST CRITICAL - listen_queue 125 on 127.0.0.1:810 (critical range 90)"))
      << r.out;
  EXPECT_NE(r.out.find(" listen_queue=125;;90;0"), std::string::npos) << r.out;
  // More clients while check measures: their SYNs are dropped at the full queue, counted in
  // ListenOverflows and in the listener's own drops. Non-blocking connects go on until check
  // ends (bounded: 1,500 at one per 20 ms).
  auto during = [&](std::vector<std::string> argv) {
    testing::process_result out;
    std::atomic<bool> done{false};
    std::thread t([&] {
      out = testing::run_process(argv);
      done = true;
    });
    for (int i = 0; i < 1500 && !done; ++i) {
      fds_.hold(testing::connect_tcp("127.0.0.1", 810, nullptr, /*wait=*/false));
      std::this_thread::sleep_for(20ms);
    }
    t.join();
    return out;
  };
  r = during({SSFAST_CLI_PATH, "check", "--interval", "1", "--crit", "listen_overflows=0"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(r.out.starts_with("SSFAST CRITICAL - listen_overflows ")) << r.out;
  r = during(
      {SSFAST_CLI_PATH, "check", "--interval", "1", "--crit", "listen_drops=0", "sport = :810"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(r.out.starts_with("SSFAST CRITICAL - listen_drops ")) << r.out;
  EXPECT_NE(r.out.find("(matching sport = :810)"), std::string::npos) << r.out;
  // The namespace's rates are not the filter's.
  r = testing::run_process({SSFAST_CLI_PATH, "check", "--crit", "syn_drops=0", "sport = :810"});
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("rate of the whole namespace"), std::string::npos) << r.out;
  // A quiet listener elsewhere: the filter judges only its own.
  listener(811, 128);
  r = testing::run_process({SSFAST_CLI_PATH, "check", "--crit", "listen_queue=90", "sport = :811"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

TEST_F(DoctorNamespace, CheckAlertsOnAFloodedSynQueue) {
  testing::route_spoofed_sources("10.99.0.0/16");
  listener(812, 16);
  listener(813, 1024);
  testing::syn_sender syns;
  syns.flood("10.99.6.1", 15, "127.0.0.1", 812, 15);
  ASSERT_EQ(count_state(tcp_state::syn_recv, 15), 15u);
  auto r = testing::run_process(
      {SSFAST_CLI_PATH, "check", "--warn", "syn_queue=50", "--crit", "syn_queue=90"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(r.out.starts_with("SSFAST CRITICAL - syn_queue 93.8 on 127.0.0.1:812")) << r.out;
  // With cookies off and tcp_max_syn_backlog 16 the limit is 12 (3/4 of it): full.
  sysctl("net/ipv4/tcp_syncookies", "0");
  sysctl("net/ipv4/tcp_max_syn_backlog", "16");
  syns.flood("10.99.7.1", 30, "127.0.0.1", 813, 30);
  r = testing::run_process({SSFAST_CLI_PATH, "check", "--crit", "syn_queue=99", "sport = :813"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(r.out.starts_with("SSFAST CRITICAL - syn_queue 100 on 127.0.0.1:813")) << r.out;
}

// The same scenarios judged by the doctor, the --watch lines, check and the exporter.
TEST_F(DoctorNamespace, AFloodedListenerIsTheSameVerdictEverywhere) {
  testing::route_spoofed_sources("10.99.0.0/16");
  listener(820, 16);
  listener(821, 4096);  // a big backlog beside it hides nothing
  listener(822, 3000);
  testing::syn_sender syns;
  syns.flood("10.99.8.1", 15, "127.0.0.1", 820, 15);
  ASSERT_EQ(count_state(tcp_state::syn_recv, 15), 15u);
  same_verdict_everywhere("syn_flood", "critical", "127.0.0.1:820",
                          {"--warn", "syn_queue=50", "--crit", "syn_queue=90"});
  // The --watch line on a pipe carries the flag and the finding, one awk field each.
  const auto w = testing::run_process({SSFAST_CLI_PATH, "-s", "--watch", "0.3", "--count", "2"});
  EXPECT_NE(w.out.find(" SYN_RECV=15(+0)! "), std::string::npos) << w.out;
  EXPECT_NE(w.out.find(" findings=syn_flood/critical/127.0.0.1:820\n"), std::string::npos) << w.out;
}

TEST_F(DoctorNamespace, ACloseWaitLeakIsTheSameVerdictEverywhere) {
  ASSERT_NO_FATAL_FAILURE(close_wait_leak(823, 20));
  same_verdict_everywhere("close_wait_leak", "warning", "",
                          {"--warn", "close_wait=15", "--crit", "close_wait=1023"});
}

TEST_F(DoctorNamespace, AFullAcceptQueueIsTheSameVerdictEverywhere) {
  listener(824, 4);
  for (int i = 0; i < 5; ++i) client(824);  // 5 of 4: the kernel's "full"
  same_verdict_everywhere("accept_queue_full", "critical", "127.0.0.1:824",
                          {"--warn", "listen_queue=89.9", "--crit", "listen_queue=100"});
}

// doctor FILTER judges one service: a flooded port and a leaking one, each diagnosed alone.
TEST_F(DoctorNamespace, AFilterDiagnosesOneService) {
  testing::route_spoofed_sources("10.99.0.0/16");
  listener(830, 16);
  const int l = listener(831, 64);
  testing::syn_sender syns;
  syns.flood("10.99.10.1", 15, "127.0.0.1", 830, 15);
  for (int i = 0; i < 20; ++i) {
    const int c = client(831);
    accept_one(l);
    fds_.close_one(c);
  }
  ASSERT_EQ(count_state(tcp_state::syn_recv, 15), 15u);
  ASSERT_EQ(count_state(tcp_state::close_wait, 20), 20u);
  auto [code, report] = doctor({"sport = :830"});
  EXPECT_EQ(report["filter"], "sport = :830");
  EXPECT_NE(finding(report, "syn_flood"), nullptr) << ids(report);
  EXPECT_EQ(finding(report, "close_wait_leak"), nullptr) << ids(report);
  EXPECT_EQ(code, 2);
  std::tie(code, report) = doctor({"sport = :831"});
  EXPECT_EQ(finding(report, "syn_flood"), nullptr) << ids(report);
  const json* f = finding(report, "close_wait_leak");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["evidence"]["close_wait"], 20);
  EXPECT_EQ(code, 1);
  // Text says it too, and a filter that does not parse is the doctor's exit 3.
  const auto t =
      testing::run_process({SSFAST_CLI_PATH, "doctor", "--interval", "0.1", "sport = :831"});
  EXPECT_NE(t.out.find(", matching sport = :831, sampled over"), std::string::npos) << t.out;
  const auto bad = testing::run_process({SSFAST_CLI_PATH, "doctor", "sport", "=", ":x"});
  EXPECT_EQ(bad.exit_code, 3) << bad.err;
}

// doctor --all-netns: this test's namespace leaks CLOSE_WAIT and a second one, made here, is
// flooded: each is its own section naming its own namespace, sampled in one interval.
TEST_F(DoctorNamespace, EveryNamespaceIsDiagnosedInOneInterval) {
  const int l = listener(840, 64);
  for (int i = 0; i < 20; ++i) {
    const int c = client(840);
    accept_one(l);
    fds_.close_one(c);
  }
  ASSERT_EQ(count_state(tcp_state::close_wait, 20), 20u);
  struct stat own {};
  ASSERT_EQ(::stat("/proc/self/ns/net", &own), 0);
  // A second namespace, named, with a flooded listener: a thread enters it to make the
  // listener (a socket stays in the namespace it was made in; this process holds it) and to
  // send the SYNs.
  const std::string name = "ssfast-doctor-" + std::to_string(getpid());
  testing::run_command({"ip", "netns", "add", name});
  struct cleanup {
    std::string n;
    ~cleanup() { (void)testing::run_process({"ip", "netns", "del", n}); }
  } drop{name};
  testing::run_command({"ip", "-n", name, "link", "set", "lo", "up"});
  testing::run_command({"ip", "-n", name, "route", "add", "10.99.0.0/16", "dev", "lo"});
  struct stat other {};
  ASSERT_EQ(::stat(("/run/netns/" + name).c_str(), &other), 0);
  std::string failed;
  std::thread t([&] {
    try {
      const int fd = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) throw std::runtime_error("setns");
      ::close(fd);
      fds_.hold(testing::listen_loopback(841, 16));
      testing::syn_sender syns;
      syns.flood("10.99.11.1", 15, "127.0.0.1", 841, 15);
    } catch (const std::exception& e) {
      failed = e.what();
    }
  });
  t.join();
  ASSERT_EQ(failed, "");
  const auto r =
      testing::run_process({SSFAST_CLI_PATH, "doctor", "-j", "--all-netns", "--interval", "0.5"});
  std::map<std::uint64_t, json> by_inode;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const json j = json::parse(line);
    by_inode[j["inode"].get<std::uint64_t>()] = j;
  }
  ASSERT_TRUE(by_inode.count(own.st_ino)) << r.out << r.err;
  ASSERT_TRUE(by_inode.count(other.st_ino)) << r.out << r.err;
  auto has = [](const json& report, std::string_view id) {
    for (const auto& f : report["findings"])
      if (f["id"] == id) return true;
    return false;
  };
  EXPECT_TRUE(has(by_inode[own.st_ino], "close_wait_leak")) << by_inode[own.st_ino].dump();
  EXPECT_FALSE(has(by_inode[own.st_ino], "syn_flood")) << "the flood is the other's";
  const json& theirs = by_inode[other.st_ino];
  EXPECT_TRUE(has(theirs, "syn_flood")) << theirs.dump();
  EXPECT_FALSE(has(theirs, "close_wait_leak"));
  EXPECT_EQ(theirs["name"], name);
  EXPECT_EQ(r.exit_code, 2) << "the worst of them: the flood is critical";
}

TEST_F(DoctorNamespace, AcceptQueueFullNamesTheProcess) {
  const int l = listener(702, 2);
  (void)l;
  for (int i = 0; i < 3; ++i) client(702);  // never accepted: the queue holds backlog + 1
  auto [code, report] = doctor();
  const json* f = finding(report, "accept_queue_full");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "critical");
  EXPECT_EQ((*f)["evidence"]["listener"], "127.0.0.1:702");
  EXPECT_EQ((*f)["evidence"]["accept_queue"], 3);
  EXPECT_EQ((*f)["evidence"]["backlog"], 2);
  EXPECT_NE(
      (*f)["evidence"]["process"].get<std::string>().find("(" + std::to_string(getpid()) + ")"),
      std::string::npos)
      << (*f)["evidence"].dump();
  EXPECT_EQ(code, 2);
}

// Every full listener, fullest first, with its owner (a backlog of 0 too); the counter and
// its change over the interval, each labelled as what it is.
TEST_F(DoctorNamespace, AcceptQueueNamesEveryFullListener) {
  listener(8600, 4);
  listener6(8600, 2);
  listener(8601, 0);
  for (int i = 0; i < 5; ++i) client(8600);   // 5 of 4: full
  for (int i = 0; i < 3; ++i) client6(8600);  // 3 of 2: full
  client(8601);                               // 1 of 0: full
  const auto [code, report] = doctor();
  const json* f = finding(report, "accept_queue_full");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "critical");
  const std::string me = "(" + std::to_string(getpid()) + ")";
  EXPECT_EQ((*f)["evidence"]["listener"], "127.0.0.1:8601");
  EXPECT_NE((*f)["evidence"]["process"].get<std::string>().find(me), std::string::npos)
      << "the backlog-0 listener's owner is named";
  // Each full listener is its own finding, fullest first: 1/0, then 3/2, then 5/4.
  std::vector<std::string> subjects;
  for (const auto& x : report["findings"])
    if (x["id"] == "accept_queue_full") subjects.push_back(x["subject"]);
  EXPECT_EQ(subjects, (std::vector<std::string>{"127.0.0.1:8601", "[::1]:8600", "127.0.0.1:8600"}));
  EXPECT_TRUE((*f)["evidence"].contains("ListenOverflows_delta"));
  EXPECT_TRUE((*f)["evidence"]["ListenOverflows"].is_number());
  EXPECT_EQ(code, 2);
}

TEST_F(DoctorNamespace, AcceptQueueNearlyFullWarns) {
  listener(703, 10);
  for (int i = 0; i < 9; ++i) client(703);
  const auto [code, report] = doctor();
  const json* f = finding(report, "accept_queue_full");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "warning");
  EXPECT_EQ((*f)["evidence"]["accept_queue"], 9);
  EXPECT_EQ(code, 1);
}

TEST_F(DoctorNamespace, CloseWaitLeakNamesPortAndProcess) {
  const int l = listener(704, 64);
  std::vector<int> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(client(704));
    accept_one(l);  // held, never closed: the leak
  }
  for (int c : clients) fds_.close_one(c);
  ASSERT_EQ(count_state(tcp_state::close_wait, 20), 20u);
  const auto [code, report] = doctor();
  const json* f = finding(report, "close_wait_leak");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "warning");
  EXPECT_EQ((*f)["evidence"]["close_wait"], 20);
  EXPECT_EQ((*f)["evidence"]["persisting"], 20);
  EXPECT_EQ((*f)["evidence"]["ports"], "704 (20)");
  EXPECT_NE((*f)["evidence"]["processes"].get<std::string>().find("(" + std::to_string(getpid()) +
                                                                  ") (20)"),
            std::string::npos)
      << (*f)["evidence"].dump();
  EXPECT_EQ(finding(report, "fin_wait2_orphans"), nullptr) << "20 orphans are not many";
  EXPECT_EQ(code, 1);
}

TEST_F(DoctorNamespace, FinWait2OrphanedAndHeld) {
  const int l = listener(705, 1024);
  std::vector<int> orphaned;
  for (int i = 0; i < 260; ++i) {
    orphaned.push_back(client(705));
    accept_one(l);
  }
  for (int c : orphaned) fds_.close_one(c);  // FIN_WAIT2 with no process
  for (int i = 0; i < 260; ++i) {
    const int c = client(705);
    accept_one(l);
    ASSERT_EQ(shutdown(c, SHUT_WR), 0);  // FIN_WAIT2, still held
  }
  ASSERT_EQ(count_state(tcp_state::fin_wait2, 520), 520u);
  const auto [code, report] = doctor();
  const json* f = finding(report, "fin_wait2_orphans");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "warning");
  EXPECT_EQ((*f)["evidence"]["orphaned"], 260);
  EXPECT_EQ((*f)["evidence"]["held"], 260);
  EXPECT_EQ((*f)["evidence"]["tcp_fin_timeout"], 60);
  EXPECT_EQ((*f)["advice"][0].get<std::string>().rfind(
                "sysctl -w net.ipv4.tcp_fin_timeout=30   # now 60", 0),
            0u);
  ASSERT_NE(finding(report, "close_wait_leak"), nullptr) << "their peers: 520 in CLOSE_WAIT";
  EXPECT_EQ(code, 1);
}

TEST_F(DoctorNamespace, RetransmissionsToABlackHole) {
  // 10.9.0.0/24 routed into lo: SYNs to it are looped back, not for us, and dropped.
  testing::run_command({"ip", "route", "add", "10.9.0.0/24", "dev", "lo"});
  for (int i = 0; i < 200; ++i)
    fds_.hold(testing::connect_tcp("10.9.0.2", 80, nullptr, /*wait=*/false));
  // Retransmissions come 1 s and 3 s after the SYN (initial RTO 1 s, doubling): an interval
  // of 2.5 s holds at least one of them however late the doctor takes its first sample.
  const auto [code, report] = doctor({}, "2.5");
  const json* f = finding(report, "retransmits");
  ASSERT_NE(f, nullptr) << ids(report);
  EXPECT_EQ((*f)["severity"], "critical");
  EXPECT_EQ((*f)["advice"][0].get<std::string>().rfind("most are SYN retransmissions", 0), 0u)
      << (*f)["advice"].dump();
  EXPECT_EQ(code, 2);
}

TEST_F(DoctorNamespace, AnotherNamespaceByPidUsesItsSysctls) {
  // The doctor runs in a fresh namespace of its own and diagnoses this one through --netns:
  // the socket counts and the sysctls must both be this namespace's.
  sysctl("net/ipv4/tcp_max_tw_buckets", "4");
  const int l = listener(706, 16);
  time_wait_pairs(l, 706, 4);
  ASSERT_EQ(count_state(tcp_state::time_wait, 4), 4u);
  const auto r = testing::run_process({"unshare", "-n", SSFAST_CLI_PATH, "doctor", "-j",
                                       "--interval", "0.1", "--netns", std::to_string(getpid())});
  const json report = json::parse(r.out);
  const json* f = finding(report, "time_wait_buckets");
  ASSERT_NE(f, nullptr) << report.dump();
  EXPECT_EQ((*f)["evidence"]["tcp_max_tw_buckets"], 4);
  EXPECT_EQ((*f)["evidence"]["time_wait"], 4);
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(DoctorNamespace, CountersAndSysctlsFromAProcRoot) {
  // A proc root whose counters and sysctls show what this kernel cannot: tcp_tw_recycle on,
  // orphans past half of tcp_max_orphans, TCP memory past the pressure threshold.
  const std::string root = ::testing::TempDir() + "ssfast-doctor-root-" + std::to_string(getpid());
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root + "/net");
  std::filesystem::create_directories(root + "/sys/net/ipv4");
  std::filesystem::create_directories(root + "/sys/net/core");
  for (const char* f : {"tcp", "tcp6", "udp", "udp6", "unix", "snmp", "netstat", "snmp6"})
    std::ofstream(root + "/net/" + f) << std::ifstream(std::string("/proc/net/") + f).rdbuf();
  std::ofstream(root + "/net/sockstat")
      << "sockets: used 10\nTCP: inuse 0 orphan 70000 tw 0 alloc 0 mem 260000\n"
         "UDP: inuse 0 mem 0\nUDPLITE: inuse 0\nRAW: inuse 0\nFRAG: inuse 0 memory 0\n";
  std::ofstream(root + "/net/sockstat6") << "TCP6: inuse 0\nUDP6: inuse 0\n";
  std::ofstream(root + "/sys/net/ipv4/tcp_tw_recycle") << "1\n";
  std::ofstream(root + "/sys/net/ipv4/tcp_max_orphans") << "131072\n";
  std::ofstream(root + "/sys/net/ipv4/tcp_mem") << "188964\t251954\t377928\n";
  const auto [code, report] = doctor({"--proc-root", root}, "0.1");
  EXPECT_EQ(report["source"], "proc");
  const json* recycle = finding(report, "tw_recycle");
  ASSERT_NE(recycle, nullptr) << ids(report);
  EXPECT_EQ((*recycle)["severity"], "critical");
  const json* orphans = finding(report, "orphans_limit");
  ASSERT_NE(orphans, nullptr) << ids(report);
  EXPECT_EQ((*orphans)["severity"], "warning");
  EXPECT_EQ((*orphans)["evidence"]["orphan"], 70000);
  const json* memory = finding(report, "tcp_memory");
  ASSERT_NE(memory, nullptr) << ids(report);
  EXPECT_EQ((*memory)["evidence"]["tcp_mem"], "188964 251954 377928");
  EXPECT_EQ(code, 2);
  EXPECT_EQ(report["findings"][0]["id"], "tw_recycle") << "worst first";
  const auto text =
      testing::run_process({SSFAST_CLI_PATH, "doctor", "--interval", "0.1", "--proc-root", root});
  EXPECT_NE(text.out.find("note: /proc does not show listen backlogs"), std::string::npos);
  std::filesystem::remove_all(root);
}

// A sysctl or counter file the doctor cannot read: the rules that need it say they did not
// run, the others run, and the report never says "no findings" for what it skipped.
TEST_F(DoctorNamespace, UnreadableInputsNameTheRulesNotRun) {
  const std::string root =
      ::testing::TempDir() + "ssfast-doctor-unread-" + std::to_string(getpid());
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root + "/net");
  std::filesystem::create_directories(root + "/sys/net/ipv4/tcp_max_tw_buckets");  // unreadable
  for (const char* f :
       {"tcp", "tcp6", "udp", "udp6", "unix", "snmp", "netstat", "snmp6", "sockstat", "sockstat6"})
    std::ofstream(root + "/net/" + f) << std::ifstream(std::string("/proc/net/") + f).rdbuf();
  std::ofstream(root + "/sys/net/ipv4/ip_local_port_range") << "32768\t60999\n";
  std::ofstream(root + "/sys/net/ipv4/tcp_max_orphans") << "131072\n";
  std::ofstream(root + "/sys/net/ipv4/tcp_mem") << "188964\t251954\t377928\n";
  auto [code, report] = doctor({"--proc-root", root}, "0.1");
  ASSERT_EQ(report["not_run"].size(), 1u) << report.dump();
  EXPECT_EQ(report["not_run"][0]["id"], "time_wait_buckets");
  EXPECT_EQ(report["not_run"][0]["needs"], "net.ipv4.tcp_max_tw_buckets");
  // A directory is refused before it is read: only regular files are /proc files.
  const std::string not_regular =
      "not a regular file (a FIFO, a device or a directory), as every /proc file is";
  EXPECT_EQ(report["not_run"][0]["why"], not_regular);
  auto text =
      testing::run_process({SSFAST_CLI_PATH, "doctor", "--interval", "0.1", "--proc-root", root});
  EXPECT_EQ(text.exit_code, 0) << text.out;
  EXPECT_TRUE(text.out.starts_with("ssfast doctor: no findings in the 9 of 10 rules that ran "))
      << text.out;
  EXPECT_NE(text.out.find("not run: time_wait_buckets (needs net.ipv4.tcp_max_tw_buckets: " +
                          not_regular + ")"),
            std::string::npos)
      << text.out;
  // The counter files unreadable too: every rule that needs a counter says so.
  std::filesystem::remove(root + "/net/netstat");
  std::filesystem::create_directory(root + "/net/netstat");
  std::tie(code, report) = doctor({"--proc-root", root}, "0.1");
  std::vector<std::string> not_run;
  for (const auto& r : report["not_run"]) not_run.push_back(r["id"]);
  EXPECT_EQ(not_run,
            (std::vector<std::string>{"time_wait_buckets", "syn_flood", "accept_queue_full",
                                      "orphans_limit", "tcp_memory", "retransmits"}));
  EXPECT_NE(report["not_run"][1]["why"].get<std::string>().find(not_regular), std::string::npos)
      << report.dump();
  EXPECT_EQ(code, 0) << "four rules ran and found nothing";
  std::filesystem::remove_all(root);
}

TEST_F(DoctorNamespace, BadUsageIsExitThree) {
  auto r = testing::run_process({SSFAST_CLI_PATH, "doctor", "--interval", "0"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err,
            "ssfast: option '--interval': '0' is not a number of seconds (0 < S <= 60) (see "
            "ssfast help doctor)\n");
  r = testing::run_process({SSFAST_CLI_PATH, "doctor", "-t"});
  EXPECT_EQ(r.exit_code, 3);
  r = testing::run_process({SSFAST_CLI_PATH, "doctor", "--netns", "/nonexistent"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err,
            "ssfast: cannot enter network namespace /nonexistent: No such file or directory\n");
  r = testing::run_process({SSFAST_CLI_PATH, "states", "-j"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(json::parse(r.out).size(), 11u);
}

// A sample for the history (ssfast record): the namespace's counts, counters, sysctls and
// boot id, and its fullest listeners: a backed-up accept queue first; half-open counts only
// when there are request sockets to count (the walk that finds them is skipped otherwise).
TEST_F(DoctorNamespace, AHistorySampleHoldsTheNamespaceAndItsFullestListeners) {
  listener(830, 64);
  listener(831, 4);
  for (int i = 0; i < 5; ++i) client(831);  // 5 waiting on a backlog of 4: over full
  ASSERT_EQ(count_state(tcp_state::established, 10), 10u);
  auto c = collector::open();
  ASSERT_TRUE(c);
  history_sample s;
  s.netns = 42;
  ASSERT_FALSE(take_history_sample(*c, 5, "/proc", s));
  EXPECT_EQ(s.netns, 42u) << "the caller's";
  socket_summary now;
  count_scope all;
  all.tcp = all.udp = all.unix_domain = true;
  ASSERT_FALSE(c->count(now, all));
  EXPECT_EQ(s.tcp, now.tcp);
  EXPECT_EQ(s.tcp[0][static_cast<std::size_t>(tcp_state::listen)], 2u);
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  EXPECT_NEAR(static_cast<double>(s.time_ms),
              static_cast<double>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count()),
              60'000);
  std::ifstream boot("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(boot, id);
  char hex[3];
  std::snprintf(hex, sizeof hex, "%02x", s.boot_id[0]);
  EXPECT_EQ(id.substr(0, 2), hex);
  EXPECT_TRUE(s.counters[static_cast<std::size_t>(counter_id::tcp_active_opens)]);
  EXPECT_GE(*s.counters[static_cast<std::size_t>(counter_id::tcp_active_opens)], 5);
  EXPECT_TRUE(s.levels.tcp_inuse);
  bool somaxconn = false;
  for (const auto& [name, value] : s.sysctls) somaxconn |= name == "net.core.somaxconn";
  EXPECT_TRUE(somaxconn);
  ASSERT_EQ(s.listeners.size(), 2u);
  EXPECT_EQ(s.listeners[0].port, 831);
  EXPECT_EQ(s.listeners[0].accept_queue, 5u);
  EXPECT_EQ(s.listeners[0].backlog, 4u);
  EXPECT_FALSE(s.listeners[0].syn_recv) << "no SYN_RECV anywhere: not walked for";
  EXPECT_EQ(s.listeners[1].port, 830);
  const std::array<std::uint8_t, 4> loopback = {127, 0, 0, 1};
  EXPECT_TRUE(std::equal(loopback.begin(), loopback.end(), s.listeners[0].address.begin()));

  // Half-open handshakes (TCP_DEFER_ACCEPT holds them): now each listener's count is known.
  listener(832, 16, /*defer_accept_s=*/60);
  for (int i = 0; i < 3; ++i) client(832);
  ASSERT_EQ(count_state(tcp_state::syn_recv, 3), 3u);
  ASSERT_FALSE(take_history_sample(*c, 1, "/proc", s));
  ASSERT_EQ(s.listeners.size(), 1u) << "at most as many as asked";
  EXPECT_EQ(s.listeners[0].port, 831);
  EXPECT_EQ(s.listeners[0].syn_recv, 0u);
  ASSERT_FALSE(take_history_sample(*c, 5, "/proc", s));
  ASSERT_EQ(s.listeners.size(), 3u);
  EXPECT_EQ(s.listeners[1].port, 832) << "half-open breaks the tie of two empty queues";
  EXPECT_EQ(s.listeners[1].syn_recv, 3u);
  // What a record keeps of the sysctls gives the doctor its sysctls back.
  doctor_sysctls direct;
  std::map<std::string, std::string> unreadable;
  read_doctor_sysctls(*c, direct, unreadable);
  const doctor_sysctls kept = doctor_sysctls_of(s.sysctls);
  EXPECT_EQ(kept.somaxconn, direct.somaxconn);
  EXPECT_EQ(kept.ip_local_port_range, direct.ip_local_port_range);
  EXPECT_EQ(kept.tcp_syncookies, direct.tcp_syncookies);
  EXPECT_FALSE(kept.tcp_mem) << "global: not in this namespace";
}

// ssfast record in a namespace with a CLOSE_WAIT leak: three samples a second apart in today's
// file, read back as the sockets were (the leak, the listener), the first a keyframe, the next
// with their interval and changes; the unfinished record a killed recorder left is cut off,
// and said.
TEST_F(DoctorNamespace, RecordAppendsSamplesToTodaysFile) {
  ASSERT_NO_FATAL_FAILURE(close_wait_leak(840, 20));
  const testing::scratch_dir dir("ssfast-record");
  ASSERT_TRUE(dir.made());
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const std::string file = dir.path() + "/" + history_file_name(now_ms);
  std::ofstream(file, std::ios::binary) << std::string("SSR1\x40\x00", 6);  // a killed writer's
  const auto r = testing::run_process(
      {SSFAST_CLI_PATH, "record", "--dir", dir.path(), "--interval", "1", "--count", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err,
            "ssfast: record: cut 6 bytes of an unfinished record from the end of " + file + "\n");
  std::ifstream in(file, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), {});
  history_decoder d(std::as_bytes(std::span(data.data(), data.size())));
  std::vector<history_record> got;
  history_record rec;
  for (history_read_status st; (st = d.next(rec)) != history_read_status::end;) {
    ASSERT_EQ(st, history_read_status::record);
    got.push_back(rec);
  }
  ASSERT_EQ(got.size(), 3u);
  struct stat ns {};
  ASSERT_EQ(::stat("/proc/thread-self/ns/net", &ns), 0);
  for (std::size_t i = 0; i < got.size(); ++i) {
    const history_sample& s = got[i].sample;
    EXPECT_EQ(got[i].keyframe, i == 0);
    EXPECT_EQ(s.netns, static_cast<std::uint64_t>(ns.st_ino));
    EXPECT_EQ(s.tcp[0][static_cast<std::size_t>(tcp_state::close_wait)], 20u);
    EXPECT_EQ(s.tcp[0][static_cast<std::size_t>(tcp_state::listen)], 1u);
    ASSERT_EQ(s.listeners.size(), 1u);
    EXPECT_EQ(s.listeners[0].port, 840);
    EXPECT_TRUE(got[i].sysctls_known);
    if (i == 0) continue;
    EXPECT_NEAR(static_cast<double>(got[i].delta_ms), 1000, 500) << i;
    EXPECT_EQ(got[i].delta[static_cast<std::size_t>(counter_id::tcp_active_opens)], 0)
        << "nothing connected between the samples";
  }
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);

  // ssfast history reads them back: a line per sample with the leak, Min/Average/Max; CSV;
  // JSON Lines shaped as -s -j; a record cut at the end is said, the rest still read.
  std::ofstream(file, std::ios::binary | std::ios::app) << std::string("SSR1\x40", 5);
  const auto table =
      testing::run_process({SSFAST_CLI_PATH, "history", "--dir", dir.path(), "--since", "-1h",
                            "close-wait"});  // not today's: the test may run over midnight
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.err, "ssfast: history: " + file + ": read up to byte " +
                           std::to_string(data.size()) +
                           ", where a record the recorder never finished begins\n");
  std::istringstream lines(table.out);
  std::vector<std::string> got_lines;
  for (std::string line; std::getline(lines, line);) got_lines.push_back(line);
  ASSERT_EQ(got_lines.size(), 7u) << table.out;  // header, 3 samples, Min, Average, Max
  EXPECT_TRUE(got_lines[0].starts_with("TIME     CLOSE_WAIT     UDP    UNIX active/s"))
      << table.out;
  for (std::size_t i = 1; i <= 3; ++i)
    EXPECT_NE(got_lines[i].find(":"), std::string::npos) << got_lines[i];
  EXPECT_TRUE(got_lines[4].starts_with("Min              20")) << got_lines[4];
  EXPECT_TRUE(got_lines[5].starts_with("Average       20.00")) << got_lines[5];
  EXPECT_TRUE(got_lines[6].starts_with("Max              20")) << got_lines[6];
  const auto csv = testing::run_process(
      {SSFAST_CLI_PATH, "history", "-f", file, "--format", "csv", "listen", "close-wait"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_TRUE(
      csv.out.starts_with("time,LISTEN,CLOSE_WAIT,UDP,UNIX,active/s,passive/s,fails/s,"
                          "resets/s,retrans/s,ovflow/s,ldrops/s\r\n"))
      << csv.out;
  EXPECT_NE(csv.out.find("Z,1,20,"), std::string::npos) << csv.out;
  const auto j = testing::run_process({SSFAST_CLI_PATH, "history", "-f", file, "-j"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  std::istringstream jl(j.out);
  int objects = 0;
  for (std::string line; std::getline(jl, line); ++objects) {
    const json o = json::parse(line);
    EXPECT_EQ(o["tcp"]["states"]["CLOSE_WAIT"], 20);
    EXPECT_EQ(o["listeners"][0]["address"], "127.0.0.1:840");
    EXPECT_EQ(o["interval_s"].is_null(), objects == 0);
    EXPECT_EQ(o["rates"]["Tcp.ActiveOpens"].is_null(), objects == 0);
  }
  EXPECT_EQ(objects, 3);
  const auto none = testing::run_process({SSFAST_CLI_PATH, "history", "--dir", dir.path(),
                                          "--since", "2020-01-01", "--until", "2020-01-02"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no samples in "), std::string::npos) << none.err;

  // On a terminal (script(1) gives it one): the doctor's flags column, a sparkline per column,
  // and what the rules could not judge on recorded counts.
  const auto tty = testing::run_process(
      {"script", "-qec", std::string(SSFAST_CLI_PATH) + " history -f " + file + " close-wait",
       "/dev/null"});
  ASSERT_EQ(tty.exit_code, 0) << tty.out << tty.err;
  EXPECT_NE(tty.out.find("UNIX active/s"), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("  FLAGS\r\n"), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("Oldest to newest:\r\nCLOSE_WAIT "), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("Flags: none of the doctor's rules fired on these samples."),
            std::string::npos)
      << tty.out;
  EXPECT_NE(tty.out.find("close_wait_leak (close_wait_persisting)"), std::string::npos) << tty.out;
}

// Every record of the day files in `dir`, in order; each file must read whole (nothing cut,
// nothing damaged).
std::vector<history_record> recorded(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());  // day files: in time order (a run over midnight)
  std::vector<history_record> out;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), {});
    history_decoder d(std::as_bytes(std::span(data.data(), data.size())));
    history_record r;
    for (history_read_status st; (st = d.next(r)) != history_read_status::end;) {
      // A record being written as this reads may be cut at the end: the next read has it.
      if (st == history_read_status::cut) break;
      EXPECT_EQ(st, history_read_status::record) << file << " at byte " << d.last_start();
      out.push_back(r);
    }
  }
  return out;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Record and replay: ssfast record at 1 s while a scenario unfolds in this namespace (a
// CLOSE_WAIT leak growing in three steps, then a TIME_WAIT burst in two). Each step is taken
// once a sample is in the file, and the library counts the namespace when it has settled; the
// next step waits for a sample taken after that, by the sample's own time. `ssfast history -j`
// must then show, for every sample, exactly the counts of the last step before it, and as
// rates exactly the connections opened between two samples.
TEST_F(DoctorNamespace, RecordAndReplayACloseWaitLeakThenATimeWaitBurst) {
  const int l = listener(850, 512);
  const testing::scratch_dir dir("ssfast-replay");
  ASSERT_TRUE(dir.made());
  auto c = collector::open();
  ASSERT_TRUE(c);
  count_scope all;
  all.tcp = all.udp = all.unix_domain = true;
  struct step {
    std::int64_t began_ms, settled_ms;
    socket_summary counts;
    int connects;
  };
  std::vector<step> steps;
  steps.push_back({0, now_ms(), {}, 0});
  ASSERT_FALSE(c->count(steps.back().counts, all));
  testing::background_process rec(
      {SSFAST_CLI_PATH, "record", "--dir", dir.path(), "--interval", "1"});
  // Bounded: a sample a second, so 30 s is many missed.
  auto wait_for_sample_after = [&](std::int64_t t) {
    const auto end = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < end) {
      const auto got = recorded(dir.path());
      if (!got.empty() && got.back().sample.time_ms > t) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  };
  // Waits until the namespace holds `want` in CLOSE_WAIT and TIME_WAIT and nothing is closing
  // (the handshakes of a close finish on their own, off this thread), then counts it.
  auto settle = [&](std::uint64_t close_wait, std::uint64_t time_wait, int connects,
                    std::int64_t began) {
    socket_summary sum;
    const auto end = std::chrono::steady_clock::now() + 30s;
    do {
      ASSERT_FALSE(c->count(sum, all));
      const state_counts h = sum.tcp_histogram();
      if (h.netstat_count(tcp_state::close_wait) == close_wait &&
          h.netstat_count(tcp_state::time_wait) == time_wait &&
          h.netstat_count(tcp_state::last_ack) == 0 && h.netstat_count(tcp_state::fin_wait1) == 0)
        break;
      std::this_thread::sleep_for(10ms);
    } while (std::chrono::steady_clock::now() < end);
    steps.push_back({began, now_ms(), sum, connects});
  };
  ASSERT_TRUE(wait_for_sample_after(steps.back().settled_ms)) << rec.stderr_text();
  for (int k = 1; k <= 3; ++k) {  // the leak: 10 more each step
    const std::int64_t began = now_ms();
    for (int i = 0; i < 10; ++i) {
      const int client_fd = client(850);
      accept_one(l);
      fds_.close_one(client_fd);
    }
    ASSERT_NO_FATAL_FAILURE(settle(10u * static_cast<unsigned>(k), 0, 10, began));
    ASSERT_TRUE(wait_for_sample_after(steps.back().settled_ms)) << rec.stderr_text();
  }
  for (int k = 1; k <= 2; ++k) {  // the burst: 100 more TIME_WAIT each step
    const std::int64_t began = now_ms();
    ASSERT_NO_FATAL_FAILURE(time_wait_pairs(l, 850, 100));
    ASSERT_NO_FATAL_FAILURE(settle(30, 100u * static_cast<unsigned>(k), 100, began));
    ASSERT_TRUE(wait_for_sample_after(steps.back().settled_ms)) << rec.stderr_text();
  }
  ASSERT_TRUE(wait_for_sample_after(now_ms())) << "one more, after everything";
  rec.stop();
  EXPECT_EQ(rec.stderr_text(), "");
  const std::vector<history_record> got = recorded(dir.path());
  ASSERT_GE(got.size(), 7u);

  // What each sample must show: the counts of the last step settled before it began. A sample
  // taken while a step ran (it began after the step did, before it settled) is between the two.
  std::vector<std::string> argv = {SSFAST_CLI_PATH, "history", "-j", "--dir",
                                   dir.path(),      "--since", "-1h"};
  const auto r = testing::run_process(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  std::istringstream lines(r.out);
  std::vector<json> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(json::parse(line));
  ASSERT_EQ(rows.size(), got.size()) << "a row per recorded sample";
  std::size_t exact = 0, during = 0;
  std::set<std::size_t> steps_seen;
  for (std::size_t j = 0; j < got.size(); ++j) {
    const std::int64_t t = got[j].sample.time_ms;
    std::size_t last = 0;
    for (std::size_t k = 0; k < steps.size(); ++k)
      if (steps[k].settled_ms < t) last = k;
    const json& row = rows[j];
    EXPECT_EQ(row["time"], iso_utc(t));
    const bool in_step = last + 1 < steps.size() && steps[last + 1].began_ms <= t;
    const state_counts want = steps[last].counts.tcp_histogram();
    if (in_step) {  // between the step's before and after, never outside
      ++during;
      const state_counts after = steps[last + 1].counts.tcp_histogram();
      for (tcp_state st : {tcp_state::close_wait, tcp_state::time_wait}) {
        EXPECT_GE(row["tcp"]["states"][std::string(netstat_name(static_cast<std::uint8_t>(st)))],
                  want.netstat_count(st));
        EXPECT_LE(row["tcp"]["states"][std::string(netstat_name(static_cast<std::uint8_t>(st)))],
                  after.netstat_count(st));
      }
      continue;
    }
    ++exact;
    steps_seen.insert(last);
    for (std::uint8_t st = 1; st <= 11; ++st)
      EXPECT_EQ(row["tcp"]["states"][std::string(netstat_name(st))],
                want.netstat_count(static_cast<tcp_state>(st)))
          << "sample " << j << " (after step " << last << "): " << netstat_name(st);
    EXPECT_EQ(row["tcp"]["total"], want.total()) << j;
    EXPECT_EQ(row["udp"]["total"],
              steps[last].counts.udp[0].total() + steps[last].counts.udp[1].total());
    EXPECT_EQ(row["unix"]["total"], steps[last].counts.unix_domain.total());
    if (j == 0) {
      EXPECT_TRUE(row["rates"]["Tcp.ActiveOpens"].is_null());
      continue;
    }
    // Connections opened between the previous sample and this one, if it was exact too.
    int opened = 0;
    for (std::size_t k = 1; k < steps.size(); ++k)
      if (steps[k].began_ms >= got[j - 1].sample.time_ms && steps[k].settled_ms < t)
        opened += steps[k].connects;
    const double interval = row["interval_s"].get<double>();
    EXPECT_NEAR(interval, static_cast<double>(t - got[j - 1].sample.time_ms) / 1000.0, 0.0011);
    const bool previous_in_step = std::any_of(steps.begin(), steps.end(), [&](const step& s) {
      return s.began_ms <= got[j - 1].sample.time_ms && got[j - 1].sample.time_ms <= s.settled_ms;
    });
    if (!previous_in_step) {
      EXPECT_EQ(std::lround(row["rates"]["Tcp.ActiveOpens"].get<double>() * interval), opened)
          << "sample " << j;
    }
  }
  // Every step's outcome is seen exactly by at least one sample (each step waits for one).
  EXPECT_EQ(steps_seen.size(), steps.size()) << exact << " exact, " << during << " during a step";
}

// The recorder killed with SIGKILL at moments of no one's choosing, three times, restarted each
// time: every sample written before each kill reads back, in order, and history reads the
// whole file without a complaint (a cut a kill left would be cut back by the next recorder and
// said; a write this small is not split by a signal, so none is expected).
TEST_F(DoctorNamespace, RecordKilledAnyTimeLosesNoWrittenSample) {
  ASSERT_NO_FATAL_FAILURE(close_wait_leak(870, 5));
  const testing::scratch_dir dir("ssfast-kill");
  ASSERT_TRUE(dir.made());
  std::size_t before = 0;
  for (int round = 0; round < 3; ++round) {
    testing::background_process rec(
        {SSFAST_CLI_PATH, "record", "--dir", dir.path(), "--interval", "1"});
    const auto end = std::chrono::steady_clock::now() + 30s;
    while (recorded(dir.path()).size() < before + 2 && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(20ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(137 + 311 * round));  // anywhere
    ASSERT_EQ(::kill(rec.pid(), SIGKILL), 0);
    EXPECT_EQ(rec.wait_exit(), -1) << "killed";
    const std::string said = rec.stderr_text();
    EXPECT_TRUE(said.empty() || said.find("record: cut ") != std::string::npos) << said;
    const auto got = recorded(dir.path());
    ASSERT_GE(got.size(), before + 2) << "round " << round;
    EXPECT_TRUE(got[before].keyframe) << "each run starts with a keyframe";
    for (std::size_t i = 1; i < got.size(); ++i)
      EXPECT_LT(got[i - 1].sample.time_ms, got[i].sample.time_ms);
    for (const history_record& r : got)
      EXPECT_EQ(r.sample.tcp[0][static_cast<std::size_t>(tcp_state::close_wait)], 5u);
    before = got.size();
  }
  const auto r = testing::run_process(
      {SSFAST_CLI_PATH, "history", "-j", "--dir", dir.path(), "--since", "-1h"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(static_cast<std::size_t>(std::count(r.out.begin(), r.out.end(), '\n')), before);
}

// A full disk, a real one: a tmpfs with one page left (in a mount namespace of its own, gone
// with it), samples of 100 listeners each, so a few fill it. The samples that fit read back
// whole; the record that did not fit is undone, not left half-written; the loss is said once;
// history reads the file to its end and says nothing; freed room is used again.
TEST_F(DoctorNamespace, RecordOnAFullTmpfsKeepsWhatFits) {
  if (testing::run_process({"unshare", "-m", "true"}).exit_code != 0)
    GTEST_SKIP() << "no mount namespace here";
  for (std::uint16_t i = 0; i < 100; ++i) listener(static_cast<std::uint16_t>(900 + i), 16);
  const testing::scratch_dir out("ssfast-full");
  ASSERT_TRUE(out.made());
  const std::string mnt = out / "mnt";
  ASSERT_EQ(::mkdir(mnt.c_str(), 0755), 0);
  // In the mount namespace: a tmpfs of two pages, one taken by a filler; six samples; the day
  // file copied out; history run on it there; then room made and one sample more.
  const auto r = testing::run_process({"unshare", "-m", "--propagation", "private", "bash", "-c",
                                       R"(set -u; m=$1; x=$2; o=$3
          mount -t tmpfs -o size=8k,mode=0755 ssfast-test "$m" || exit 90
          head -c 4096 /dev/zero >"$m/filler"
          "$x" record --dir "$m" --interval 1 --count 6 --max-listeners 100 2>"$o/record.err"
          echo $? >"$o/record.rc"
          cp "$m"/*.ssr "$o/full.ssr"
          "$x" history -j -f "$m"/*.ssr >"$o/history.out" 2>"$o/history.err"
          echo $? >"$o/history.rc"
          rm "$m/filler"
          "$x" record --dir "$m" --interval 1 --count 1 --max-listeners 100 2>>"$o/record.err"
          cp "$m"/*.ssr "$o/after.ssr")",
                                       "_", mnt, SSFAST_CLI_PATH, out.path()});
  if (r.exit_code == 90) GTEST_SKIP() << "cannot mount a tmpfs here: " << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto text = [&](const char* name) {
    std::ifstream in(out / name, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  EXPECT_EQ(text("record.rc"), "0\n");
  const std::string err = text("record.err");
  EXPECT_TRUE(err.starts_with("ssfast: record: sample lost: " + mnt + "/")) << err;
  EXPECT_NE(err.find(".ssr: No space left on device\n"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << "said once: " << err;
  std::filesystem::rename(out / "full.ssr", mnt + "/2000-01-01.ssr");
  const auto full = recorded(mnt);
  std::filesystem::remove(mnt + "/2000-01-01.ssr");
  ASSERT_GE(full.size(), 1u);
  EXPECT_LT(full.size(), 6u) << "the tmpfs was never full";
  for (const history_record& rec : full) {
    EXPECT_EQ(rec.sample.listeners.size(), 100u);
    EXPECT_EQ(rec.sample.tcp[0][static_cast<std::size_t>(tcp_state::listen)], 100u);
  }
  EXPECT_EQ(text("history.rc"), "0\n");
  EXPECT_EQ(text("history.err"), "");
  const std::string rows = text("history.out");
  EXPECT_EQ(static_cast<std::size_t>(std::count(rows.begin(), rows.end(), '\n')), full.size());
  // Room again: the next sample is appended after the others, a keyframe of its own.
  std::filesystem::rename(out / "after.ssr", mnt + "/2000-01-01.ssr");
  const auto after = recorded(mnt);
  ASSERT_EQ(after.size(), full.size() + 1);
  EXPECT_TRUE(after.back().keyframe);
}

}  // namespace
}  // namespace ssfast
