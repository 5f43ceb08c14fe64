// SPDX-License-Identifier: Apache-2.0
// The doctor's rules on recorded samples (`ssfast history` on a terminal): a record as the
// doctor's evidence, judged by diagnose() itself, the rules a record cannot feed said as not
// evaluated, and the judgement as the table's flags and notes.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "ssfast/doctor/history.h"

namespace ssfast {
namespace {

constexpr std::int64_t t0 = 1'796'353'200'000;  // 2026-12-04T03:00:00Z

std::size_t at(counter_id id) { return static_cast<std::size_t>(id); }

// A busy host's record, `ms` after t0, 10 s after the recorder's previous one (none when
// `first`): counters that moved by `overflows` ListenOverflows, a listener whose accept queue
// holds `waiting` of a backlog of 128.
history_record record(std::int64_t ms, bool first, std::uint32_t waiting, std::int64_t overflows) {
  history_record r;
  history_sample& s = r.sample;
  s.time_ms = t0 + ms;
  s.tcp[0][static_cast<std::size_t>(tcp_state::established)] = 5000;
  s.tcp[0][static_cast<std::size_t>(tcp_state::listen)] = 2;
  s.tcp[1][static_cast<std::size_t>(tcp_state::time_wait)] = 300;
  s.udp = {3, 4, 0, 1};
  s.unix_sockets = {10, 5, 0, 2};
  for (std::size_t i = 0; i < history_counter_count; ++i) {
    s.counters[i] = 1'000'000 + static_cast<std::int64_t>(i);
    if (!first) r.delta[i] = 0;
  }
  s.counters[at(counter_id::tcp_out_segs)] = 50'000'000;
  s.counters[at(counter_id::listen_overflows)] = 70 + overflows;
  s.counters[at(counter_id::sockstat_tcp_orphan)] = 3;
  s.counters[at(counter_id::sockstat_tcp_mem)] = 400;
  s.counters[at(counter_id::sockstat_tcp_tw)] = 300;
  if (!first) {
    r.delta[at(counter_id::tcp_out_segs)] = 200'000;
    r.delta[at(counter_id::listen_overflows)] = overflows;
    r.delta_ms = 10'000;
  }
  s.sysctls = {{"net.core.somaxconn", "4096"},
               {"net.ipv4.ip_local_port_range", "32768 60999"},
               {"net.ipv4.tcp_max_orphans", "131072"},
               {"net.ipv4.tcp_max_tw_buckets", "262144"},
               {"net.ipv4.tcp_mem", "188964 251954 377928"},
               {"net.ipv4.tcp_syncookies", "1"}};
  r.sysctls_known = true;
  history_listener l;
  l.address = {10, 0, 0, 1};
  l.port = 443;
  l.accept_queue = waiting;
  l.backlog = 128;
  s.listeners.push_back(l);
  history_listener v6;
  v6.family = 6;
  v6.port = 8443;
  v6.backlog = 4096;
  s.listeners.push_back(v6);
  return r;
}

std::set<std::string> ids(const std::vector<rule_not_run>& v) {
  std::set<std::string> out;
  for (const rule_not_run& r : v) out.insert(r.id);
  return out;
}

// A record gives the doctor what it keeps: counts, counters before (after less the change) and
// after, the sysctls, the listeners as ss names them, the interval; what only a listing of
// sockets gives is said not recorded.
TEST(DoctorHistory, ARecordIsTheDoctorsEvidence) {
  history_record r = record(10'000, false, 5, 40);
  r.reset[at(counter_id::tcp_retrans_segs)] = true;
  const doctor_evidence e = history_evidence(r);
  EXPECT_EQ(e.interval_s, 10);
  EXPECT_EQ(e.sockets.tcp_histogram().netstat_count(tcp_state::established), 5000u);
  EXPECT_EQ(e.sockets.tcp_histogram().netstat_count(tcp_state::time_wait), 300u);
  EXPECT_EQ(e.sockets.udp[0].total() + e.sockets.udp[1].total(), 8u);
  EXPECT_EQ(e.counters_after.at("TcpExt.ListenOverflows"), 110);
  EXPECT_EQ(e.counters_before.at("TcpExt.ListenOverflows"), 70);
  EXPECT_EQ(e.counters_after.at("TCP.orphan"), 3);
  EXPECT_EQ(e.counters_before.count("Tcp.RetransSegs"), 0u) << "a reset has no before";
  EXPECT_EQ(e.counters_after.count("Tcp.RetransSegs"), 1u);
  EXPECT_EQ(e.sysctls.tcp_max_tw_buckets, 262144);
  ASSERT_TRUE(e.sysctls.tcp_mem);
  EXPECT_EQ((*e.sysctls.tcp_mem)[2], 377928);
  EXPECT_TRUE(e.backlog_known);
  ASSERT_EQ(e.listeners.size(), 2u);
  EXPECT_EQ(e.listeners[0].address, "10.0.0.1:443");
  EXPECT_EQ(e.listeners[0].accept_queue, 5u);
  EXPECT_EQ(e.listeners[0].backlog, 128u);
  EXPECT_EQ(e.listeners[0].syn_backlog, 128u);
  EXPECT_EQ(e.listeners[1].address, "[::]:8443");
  // Retransmits need the reset counter's change: not run on this record, with the rest that
  // read sockets by identity.
  EXPECT_EQ(ids(rules_not_run(e)), (std::set<std::string>{"ephemeral_ports", "close_wait_leak",
                                                          "fin_wait2_orphans", "retransmits"}));
  for (const rule_not_run& n : rules_not_run(e))
    if (n.id == "close_wait_leak") {
      EXPECT_EQ(n.needs, "close_wait_persisting");
      EXPECT_EQ(n.why, "not recorded (a sample keeps counts, not sockets)");
    }

  // A run's first record: no change, so no rule on counters' changes; /proc: no backlogs.
  history_record first = record(0, true, 0, 0);
  first.sample.source = 1;
  const doctor_evidence f = history_evidence(first);
  EXPECT_FALSE(f.backlog_known);
  const std::set<std::string> not_run = ids(rules_not_run(f));
  for (const char* id : {"syn_flood", "accept_queue_full", "retransmits"})
    EXPECT_EQ(not_run.count(id), 1u) << id;
  EXPECT_EQ(not_run.count("orphans_limit"), 0u) << "a level needs no change";
  // Sysctls not yet said (a file read from the middle of a run): their rules are not run.
  first.sysctls_known = false;
  const std::set<std::string> blind = ids(rules_not_run(history_evidence(first)));
  for (const char* id : {"time_wait_buckets", "orphans_limit", "tcp_memory"})
    EXPECT_EQ(blind.count(id), 1u) << id;
}

// A file is input others may have written: counters and changes at INT64's ends, a backlog of
// zero, a listener of no known family are judged and drawn without overflow or a crash.
TEST(DoctorHistory, NumbersAtTheirEndsAreJudgedSafely) {
  std::vector<history_record> rows = {record(0, true, 0, 0), record(10'000, false, 0, 0)};
  for (std::size_t i = 0; i < history_counter_count; ++i) {
    rows[1].sample.counters[i] = i % 2 ? INT64_MIN : INT64_MAX;
    rows[1].delta[i] = i % 2 ? INT64_MAX : INT64_MIN;
  }
  rows[1].sample.listeners[0].accept_queue = UINT32_MAX;
  rows[1].sample.listeners[0].backlog = 0;
  rows[1].sample.listeners[0].syn_recv = UINT32_MAX;
  rows[1].sample.listeners[1].family = 99;
  rows[1].delta_ms = 1;
  const doctor_evidence e = history_evidence(rows[1]);
  EXPECT_TRUE(e.counters_before.empty()) << "no before that does not fit";
  history_flagger g;
  history_extras x;
  x.width = 80;
  for (const history_record& r : rows) x.flags.push_back(g.judge(r));
  x.notes = g.notes(history_clock::utc, false);
  std::string out;
  const tcp_state states[] = {tcp_state::established};
  render_history_text(rows, states, history_clock::utc, out, &x);
  EXPECT_FALSE(out.empty());
}

// The judgement is diagnose()'s on each record (the same rules as doctor, check, the exporter
// and the live view), warnings and worse; flags per row and notes name what fired, when, and
// what could not be judged.
TEST(DoctorHistory, EachRecordIsJudgedByTheDoctorsRules) {
  const std::vector<history_record> rows = {
      record(0, true, 0, 0), record(10'000, false, 0, 0),
      record(20'000, false, 129, 0),  // over its backlog: full
      record(30'000, false, 0, 25),   // drained, but it refused connections
      record(40'000, false, 0, 0)};
  history_flagger g;
  std::vector<std::string> flags;
  std::vector<std::vector<finding>> found;
  for (const history_record& r : rows) {
    flags.push_back(g.judge(r));
    found.push_back(g.last_findings());
  }
  EXPECT_TRUE(found[0].empty());
  EXPECT_TRUE(found[1].empty());
  ASSERT_EQ(found[2].size(), 1u);
  EXPECT_EQ(found[2][0].id, "accept_queue_full");  // and nothing else of a quiet host
  EXPECT_EQ(found[2][0].subject, "10.0.0.1:443");
  EXPECT_EQ(found[2][0].level, severity::critical);
  // Exactly what the doctor says of the same evidence.
  const std::vector<finding> direct = diagnose(history_evidence(rows[2]));
  ASSERT_EQ(direct.size(), 1u);
  EXPECT_EQ(direct[0].summary, found[2][0].summary);
  ASSERT_EQ(found[3].size(), 1u);
  EXPECT_EQ(found[3][0].id, "accept_queue_full");
  EXPECT_TRUE(found[4].empty());
  // Not evaluated: the rules on socket identities on every record, the counters' rules on
  // the first.
  std::map<std::string, std::size_t> unjudged;
  for (const auto& u : g.not_run()) unjudged[u.rule.id] = u.records;
  EXPECT_EQ(unjudged["close_wait_leak"], 5u);
  EXPECT_EQ(unjudged["fin_wait2_orphans"], 5u);
  EXPECT_EQ(unjudged["ephemeral_ports"], 5u);
  EXPECT_EQ(unjudged["accept_queue_full"], 1u);
  EXPECT_EQ(unjudged["syn_flood"], 1u);
  EXPECT_EQ(unjudged.count("time_wait_buckets"), 0u);
  EXPECT_EQ(unjudged.count("tcp_memory"), 0u);

  EXPECT_EQ(flags,
            (std::vector<std::string>{"", "", "accept_queue_full!", "accept_queue_full!", ""}));
  history_extras x;
  x.notes = g.notes(history_clock::utc, false);
  ASSERT_GE(x.notes.size(), 4u);
  EXPECT_EQ(x.notes[0], "Flags, the doctor's rules on each sample's interval (! critical):");
  EXPECT_TRUE(x.notes[1].starts_with(
      "  accept_queue_full (critical): 2 samples, 03:00:20 to 03:00:30; last: accept queues "
      "overflowed 25 times in 10.0 s"))
      << x.notes[1];
  EXPECT_EQ(x.notes[2],
            "Not evaluated: ephemeral_ports (ephemeral_groups), close_wait_leak "
            "(close_wait_persisting), fin_wait2_orphans (fin_wait2_orphaned): not recorded (a "
            "sample keeps counts, not sockets).");
  EXPECT_EQ(x.notes[3],
            "Not evaluated on 1 of 5 samples: syn_flood (TcpExt.SyncookiesSent), "
            "accept_queue_full (TcpExt.ListenOverflows), retransmits (Tcp.OutSegs): a run's "
            "first sample (no change to judge).");

  // Nothing fired: said, not left blank.
  history_flagger calm;
  EXPECT_EQ(calm.judge(rows[0]), "");
  EXPECT_EQ(calm.judge(rows[1]), "");
  EXPECT_EQ(calm.notes(history_clock::utc, false)[0],
            "Flags: none of the doctor's rules fired on these samples.");
}

}  // namespace
}  // namespace ssfast
