// SPDX-License-Identifier: Apache-2.0
// The doctor's rules on synthetic evidence: each finding at its thresholds, its evidence and
// advice, silence on a quiet host, and never tcp_tw_recycle as advice.
#include "ssfast/doctor/doctor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ssfast/doctor/states.h"

namespace ssfast {
namespace {

// A listener row as gather_doctor_evidence() fills it: one listener (no SO_REUSEPORT
// sibling), its SYN queue's backlog its own.
listener_evidence listening(std::string address, std::uint16_t port, std::uint32_t accept_queue,
                            std::uint32_t backlog, std::uint64_t syn_recv = 0,
                            std::string processes = "") {
  listener_evidence l;
  l.address = std::move(address);
  l.port = port;
  l.accept_queue = accept_queue;
  l.backlog = backlog;
  l.syn_recv = syn_recv;
  l.syn_backlog = backlog;
  l.processes = std::move(processes);
  return l;
}

doctor_evidence quiet() {
  doctor_evidence e;
  e.interval_s = 1;
  e.sockets.tcp[0][static_cast<int>(tcp_state::established)] = 500;
  e.sockets.tcp[0][static_cast<int>(tcp_state::time_wait)] = 40;
  e.sockets.tcp[0][static_cast<int>(tcp_state::listen)] = 3;
  auto& s = e.sysctls;
  s.tcp_max_tw_buckets = 262144;
  s.tcp_fin_timeout = 60;
  s.tcp_tw_reuse = 2;
  s.tcp_syncookies = 1;
  s.tcp_max_syn_backlog = 1024;
  s.tcp_max_orphans = 131072;
  s.tcp_synack_retries = 5;
  s.somaxconn = 4096;
  s.tcp_mem = {{188964, 251954, 377928}};
  s.ip_local_port_range = {{32768, 60999}};
  for (auto* m : {&e.counters_before, &e.counters_after}) {
    (*m)["TCP.tw"] = 40;
    (*m)["TCP.orphan"] = 0;
    (*m)["TCP.mem"] = 300;
    (*m)["Tcp.OutSegs"] = 1000000;
    (*m)["Tcp.RetransSegs"] = 100;
    (*m)["TcpExt.ListenOverflows"] = 7;
    (*m)["TcpExt.ListenDrops"] = 7;
    (*m)["TcpExt.SyncookiesSent"] = 0;
    (*m)["TcpExt.TCPTimeWaitOverflow"] = 0;
  }
  e.counters_after["Tcp.OutSegs"] += 20000;
  e.counters_after["Tcp.RetransSegs"] += 20;  // 0.1%
  e.listeners = {listening("0.0.0.0:443", 443, 0, 4096, 2, ""),
                 listening("[::]:443", 443, 1, 4096, 2, "")};
  e.ephemeral_groups = {{"10.0.0.1 -> 10.0.0.2:5432", 40}};
  return e;
}

const finding* find(const std::vector<finding>& f, std::string_view id) {
  for (const finding& x : f)
    if (x.id == id) return &x;
  return nullptr;
}

std::string evidence(const finding& f, std::string_view key) {
  for (const auto& [k, v] : f.evidence)
    if (k == key) return to_text(v);
  return "(absent)";
}

TEST(Doctor, QuietHostHasNoFindings) {
  const auto f = diagnose(quiet());
  EXPECT_TRUE(f.empty()) << f.front().id << ": " << f.front().summary;
  EXPECT_EQ(doctor_exit_code(f), 0);
}

TEST(Doctor, TimeWaitBuckets) {
  auto e = quiet();
  e.sysctls.tcp_max_tw_buckets = 1000;
  e.counters_after["TCP.tw"] = 799;
  EXPECT_EQ(find(diagnose(e), "time_wait_buckets"), nullptr) << "79.9%";
  e.counters_after["TCP.tw"] = 800;
  auto f = diagnose(e);
  ASSERT_NE(find(f, "time_wait_buckets"), nullptr);
  EXPECT_EQ(find(f, "time_wait_buckets")->level, severity::warning);
  EXPECT_EQ(doctor_exit_code(f), 1);
  e.counters_after["TCP.tw"] = 950;
  f = diagnose(e);
  EXPECT_EQ(find(f, "time_wait_buckets")->level, severity::critical);
  EXPECT_EQ(doctor_exit_code(f), 2);
  // Below the share, but the kernel overflowed during the interval: critical.
  e.counters_after["TCP.tw"] = 100;
  e.counters_after["TcpExt.TCPTimeWaitOverflow"] = 25;
  f = diagnose(e);
  const finding* x = find(f, "time_wait_buckets");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->level, severity::critical);
  EXPECT_EQ(evidence(*x, "TCPTimeWaitOverflow"), "25");
  EXPECT_EQ(evidence(*x, "tcp_max_tw_buckets"), "1000");
  EXPECT_NE(x->advice.front().find("sysctl -w net.ipv4.tcp_max_tw_buckets=2000   # now 1000"),
            std::string::npos)
      << x->advice.front();
}

TEST(Doctor, EphemeralPorts) {
  auto e = quiet();
  e.sysctls.ip_local_port_range = {{40000, 40099}};  // 100 ports
  e.ephemeral_groups = {{"10.0.0.1 -> 10.0.0.2:5432", 49}, {"10.0.0.1 -> 10.0.0.3:80", 10}};
  EXPECT_EQ(find(diagnose(e), "ephemeral_ports"), nullptr);
  e.ephemeral_groups[0].count = 50;
  auto f = diagnose(e);
  const finding* x = find(f, "ephemeral_ports");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->level, severity::warning);
  EXPECT_EQ(evidence(*x, "busiest"), "10.0.0.1 -> 10.0.0.2:5432");
  EXPECT_EQ(evidence(*x, "ports"), "100");
  EXPECT_EQ(evidence(*x, "groups"), "10.0.0.1 -> 10.0.0.2:5432 (50), 10.0.0.1 -> 10.0.0.3:80 (10)");
  ASSERT_GE(x->advice.size(), 3u);
  EXPECT_TRUE(x->advice[0].starts_with("sysctl -w net.ipv4.tcp_tw_reuse=1   # now 2"))
      << x->advice[0];
  EXPECT_TRUE(x->advice[1].starts_with(
      "sysctl -w net.ipv4.ip_local_port_range=\"10000 65535\"   # now \"40000 40099\""))
      << x->advice[1];
  e.ephemeral_groups[0].count = 90;
  e.sysctls.tcp_tw_reuse = 1;  // already on: not advised again
  f = diagnose(e);
  x = find(f, "ephemeral_ports");
  EXPECT_EQ(x->level, severity::critical);
  for (const auto& a : x->advice) EXPECT_EQ(a.find("tcp_tw_reuse="), std::string::npos) << a;
}

TEST(Doctor, SynFlood) {
  auto e = quiet();
  e.listeners = {listening("0.0.0.0:80", 80, 0, 128, 60), listening("[::]:8080", 8080, 0, 16, 1)};
  e.sockets.tcp[0][static_cast<int>(tcp_state::syn_recv)] = 61;
  EXPECT_EQ(find(diagnose(e), "syn_flood"), nullptr) << "60 of 128";
  e.listeners[0].syn_recv = 64;
  e.listeners[0].syn_sources = {{"203.0.113.7", 50}, {"198.51.100.1", 14}};
  e.syn_recv_sources = {{"10.99.0.99", 900}};  // the namespace's: never this listener's
  auto f = diagnose(e);
  const finding* x = find(f, "syn_flood");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->level, severity::warning);
  EXPECT_EQ(x->subject, "0.0.0.0:80");
  EXPECT_EQ(x->summary, "listener 0.0.0.0:80: 64 of 128 SYN-queue slots half-open (50.0%)");
  EXPECT_EQ(evidence(*x, "top_sources"), "203.0.113.7 (50), 198.51.100.1 (14)");
  EXPECT_EQ(evidence(*x, "syn_limit_by"), "backlog");
  bool filter_advice = false;
  for (const auto& a : x->advice) filter_advice |= a.find("from 203.0.113.7") != std::string::npos;
  EXPECT_TRUE(filter_advice);
  // Cookies sent during the interval with no listener at its limit any more: the namespace's
  // queue overflowed; critical whatever the fill.
  e.listeners[0].syn_recv = 3;
  e.counters_after["TcpExt.SyncookiesSent"] = 500;
  f = diagnose(e);
  x = find(f, "syn_flood");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->level, severity::critical);
  EXPECT_EQ(x->subject, "");
  EXPECT_EQ(evidence(*x, "SyncookiesSent_per_s"), "500.0/s");
  EXPECT_EQ(evidence(*x, "SyncookiesSent"), "500") << "the counter, apart from its rate";
  // A tiny backlog with one half-open connection is not a flood.
  e = quiet();
  e.listeners = {listening("127.0.0.1:9", 9, 0, 1, 1)};
  EXPECT_EQ(find(diagnose(e), "syn_flood"), nullptr);
  // From /proc (no backlogs): only many SYN_RECV, or the counters.
  e.backlog_known = false;
  e.sockets.tcp[0][static_cast<int>(tcp_state::syn_recv)] = 1024;
  EXPECT_NE(find(diagnose(e), "syn_flood"), nullptr);
}

// The limit as tcp_conn_request() applies it, for each tcp_syncookies mode.
TEST(Doctor, SynQueueLimitFollowsTheKernel) {
  doctor_sysctls s;
  s.tcp_max_syn_backlog = 2048;
  s.tcp_syncookies = 1;  // the backlog alone; tcp_max_syn_backlog plays no part
  auto l = syn_queue_limit_of(4096, 1, s);
  EXPECT_EQ(l.slots, 4096u);
  EXPECT_EQ(l.by, syn_limit_kind::backlog);
  s.tcp_syncookies = 0;  // 3/4 of 2048 binds below a backlog of 4096
  l = syn_queue_limit_of(4096, 1, s);
  EXPECT_EQ(l.slots, 1536u);
  EXPECT_EQ(l.by, syn_limit_kind::max_syn_backlog);
  l = syn_queue_limit_of(1024, 1, s);  // the backlog is the lower
  EXPECT_EQ(l.slots, 1024u);
  EXPECT_EQ(l.by, syn_limit_kind::backlog);
  l = syn_queue_limit_of(8192, 2, s);  // two SO_REUSEPORT listeners of 4096 queue apart
  EXPECT_EQ(l.slots, 3072u);
  s.tcp_max_syn_backlog = 64;
  l = syn_queue_limit_of(64, 1, s);
  EXPECT_EQ(l.slots, 48u);
  EXPECT_EQ(l.by, syn_limit_kind::max_syn_backlog);
  s.tcp_syncookies = 2;  // no request socket is ever queued
  l = syn_queue_limit_of(4096, 1, s);
  EXPECT_EQ(l.slots, 0u);
  EXPECT_EQ(l.by, syn_limit_kind::cookies_always);
  s.tcp_syncookies.reset();  // unread: the kernel's default, 1
  EXPECT_EQ(syn_queue_limit_of(100, 1, s).by, syn_limit_kind::backlog);
}

// With cookies off, 3/4 of tcp_max_syn_backlog binds: 1537 half-open on listen(4096) with
// tcp_max_syn_backlog 2048 is at the limit (1536, one more on either side of 6.13's change),
// and the advice moves tcp_max_syn_backlog, not the backlog.
TEST(Doctor, SynFloodAtThreeQuartersOfMaxSynBacklog) {
  auto e = quiet();
  e.sysctls.tcp_syncookies = 0;
  e.sysctls.tcp_max_syn_backlog = 2048;
  e.listeners = {listening("0.0.0.0:80", 80, 0, 4096, 1537)};
  e.listeners[0].drops_known = true;
  e.listeners[0].address_drops_delta = 1570;
  e.counters_after["TcpExt.ListenDrops"] += 1570;
  const auto f = diagnose(e);
  const finding* x = find(f, "syn_flood");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->level, severity::critical);
  EXPECT_EQ(evidence(*x, "syn_limit"), "1536");
  EXPECT_EQ(evidence(*x, "syn_limit_by"), "tcp_max_syn_backlog");
  EXPECT_EQ(evidence(*x, "syn_drops_per_s"), "1570.0/s");
  EXPECT_NE(x->summary.find("at its SYN queue's limit of 1536 (3/4 of tcp_max_syn_backlog 2048"),
            std::string::npos)
      << x->summary;
  ASSERT_GE(x->advice.size(), 2u);
  EXPECT_TRUE(x->advice[0].starts_with("sysctl -w net.ipv4.tcp_syncookies=1   # now 0"));
  EXPECT_TRUE(x->advice[1].starts_with("sysctl -w net.ipv4.tcp_max_syn_backlog=5462   # now 2048"))
      << x->advice[1];
  for (const auto& a : x->advice) EXPECT_EQ(a.find("passes to listen()"), std::string::npos) << a;
  // One short of the limit counts as at it (a kernel before 6.13's `>`).
  e.listeners[0].syn_recv = 1535;
  const auto again = diagnose(e);
  x = find(again, "syn_flood");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->level, severity::critical);
  // listen(64) with tcp_max_syn_backlog 64: 49 of a limit of 48, not "49 of 64".
  e.sysctls.tcp_max_syn_backlog = 64;
  e.listeners = {listening("0.0.0.0:80", 80, 0, 64, 49)};
  const auto third = diagnose(e);
  x = find(third, "syn_flood");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(evidence(*x, "syn_limit"), "48");
  EXPECT_EQ(x->level, severity::critical);
}

// A backlog capped by somaxconn: the advice raises somaxconn and says it takes a new listen().
TEST(Doctor, SynFloodOnABacklogCappedBySomaxconn) {
  auto e = quiet();
  e.sysctls.somaxconn = 128;
  e.listeners = {listening("0.0.0.0:80", 80, 0, 128, 127)};
  const auto all = diagnose(e);
  const finding* x = find(all, "syn_flood");
  ASSERT_NE(x, nullptr);
  bool somaxconn = false;
  for (const auto& a : x->advice)
    somaxconn |= a.starts_with("sysctl -w net.core.somaxconn=4096   # now 128: it caps") &&
                 a.find("until the service listens again") != std::string::npos;
  EXPECT_TRUE(somaxconn) << testing::PrintToString(x->advice);
}

// tcp_syncookies=2 keeps no request socket: a flood is cookies nobody returns.
TEST(Doctor, SynFloodWithCookiesAlways) {
  auto e = quiet();
  e.sysctls.tcp_syncookies = 2;
  e.counters_after["TcpExt.SyncookiesSent"] = 5000;  // 5000/s over 1 s
  e.counters_before["TcpExt.SyncookiesRecv"] = 0;
  e.counters_after["TcpExt.SyncookiesRecv"] = 4990;  // every client came back: traffic
  EXPECT_EQ(find(diagnose(e), "syn_flood"), nullptr);
  e.counters_after["TcpExt.SyncookiesRecv"] = 40;
  const auto all = diagnose(e);
  const finding* x = find(all, "syn_flood");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->level, severity::warning) << "answered without state: handled";
  EXPECT_EQ(evidence(*x, "SyncookiesUnanswered_per_s"), "4960.0/s");
}

// Two listeners flooded from different sources: a finding each, with its own sources.
TEST(Doctor, EachFloodedListenerIsItsOwnFinding) {
  auto e = quiet();
  e.listeners = {listening("127.0.0.1:80", 80, 0, 32, 31), listening("[::]:443", 443, 0, 64, 60),
                 listening("127.0.0.1:22", 22, 0, 128, 2)};
  e.listeners[0].syn_sources = {{"10.99.0.1", 31}};
  e.listeners[1].syn_sources = {{"10.99.0.78", 40}, {"10.99.0.79", 20}};
  e.syn_recv_sources = {{"10.99.0.78", 40}, {"10.99.0.1", 31}, {"10.99.0.79", 20}};
  const auto f = diagnose(e);
  std::vector<std::string> subjects;
  for (const finding& x : f)
    if (x.id == "syn_flood") {
      subjects.push_back(x.subject);
      const std::string sources = evidence(x, "top_sources");
      if (x.subject == "127.0.0.1:80") {
        EXPECT_EQ(sources, "10.99.0.1 (31)");
      } else {
        EXPECT_EQ(sources, "10.99.0.78 (40), 10.99.0.79 (20)");
      }
    }
  EXPECT_EQ(subjects, (std::vector<std::string>{"127.0.0.1:80", "[::]:443"}));
}

// SYN-ACK retransmissions to spoofed clients count in TCPSynRetrans and RetransSegs: they
// belong to the SYN flood, not to the path.
TEST(Doctor, SynAckRetransmissionsAreNotThePathsRetransmissions) {
  auto e = quiet();
  e.counters_after["Tcp.RetransSegs"] = e.counters_before["Tcp.RetransSegs"] + 3000;
  e.counters_before["TcpExt.TCPSynRetrans"] = 0;
  e.counters_after["TcpExt.TCPSynRetrans"] = 2980;
  e.synack_retrans = 5000;  // the request sockets' num_retrans
  e.syn_sent_retrans = 0;   // no connect of this host retransmits
  EXPECT_EQ(find(diagnose(e), "retransmits"), nullptr) << "20 of 20020 once SYN-ACKs are out";
  // Retransmitting connects: the same counters are this host's SYNs, and say so.
  e.synack_retrans = 0;
  e.syn_sent_retrans = 300;
  e.syn_sent = 100;
  const auto all = diagnose(e);
  const finding* x = find(all, "retransmits");
  ASSERT_NE(x, nullptr);
  bool syn_sent = false;
  for (const auto& a : x->advice) syn_sent |= a.find("state syn-sent") != std::string::npos;
  EXPECT_TRUE(syn_sent);
}

TEST(Doctor, AcceptQueue) {
  auto e = quiet();
  e.listeners = {listening("127.0.0.1:700", 700, 8, 10, 0, "app(42)")};
  EXPECT_EQ(find(diagnose(e), "accept_queue_full"), nullptr) << "80%";
  e.listeners[0].accept_queue = 9;
  auto f = diagnose(e);
  const finding* x = find(f, "accept_queue_full");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->level, severity::warning);
  EXPECT_EQ(evidence(*x, "process"), "app(42)");
  e.listeners[0].accept_queue = 11;  // over the backlog: the kernel's "full"
  f = diagnose(e);
  EXPECT_EQ(find(f, "accept_queue_full")->level, severity::critical);
  EXPECT_NE(find(f, "accept_queue_full")->summary.find("(full)"), std::string::npos);
  // Drained now, but it overflowed during the interval.
  e.listeners[0].accept_queue = 0;
  e.counters_after["TcpExt.ListenOverflows"] += 30;
  f = diagnose(e);
  x = find(f, "accept_queue_full");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->level, severity::critical);
  // The counter itself and its change are labelled as what they are.
  EXPECT_EQ(evidence(*x, "ListenOverflows_delta"), "30");
  EXPECT_EQ(evidence(*x, "ListenOverflows"),
            std::to_string(e.counters_after["TcpExt.ListenOverflows"]));
  // A backlog capped at somaxconn: raise somaxconn first.
  e.listeners[0] = listening("127.0.0.1:700", 700, 4097, 4096, 0, "");
  f = diagnose(e);
  bool somaxconn = false;
  for (const auto& a : find(f, "accept_queue_full")->advice)
    somaxconn |= a.starts_with("sysctl -w net.core.somaxconn=8192   # now 4096");
  EXPECT_TRUE(somaxconn);
  // /proc: no backlog, no judgement from Recv-Q alone.
  e.backlog_known = false;
  e.counters_after["TcpExt.ListenOverflows"] = e.counters_before["TcpExt.ListenOverflows"];
  EXPECT_EQ(find(diagnose(e), "accept_queue_full"), nullptr);
}

// Every listener past its backlog is named, fullest first, with its owner; a backlog of 0
// with one waiting is full.
TEST(Doctor, AcceptQueueNamesEveryFullListener) {
  auto e = quiet();
  e.listeners = {listening("127.0.0.1:8443", 8443, 5, 4, 0, "nginx(10)"),
                 listening("[::1]:8443", 8443, 3, 128, 0, "nginx(10)"),
                 listening("127.0.0.1:9000", 9000, 1, 0, 0, "api(11)"),
                 listening("127.0.0.1:9001", 9001, 10, 9, 0, ""),
                 listening("127.0.0.1:9002", 9002, 19, 20, 0, "")};
  // A finding each, fullest first: their queues are their own (the IPv6 sibling on 8443, at
  // 3 of 128, is not backed up).
  const auto f = diagnose(e);
  std::vector<std::string> subjects;
  for (const finding& x : f)
    if (x.id == "accept_queue_full") subjects.push_back(x.subject);
  EXPECT_EQ(subjects, (std::vector<std::string>{"127.0.0.1:9000", "127.0.0.1:8443",
                                                "127.0.0.1:9001", "127.0.0.1:9002"}));
  const finding* x = find(f, "accept_queue_full");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->level, severity::critical) << "backlog 0 with one waiting: full";
  EXPECT_EQ(evidence(*x, "listener"), "127.0.0.1:9000");
  EXPECT_EQ(evidence(*x, "process"), "api(11)");
  for (const finding& y : f) {
    if (y.subject == "127.0.0.1:9002") {
      EXPECT_EQ(y.level, severity::warning) << "19 of 20, nothing refused: near, not full";
    }
  }
}

// Each listener's SYN queue is its own: an IPv4 listener with 16 half-open on a backlog of 16
// is flooded however much room its IPv6 sibling on the same port has.
TEST(Doctor, SynQueuePerListener) {
  auto e = quiet();
  e.listeners = {listening("127.0.0.1:8443", 8443, 0, 16, 16, ""),
                 listening("[::1]:8443", 8443, 0, 128, 3, "")};
  e.sockets.tcp[0][static_cast<int>(tcp_state::syn_recv)] = 16;
  e.sockets.tcp[1][static_cast<int>(tcp_state::syn_recv)] = 3;
  const finding* x = nullptr;
  const auto f = diagnose(e);
  x = find(f, "syn_flood");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->level, severity::critical);
  EXPECT_EQ(evidence(*x, "listener"), "127.0.0.1:8443");
  EXPECT_EQ(evidence(*x, "listener_syn_recv"), "16");
  EXPECT_EQ(evidence(*x, "listener_backlog"), "16");
}

// A rule whose input cannot be read says so; the rest run; never "no findings" for it.
TEST(Doctor, RulesThatCannotRunSaySo) {
  auto e = quiet();
  e.sysctls.tcp_max_tw_buckets.reset();
  e.unreadable["net.ipv4.tcp_max_tw_buckets"] = "Permission denied";
  auto not_run = rules_not_run(e);
  ASSERT_EQ(not_run.size(), 1u);
  EXPECT_EQ(not_run[0].id, "time_wait_buckets");
  EXPECT_EQ(not_run[0].needs, "net.ipv4.tcp_max_tw_buckets");
  EXPECT_EQ(not_run[0].why, "Permission denied");
  std::string text;
  render_findings_text(diagnose(e), e, "netlink", text);
  EXPECT_EQ(text.find("no findings ("), std::string::npos) << text;
  EXPECT_NE(text.find("ssfast doctor: no findings in the 9 of 10 rules that ran (netlink"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("not run: time_wait_buckets (needs net.ipv4.tcp_max_tw_buckets: "
                      "Permission denied)"),
            std::string::npos)
      << text;
  EXPECT_EQ(doctor_exit_code(diagnose(e), not_run), 0);
  std::string json;
  render_findings_json(diagnose(e), e, "netlink", json);
  const auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j.at("not_run").at(0).at("id"), "time_wait_buckets");
  // Counters unreadable: every rule that needs one says so.
  e.counters_before.clear();
  e.counters_after.clear();
  e.unreadable["counters"] = "net/netstat: Permission denied";
  not_run = rules_not_run(e);
  std::vector<std::string> ids;
  for (const auto& r : not_run) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"time_wait_buckets", "syn_flood", "accept_queue_full",
                                           "orphans_limit", "tcp_memory", "retransmits"}));
  EXPECT_EQ(not_run[1].why, "net/netstat: Permission denied");
  // Nothing could run at all: exit 3, "could not diagnose".
  std::vector<rule_not_run> every(doctor_rule_count());
  EXPECT_EQ(doctor_exit_code({}, every), 3);
}

// The ids in rule order: what `not_run`, the findings and monitoring/alerts.yml name.
TEST(Doctor, RuleIdsAreListedOnceEach) {
  std::vector<std::string_view> ids;
  for (std::size_t i = 0; i < doctor_rule_count(); ++i) ids.push_back(doctor_rule_id(i));
  EXPECT_EQ(ids, (std::vector<std::string_view>{"time_wait_buckets", "ephemeral_ports", "syn_flood",
                                                "accept_queue_full", "close_wait_leak",
                                                "fin_wait2_orphans", "orphans_limit", "tcp_memory",
                                                "retransmits", "tw_recycle"}));
  EXPECT_EQ(doctor_rule_id(doctor_rule_count()), "");
}

TEST(Doctor, CloseWaitFinWait2OrphansMemoryRetransmitsRecycle) {
  auto e = quiet();
  e.close_wait_persisting = 15;
  EXPECT_EQ(find(diagnose(e), "close_wait_leak"), nullptr);
  e.close_wait_persisting = 16;
  e.close_wait_ports = {{"8080", 16}};
  e.close_wait_processes = {{"java(77)", 16}};
  auto f = diagnose(e);
  const finding* x = find(f, "close_wait_leak");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->level, severity::warning);
  EXPECT_EQ(evidence(*x, "processes"), "java(77) (16)");
  e.close_wait_persisting = 1024;
  EXPECT_EQ(find(diagnose(e), "close_wait_leak")->level, severity::critical);

  e = quiet();
  e.fin_wait2_orphaned = 300;
  f = diagnose(e);
  x = find(f, "fin_wait2_orphans");
  ASSERT_NE(x, nullptr);
  EXPECT_TRUE(x->advice.front().starts_with("sysctl -w net.ipv4.tcp_fin_timeout=30   # now 60"));
  e.sysctls.tcp_fin_timeout = 20;
  f = diagnose(e);  // kept: a range-for would not keep diagnose()'s vector alive
  for (const auto& a : find(f, "fin_wait2_orphans")->advice)
    EXPECT_EQ(a.find("tcp_fin_timeout="), std::string::npos) << "already short: " << a;

  e = quiet();
  e.counters_after["TCP.orphan"] = 65536;  // half of tcp_max_orphans
  EXPECT_EQ(find(diagnose(e), "orphans_limit")->level, severity::warning);
  e.counters_after["TCP.orphan"] = 10;
  e.counters_after["TcpExt.TCPAbortOnMemory"] = 3;
  e.counters_before["TcpExt.TCPAbortOnMemory"] = 0;
  f = diagnose(e);
  EXPECT_EQ(find(f, "orphans_limit")->level, severity::critical);
  EXPECT_EQ(find(f, "tcp_memory")->level, severity::critical) << "the same aborts";

  e = quiet();
  e.counters_after["TCP.mem"] = 251954;  // at pressure
  EXPECT_EQ(find(diagnose(e), "tcp_memory")->level, severity::warning);
  e.counters_after["TCP.mem"] = 350000;  // over 90% of max
  EXPECT_EQ(find(diagnose(e), "tcp_memory")->level, severity::critical);

  e = quiet();
  // Retransmissions as a share of all segments sent (OutSegs counts only new ones).
  e.counters_after["Tcp.RetransSegs"] = e.counters_before["Tcp.RetransSegs"] + 408;
  EXPECT_EQ(find(diagnose(e), "retransmits"), nullptr) << "408 of 20408: 1.999%";
  e.counters_after["Tcp.RetransSegs"] = e.counters_before["Tcp.RetransSegs"] + 409;
  EXPECT_EQ(find(diagnose(e), "retransmits")->level, severity::warning);
  e.counters_after["Tcp.RetransSegs"] = e.counters_before["Tcp.RetransSegs"] + 2300;
  EXPECT_EQ(find(diagnose(e), "retransmits")->level, severity::critical);
  // Too few segments to judge.
  e.counters_after["Tcp.OutSegs"] = e.counters_before["Tcp.OutSegs"] + 50;
  e.counters_after["Tcp.RetransSegs"] = e.counters_before["Tcp.RetransSegs"] + 49;
  EXPECT_EQ(find(diagnose(e), "retransmits"), nullptr);

  e = quiet();
  e.sysctls.tcp_tw_recycle = 0;
  EXPECT_EQ(find(diagnose(e), "tw_recycle"), nullptr);
  e.sysctls.tcp_tw_recycle = 1;
  x = find(f = diagnose(e), "tw_recycle");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->level, severity::critical);
  EXPECT_TRUE(x->advice.front().starts_with("sysctl -w net.ipv4.tcp_tw_recycle=0   # now 1"));
}

// Every finding at once: worst first, never tcp_tw_recycle=1 as advice, valid JSON.
TEST(Doctor, EverythingAtOnceRendersAndNeverAdvisesRecycle) {
  auto e = quiet();
  e.sysctls.tcp_max_tw_buckets = 100;
  e.counters_after["TCP.tw"] = 100;
  e.sysctls.ip_local_port_range = {{40000, 40009}};
  e.ephemeral_groups = {{"127.0.0.1 -> 127.0.0.1:700", 9}};
  e.listeners = {listening("127.0.0.1:700", 700, 3, 2, 10, "x(1)")};
  e.close_wait_persisting = 20;
  e.fin_wait2_held = 300;
  e.counters_after["TCP.orphan"] = 100000;
  e.counters_after["TCP.mem"] = 260000;
  e.counters_after["Tcp.RetransSegs"] += 5000;
  e.sysctls.tcp_tw_recycle = 1;
  const auto f = diagnose(e);
  std::vector<std::string> ids;
  for (const finding& x : f) ids.push_back(x.id);
  EXPECT_EQ(ids.size(), 10u) << ::testing::PrintToString(ids);
  for (std::size_t i = 1; i < f.size(); ++i) EXPECT_LE(f[i].level, f[i - 1].level) << "worst first";
  for (const finding& x : f)
    for (const auto& a : x.advice) {
      EXPECT_EQ(a.find("tcp_tw_recycle=1"), std::string::npos) << x.id << ": " << a;
      if (x.id != "tw_recycle") {
        EXPECT_EQ(a.find("tw_recycle"), std::string::npos) << a;
      }
    }
  std::string json;
  render_findings_json(f, e, "netlink", json);
  const auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["exit_code"], 2);
  EXPECT_EQ(j["findings"].size(), 10u);
  EXPECT_EQ(j["findings"][0]["severity"], "critical");
  for (const auto& x : j["findings"]) {
    EXPECT_TRUE(x["evidence"].is_object());
    EXPECT_FALSE(x["why"].get<std::string>().empty());
    EXPECT_FALSE(x["advice"].empty());
  }
  std::string text;
  render_findings_text(f, e, "netlink", text);
  EXPECT_TRUE(text.starts_with("ssfast doctor: 10 findings, ")) << text.substr(0, 80);
  EXPECT_NE(text.find("\nCRITICAL tw_recycle: "), std::string::npos);
  EXPECT_NE(text.find("\n  do        "), std::string::npos);
}

// Evidence keeps numbers as numbers and names as names, whatever the text looks like.
TEST(Doctor, EvidenceIsTypedUntilRendered) {
  finding x;
  x.id = "close_wait_leak";
  x.level = severity::warning;
  x.summary = "s";
  x.why = "w";
  evidence_value rate;
  rate.type = evidence_value::kind::measure;
  rate.measure = 12.5;
  rate.unit = "/s";
  evidence_value plain = rate;
  plain.unit = {};
  x.evidence = {{"count", std::uint64_t{5}},
                {"process", "123"},
                {"rate", rate},
                {"share", plain},
                {"negative", std::int64_t{-3}}};
  EXPECT_EQ(to_text(x.evidence[0].second), "5");
  EXPECT_EQ(to_text(x.evidence[2].second), "12.5/s");
  EXPECT_EQ(to_text(x.evidence[3].second), "12.5");
  std::string json;
  render_findings_json({x}, quiet(), "netlink", json);
  const auto ev = nlohmann::json::parse(json)["findings"][0]["evidence"];
  EXPECT_TRUE(ev["count"].is_number_integer());
  EXPECT_EQ(ev["count"], 5);
  EXPECT_TRUE(ev["process"].is_string()) << "a process named 123 is a name, not a number";
  EXPECT_EQ(ev["rate"], "12.5/s");
  EXPECT_EQ(ev["share"], 12.5);
  EXPECT_EQ(ev["negative"], -3);
  std::string text;
  render_findings_text({x}, quiet(), "netlink", text);
  EXPECT_NE(text.find("evidence  count 5, process 123, rate 12.5/s, share 12.5, negative -3"),
            std::string::npos)
      << text;
}

TEST(States, ElevenStatesInKernelOrder) {
  const auto& t = tcp_state_reference();
  EXPECT_EQ(t[0].name, "ESTABLISHED");
  EXPECT_EQ(t[5].name, "TIME_WAIT");
  EXPECT_EQ(t[9].name, "LISTEN");
  for (std::size_t i = 0; i < t.size(); ++i)
    EXPECT_EQ(t[i].name, netstat_name(static_cast<std::uint8_t>(i + 1)));
  std::string json;
  render_states_json(json);
  const auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j.size(), 11u);
  EXPECT_EQ(j[7]["state"], "CLOSE_WAIT");
  EXPECT_EQ(j[7]["kernel_value"], 8);
}

}  // namespace
}  // namespace ssfast
