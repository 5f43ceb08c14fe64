// SPDX-License-Identifier: Apache-2.0
// Renderers: the exact text layout (histogram shape, sections, labels) and the JSON keys.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ssfast/report/all_netns.h"
#include "ssfast/report/escape.h"
#include "ssfast/report/exporter.h"
#include "ssfast/report/summary.h"
#include "support/prometheus.h"

namespace ssfast {
namespace {

socket_summary sample() {
  socket_summary s;
  s.tcp[0][1] = 1000;  // ESTABLISHED
  s.tcp[1][1] = 200;
  s.tcp[0][6] = 300;  // TIME_WAIT
  s.tcp[0][10] = 4;   // LISTEN
  s.tcp[1][10] = 4;
  s.tcp[0][3] = 2;   // SYN_RECV
  s.tcp[0][12] = 5;  // NEW_SYN_RECV: shown as SYN_RECV
  s.tcp[1][8] = 7;   // CLOSE_WAIT
  s.tcp[0][11] = 7;  // CLOSING, ties CLOSE_WAIT: kernel order breaks the tie
  s.udp[0][7] = 3;
  s.udp[0][1] = 1;
  s.udp[1][7] = 2;
  s.unix_domain.by_type[1] = 10;
  s.unix_domain.by_type[2] = 4;
  s.unix_domain.by_type[5] = 1;
  s.unix_domain.states[1] = 8;
  s.unix_domain.states[7] = 5;
  s.unix_domain.states[10] = 2;
  return s;
}

kernel_counters sample_counters() {
  kernel_counters k;
  k.sockets_used = 1600;
  k.tcp_inuse = 1220;
  k.tcp_orphan = 0;
  k.tcp_tw = 300;
  k.tcp_alloc = 1230;
  k.tcp_mem = 50;
  k.udp_inuse = 4;
  k.udp_mem = 1;
  k.tcp6_inuse = 210;
  k.udp6_inuse = 2;
  k.tcp_curr_estab = 1207;
  return k;
}

TEST(RenderText, HistogramThenTotalsThenLabelledCounters) {
  const socket_summary s = sample();
  const kernel_counters k = sample_counters();
  std::string out;
  render_summary_text({s, source_kind::netlink, "", &k, ""}, out);
  EXPECT_EQ(out,
            "ESTABLISHED 1200\n"
            "TIME_WAIT 300\n"
            "LISTEN 8\n"
            "SYN_RECV 7\n"
            "CLOSE_WAIT 7\n"
            "CLOSING 7\n"
            "\n"
            "Sockets (source: netlink)\n"
            "TCP   total 1529  IPv4 1318  IPv6 211\n"
            "UDP   total 6  IPv4 4  IPv6 2  connected 1\n"
            "UNIX  total 15  stream 10  dgram 4  seqpacket 1  listening 2\n"
            "\n"
            "Kernel counters (/proc/net/sockstat, sockstat6, snmp; not socket counts)\n"
            "sockets: used 1600\n"
            "TCP: inuse 1220 orphan 0 tw 300 alloc 1230 mem 50\n"
            "TCP6: inuse 210\n"
            "UDP: inuse 4 mem 1\n"
            "UDP6: inuse 2\n"
            "Tcp: CurrEstab 1207\n");
}

TEST(RenderText, UnavailableCountersSayWhy) {
  const socket_summary s = sample();
  std::string out;
  render_summary_text({s, source_kind::netlink, "", nullptr, "net/snmp: Permission denied"}, out);
  EXPECT_NE(out.find("unavailable: net/snmp: Permission denied\n"), std::string::npos) << out;
}

TEST(RenderText, NarrowedScopeOmitsWhatWasNotCollected) {
  socket_summary s = sample();
  s.tcp[1] = {};
  s.udp[1] = {};
  s.scope.ipv6 = false;
  std::string out;
  render_summary_text({s, source_kind::netlink, "", nullptr, "x"}, out);
  EXPECT_NE(out.find("TCP   total 1318  IPv4 1318\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("IPv6"), std::string::npos) << out;
}

TEST(RenderText, NoTcpSocketsPrintsAnEmptySectionEndedByItsBlankLine) {
  socket_summary s;
  std::string out;
  render_summary_text({s, source_kind::netlink, "", nullptr, "x"}, out);
  EXPECT_EQ(out.rfind("\nSockets (source: netlink)\n", 0), 0u) << out;
}

TEST(RenderText, UnknownStateValuesAreShownNotDropped) {
  socket_summary s;
  s.tcp[0][14] = 3;
  std::string out;
  render_summary_text({s, source_kind::netlink, "", nullptr, "x"}, out);
  EXPECT_EQ(out.rfind("STATE_14 3\n", 0), 0u) << out;
}

TEST(RenderJson, HasAllElevenStatesAndTotals) {
  const socket_summary s = sample();
  const kernel_counters k = sample_counters();
  std::string out;
  render_summary_json({s, source_kind::netlink, "", &k, ""}, out);
  ASSERT_EQ(out.back(), '\n');
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["source"], "netlink");
  const auto& states = j["tcp"]["states"];
  EXPECT_EQ(states.size(), 11u);
  for (const char* name : {"ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
                           "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"})
    EXPECT_TRUE(states.contains(name)) << name;
  EXPECT_EQ(states["ESTABLISHED"], 1200);
  EXPECT_EQ(states["SYN_RECV"], 7);
  EXPECT_EQ(states["FIN_WAIT1"], 0) << "zeros included";
  EXPECT_EQ(j["tcp"]["total"], 1529);
  EXPECT_EQ(j["tcp"]["ipv4"]["states"]["SYN_RECV"], 7);
  EXPECT_EQ(j["tcp"]["ipv6"]["total"], 211);
  EXPECT_EQ(j["udp"]["total"], 6);
  EXPECT_EQ(j["udp"]["connected"], 1);
  EXPECT_EQ(j["udp"]["unconnected"], 5);
  EXPECT_EQ(j["udp"]["ipv6"]["total"], 2);
  EXPECT_EQ(j["unix"]["total"], 15);
  EXPECT_EQ(j["unix"]["stream"], 10);
  EXPECT_EQ(j["unix"]["seqpacket"], 1);
  EXPECT_EQ(j["counters"]["TCP"]["tw"], 300);
  EXPECT_EQ(j["counters"]["Tcp"]["CurrEstab"], 1207);
  EXPECT_FALSE(j["counters"].contains("RAW")) << "absent counters are left out, not zero";
  EXPECT_FALSE(j.contains("counters_error"));
  EXPECT_FALSE(j["tcp"].contains("other_states"));
}

TEST(RenderJson, UnavailableCountersAreNullWithAReason) {
  const socket_summary s = sample();
  std::string out;
  render_summary_json({s, source_kind::proc, "", nullptr, "net/snmp: \"quoted\"\tand\x01"}, out);
  const auto j = nlohmann::json::parse(out);  // escaping must keep it valid
  EXPECT_EQ(j["source"], "proc");
  EXPECT_TRUE(j["counters"].is_null());
  EXPECT_EQ(j["counters_error"], "net/snmp: \"quoted\"\tand\x01");
}

// Malformed lines are said on stderr, per file, by whoever runs the collector
// (collector::malformed_lines): the text keeps the report's own lines only.
TEST(RenderText, FallbackIsSaidAndSkippedLinesAreNot) {
  socket_summary s = sample();
  s.skipped_lines = 2;
  std::string out;
  render_summary_text(
      {s, source_kind::proc, "opening the sock_diag socket: Permission denied", nullptr, "x"}, out);
  EXPECT_NE(out.find("Sockets (source: proc; netlink unavailable: opening the sock_diag socket: "
                     "Permission denied)\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("malformed"), std::string::npos) << out;
}

TEST(RenderJson, ProcSourceCarriesItsStatsAndFallbackReason) {
  socket_summary s = sample();
  s.skipped_lines = 3;
  s.duplicate_rows = 1;
  std::string out;
  render_summary_json(
      {s, source_kind::proc, "TCP/IPv4 dump: No such file or directory", nullptr, "x"}, out);
  const auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["source"], "proc");
  EXPECT_EQ(j["fallback_reason"], "TCP/IPv4 dump: No such file or directory");
  EXPECT_EQ(j["proc"]["skipped_lines"], 3);
  EXPECT_EQ(j["proc"]["duplicate_rows"], 1);
  std::string nl;
  render_summary_json({s, source_kind::netlink, "", nullptr, "x"}, nl);
  const auto k = nlohmann::json::parse(nl);
  EXPECT_FALSE(k.contains("proc"));
  EXPECT_FALSE(k.contains("fallback_reason"));
}

TEST(RenderSummary, RepeatsANetlinkDumpDroppedAreReported) {
  socket_summary s = sample();
  s.repeats_dropped = 4;
  std::string json;
  render_summary_json({s, source_kind::netlink, "", nullptr, "x"}, json);
  const auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["netlink"]["repeats_dropped"], 4);
  EXPECT_FALSE(j["netlink"].contains("skipped_lines"));
  std::string text;
  render_summary_text({s, source_kind::netlink, "", nullptr, "x"}, text);
  EXPECT_NE(text.find("Sockets (source: netlink)\nnote: 4 sockets the kernel's dump reported "
                      "twice were counted once\n"),
            std::string::npos)
      << text;
  s.repeats_dropped = 0;
  std::string quiet;
  render_summary_text({s, source_kind::netlink, "", nullptr, "x"}, quiet);
  EXPECT_EQ(quiet.find("reported twice"), std::string::npos) << "said only when it happened";
  std::string zero;
  render_summary_json({s, source_kind::netlink, "", nullptr, "x"}, zero);
  EXPECT_EQ(nlohmann::json::parse(zero)["netlink"]["repeats_dropped"], 0);
}

TEST(RenderJson, NarrowedScopeAndOtherStates) {
  socket_summary s;
  s.scope.ipv4 = false;
  s.scope.unix_domain = false;
  s.tcp[1][15] = 2;
  std::string out;
  render_summary_json({s, source_kind::netlink, "", nullptr, "x"}, out);
  const auto j = nlohmann::json::parse(out);
  EXPECT_FALSE(j["tcp"].contains("ipv4"));
  EXPECT_TRUE(j["tcp"].contains("ipv6"));
  EXPECT_FALSE(j.contains("unix"));
  EXPECT_EQ(j["tcp"]["other_states"]["15"], 2);
  EXPECT_EQ(j["tcp"]["total"], 2);
}

// --- Prometheus text exposition ---------------------------------------------------------

TEST(RenderPrometheus, EveryStateAsALabelWithHelpAndType) {
  const socket_summary s = sample();
  const kernel_counters k = sample_counters();
  const std::vector<std::pair<std::string, std::int64_t>> kernel = {
      {"Ip.Forwarding", 1},  // not a TCP counter people watch: left out
      {"Tcp.ActiveOpens", 12},
      {"TcpExt.ListenOverflows", 3},
      {"TcpExt.TCPTimeouts", 9}};
  std::string out;
  render_summary_prometheus({s, source_kind::netlink, "", &k, ""}, kernel, out);
  const auto m = testing::prometheus_samples(out);
  EXPECT_EQ(m.at(R"(ssfast_tcp_sockets{family="ipv4",state="established"})"), "1000");
  EXPECT_EQ(m.at(R"(ssfast_tcp_sockets{family="ipv6",state="established"})"), "200");
  EXPECT_EQ(m.at(R"(ssfast_tcp_sockets{family="ipv4",state="syn_recv"})"), "7")
      << "NEW_SYN_RECV request sockets count as SYN_RECV, as in the text";
  EXPECT_EQ(m.at(R"(ssfast_tcp_sockets{family="ipv4",state="closing"})"), "7");
  EXPECT_EQ(m.at(R"(ssfast_tcp_sockets{family="ipv6",state="fin_wait2"})"), "0")
      << "zeros included: a series does not vanish when its state empties";
  std::size_t tcp_series = 0;
  for (const auto& [key, v] : m) tcp_series += key.starts_with("ssfast_tcp_sockets{");
  EXPECT_EQ(tcp_series, 22u);
  EXPECT_EQ(m.at(R"(ssfast_udp_sockets{family="ipv4",connected="true"})"), "1");
  EXPECT_EQ(m.at(R"(ssfast_udp_sockets{family="ipv4",connected="false"})"), "3");
  EXPECT_EQ(m.at(R"(ssfast_udp_sockets{family="ipv6",connected="false"})"), "2");
  EXPECT_EQ(m.at(R"(ssfast_unix_sockets{type="stream"})"), "10");
  EXPECT_EQ(m.at(R"(ssfast_unix_sockets{type="dgram"})"), "4");
  EXPECT_EQ(m.at(R"(ssfast_unix_sockets{type="seqpacket"})"), "1");
  EXPECT_EQ(m.at(R"(ssfast_source_info{source="netlink"})"), "1");
  EXPECT_EQ(m.at(R"(ssfast_tcp_count_method_info{method="walk"})"), "1");
  EXPECT_EQ(m.at(R"(ssfast_sockstat{protocol="TCP",counter="tw"})"), "300");
  EXPECT_EQ(m.at(R"(ssfast_sockstat{protocol="TCP6",counter="inuse"})"), "210");
  EXPECT_EQ(m.count(R"(ssfast_sockstat{protocol="RAW",counter="inuse"})"), 0u)
      << "absent counters are left out, not zero";
  EXPECT_EQ(m.at("ssfast_tcp_curr_estab"), "1207");
  EXPECT_EQ(m.at("ssfast_tcp_active_opens_total"), "12");
  EXPECT_EQ(m.at("ssfast_tcp_ext_listen_overflows_total"), "3");
  EXPECT_EQ(m.at("ssfast_tcp_ext_tcp_timeouts_total"), "9");
  EXPECT_EQ(m.count("ssfast_ip_forwarding_total"), 0u);
  EXPECT_NE(out.find("# TYPE ssfast_tcp_sockets gauge\n"), std::string::npos);
  EXPECT_NE(out.find("# TYPE ssfast_tcp_active_opens_total counter\n"), std::string::npos);
  const auto [rc, said] = testing::promtool(out);
  EXPECT_EQ(rc, 0) << said << out;
  EXPECT_EQ(said, "") << "promtool's lint found something";
}

TEST(RenderPrometheus, EstimateNarrowScopeOtherStatesAndNoCountersStillValid) {
  socket_summary s = sample();
  s.estimate = socket_summary::estimate_status::estimated;
  s.established_estimate = 1200;
  s.tcp[0][1] = s.tcp[1][1] = 0;  // the estimate dumps no ESTABLISHED
  s.tcp[1][15] = 2;               // a state netstat has no name for
  s.scope.unix_domain = false;
  std::string out;
  render_summary_prometheus({s, source_kind::proc, "opening: EACCES", nullptr, "no counters"}, {},
                            out);
  const auto m = testing::prometheus_samples(out);
  EXPECT_EQ(m.count(R"(ssfast_tcp_sockets{family="ipv4",state="established"})"), 0u)
      << "per-family ESTABLISHED is unknown under an estimate";
  EXPECT_EQ(m.at("ssfast_tcp_established_estimate"), "1200");
  EXPECT_EQ(m.at(R"(ssfast_tcp_sockets{family="ipv6",state="other"})"), "2");
  EXPECT_EQ(m.count(R"(ssfast_tcp_sockets{family="ipv4",state="other"})"), 0u);
  EXPECT_EQ(m.at(R"(ssfast_source_info{source="proc"})"), "1");
  for (const auto& [key, v] : m) {
    EXPECT_FALSE(key.starts_with("ssfast_unix_sockets")) << "UNIX was not collected";
    EXPECT_FALSE(key.starts_with("ssfast_sockstat")) << "no counters were read";
  }
  const auto [rc, said] = testing::promtool(out);
  EXPECT_EQ(rc, 0) << said << out;
}

// `ip netns add` takes any bytes for a name, and a cgroup path names the container: a label
// value that is not UTF-8 would fail the whole scrape (promtool: invalid label value), so
// each ill-formed byte becomes U+FFFD, and quote, backslash and newline are escaped.
TEST(RenderPrometheus, LabelValuesAreRepairedToUtf8AndEscaped) {
  std::vector<netns_count> ns(1);
  ns[0].inode = 4026532000;
  ns[0].name = "sec-\xff\xc3(";
  ns[0].container = "a\"b\\c\nd";
  ns[0].pod_uid = "caf\xc3\xa9\xed\xa0\x80";  // é kept; an encoded surrogate is not UTF-8
  ns[0].sockets.tcp[0][10] = 3;
  std::string out;
  render_all_netns_prometheus(ns, max_netns_series, out);
  EXPECT_NE(out.find("name=\"sec-\xEF\xBF\xBD\xEF\xBF\xBD(\""), std::string::npos) << out;
  EXPECT_NE(out.find(R"(container="a\"b\\c\nd")"), std::string::npos) << out;
  EXPECT_NE(out.find("pod_uid=\"caf\xC3\xA9\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""),
            std::string::npos)
      << out;
  for (std::string_view rest = out; !rest.empty();) {
    const std::size_t n = utf8_sequence_length(rest);
    ASSERT_GT(n, 0u) << "not UTF-8 at byte " << out.size() - rest.size();
    rest.remove_prefix(n);
  }
  const auto [rc, said] = testing::promtool(out);
  EXPECT_TRUE(rc == 0 || rc == 127) << said << out;
}

// The exporter's own series, byte for byte as /metrics has always ended.
TEST(RenderPrometheus, TheExportersOwnSeries) {
  std::string out;
  render_exporter_prometheus({0.0123456789, 7, 1, 5}, out);
  EXPECT_EQ(out,
            "# HELP ssfast_scrape_duration_seconds How long this scrape took to collect.\n"
            "# TYPE ssfast_scrape_duration_seconds gauge\n"
            "ssfast_scrape_duration_seconds 0.012346\n"
            "# HELP ssfast_exporter_scrapes_total Scrapes this exporter has answered.\n"
            "# TYPE ssfast_exporter_scrapes_total counter\n"
            "ssfast_exporter_scrapes_total 7\n"
            "# HELP ssfast_exporter_scrape_errors_total Scrapes that failed to collect.\n"
            "# TYPE ssfast_exporter_scrape_errors_total counter\n"
            "ssfast_exporter_scrape_errors_total 1\n"
            "# HELP ssfast_exporter_collections_total Collections made; scrapes waiting "
            "together share one.\n"
            "# TYPE ssfast_exporter_collections_total counter\n"
            "ssfast_exporter_collections_total 5\n");
}

// Findings and listeners as series: one per finding, labelled as the doctor names it; one per
// listener address up to the cap, and how many were left out.
TEST(RenderPrometheus, FindingsAndListenerSeries) {
  std::string out;
  const finding_series f[] = {{"syn_flood", "critical", "127.0.0.1:80"},
                              {"close_wait_leak", "warning", ""}};
  render_findings_prometheus(f, true, out);
  EXPECT_NE(out.find("ssfast_finding{id=\"syn_flood\",severity=\"critical\","
                     "subject=\"127.0.0.1:80\"} 1\n"),
            std::string::npos)
      << out;
  EXPECT_NE(
      out.find("ssfast_finding{id=\"close_wait_leak\",severity=\"warning\",subject=\"\"} 1\n"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("ssfast_findings_judged 1\n"), std::string::npos) << out;
  out.clear();
  render_findings_prometheus({}, false, out);
  EXPECT_EQ(out.find("ssfast_finding{"), std::string::npos) << out;
  EXPECT_NE(out.find("ssfast_findings_judged 0\n"), std::string::npos) << out;
  out.clear();
  const rule_series r[] = {{"syn_flood", true}, {"tcp_memory", false}};
  render_rules_prometheus(r, out);
  EXPECT_NE(out.find("# TYPE ssfast_rule_evaluated gauge\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ssfast_rule_evaluated{id=\"syn_flood\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ssfast_rule_evaluated{id=\"tcp_memory\"} 0\n"), std::string::npos) << out;
  out.clear();
  render_rules_prometheus({}, out);
  EXPECT_EQ(out, "") << "nothing judged yet: no rule is said to have run or not";
  const listener_series l[] = {{"ipv4", "127.0.0.1", 80, 5, 4, 49, 48, 1570},
                               {"ipv6", "::", 443, 0, 4096, 0, 4096, 0}};
  render_listeners_prometheus(l, 1, out);
  EXPECT_NE(out.find("ssfast_listener_accept_queue{family=\"ipv4\",address=\"127.0.0.1\","
                     "port=\"80\"} 5\n"),
            std::string::npos)
      << out;
  EXPECT_NE(
      out.find("ssfast_listener_syn_limit{family=\"ipv4\",address=\"127.0.0.1\",port=\"80\"} 48\n"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("# TYPE ssfast_listener_drops_total counter\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("port=\"443\""), std::string::npos) << "past the cap of 1";
  EXPECT_NE(out.find("ssfast_listeners_omitted 1\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace ssfast
