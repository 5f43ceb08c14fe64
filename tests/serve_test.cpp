// SPDX-License-Identifier: Apache-2.0
// serve/ without sockets: plugin ranges and verdicts, the HTTP request parser, the agent's
// decision. Links ssfast::serve and what is below it, nothing of the cli.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ssfast/serve/agent.h"
#include "ssfast/serve/check.h"
#include "ssfast/serve/http.h"
#include "ssfast/serve/server.h"

namespace ssfast::serve {
namespace {

plugin_range range(std::string_view s) {
  plugin_range r;
  const std::string err = parse_range(s, r);
  EXPECT_EQ(err, "") << s;
  return r;
}

// The Nagios plugin guidelines' table of range examples, value by value.
TEST(PluginRange, GuidelineExamples) {
  struct row {
    const char* range;
    double value;
    bool alert;
  };
  const row rows[] = {
      {"10", -1, true},     {"10", 0, false},      {"10", 10, false},    {"10", 10.5, true},
      {"10:", 9.9, true},   {"10:", 10, false},    {"10:", 1e12, false}, {"~:10", -1e9, false},
      {"~:10", 10, false},  {"~:10", 11, true},    {"10:20", 9, true},   {"10:20", 10, false},
      {"10:20", 20, false}, {"10:20", 21, true},   {"@10:20", 9, false}, {"@10:20", 10, true},
      {"@10:20", 20, true}, {"@10:20", 21, false}, {"@10", 5, true},     {"@10", 11, false},
      {":5", 5, false},     {":5", 6, true},       {"0", 0, false},      {"0", 1, true},
  };
  for (const row& r : rows)
    EXPECT_EQ(alerts(range(r.range), r.value), r.alert) << r.range << " at " << r.value;
}

TEST(PluginRange, BadRangesAreRefusedWithTheText) {
  plugin_range r;
  EXPECT_EQ(parse_range("", r), "'' is not a range");
  EXPECT_EQ(parse_range("abc", r), "'abc' is not a range");
  EXPECT_EQ(parse_range("20:10", r), "'20:10': the start is above the end");
  EXPECT_EQ(parse_range("1:2:3", r), "'1:2:3' is not a range");
  EXPECT_EQ(parse_range("~", r), "'~' is not a range");
  EXPECT_EQ(parse_range("nan", r), "'nan' is not a range");
  EXPECT_EQ(parse_range("@", r), "'@' is not a range");
  std::vector<threshold> t;
  EXPECT_EQ(parse_thresholds("established=10,=5", t), "'=5' is not METRIC=RANGE");
  t.clear();
  EXPECT_EQ(parse_thresholds("established", t), "'established' is not METRIC=RANGE");
  t.clear();
  EXPECT_EQ(parse_thresholds("established=50000,syn_recv=@1000:", t), "");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1].metric, "syn_recv");
  EXPECT_TRUE(t[1].range.inside);
}

std::vector<std::pair<std::string, double>> metrics_of(std::uint64_t established,
                                                       std::uint64_t syn_recv) {
  socket_summary s;
  s.tcp[0][static_cast<int>(tcp_state::established)] = established;
  s.tcp[0][static_cast<int>(tcp_state::syn_recv)] = syn_recv;
  s.tcp[1][static_cast<int>(tcp_state::time_wait)] = 7;
  kernel_counters k;
  k.tcp_orphan = 2;
  return check_metrics(s, &k);
}

TEST(CheckVerdict, OkWarningCriticalAndPerfdata) {
  std::vector<threshold> warn, crit;
  ASSERT_EQ(parse_thresholds("established=50000", warn), "");
  ASSERT_EQ(parse_thresholds("syn_recv=1000", crit), "");
  const auto [status, line] = evaluate(warn, crit, metrics_of(100, 3));
  EXPECT_EQ(status, plugin_status::ok);
  EXPECT_TRUE(line.starts_with("SSFAST OK - 110 TCP sockets, 100 established, 7 time_wait | "))
      << line;
  EXPECT_NE(line.find(" established=100;50000;;0 "), std::string::npos) << line;
  EXPECT_NE(line.find(" syn_recv=3;;1000;0 "), std::string::npos) << line;
  EXPECT_NE(line.find(" orphan=2;;;0"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos) << "one line";

  const check_verdict warning = evaluate(warn, crit, metrics_of(60000, 3));
  EXPECT_EQ(warning.status, plugin_status::warning);
  EXPECT_TRUE(
      warning.line.starts_with("SSFAST WARNING - established 60000 (warning range 50000) | "))
      << warning.line;

  const check_verdict critical = evaluate(warn, crit, metrics_of(60000, 5000));
  EXPECT_EQ(critical.status, plugin_status::critical) << "critical wins over warning";
  EXPECT_TRUE(
      critical.line.starts_with("SSFAST CRITICAL - syn_recv 5000 (critical range 1000), "
                                "established 60000 (warning range 50000) | "))
      << critical.line;
}

TEST(CheckVerdict, UnknownMetricIsUnknownNamingIt) {
  std::vector<threshold> warn;
  ASSERT_EQ(parse_thresholds("establised=10", warn), "");
  const auto [status, line] = evaluate(warn, {}, metrics_of(1, 0));
  EXPECT_EQ(status, plugin_status::unknown);
  EXPECT_TRUE(line.starts_with("SSFAST UNKNOWN - no metric 'establised'")) << line;
}

TEST(CheckVerdict, CountersOnlyWhenRead) {
  socket_summary s;
  const auto without = check_metrics(s, nullptr);
  for (const auto& [name, v] : without) EXPECT_NE(name, "orphan");
  s.scope.udp = false;
  for (const auto& [name, v] : check_metrics(s, nullptr)) EXPECT_NE(name, "udp");
}

// --- HTTP ---------------------------------------------------------------------------------

TEST(HttpRequest, PrometheusScrape) {
  const std::string_view in =
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9477\r\nUser-Agent: Prometheus/2.42.0\r\n"
      "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n"
      "Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\nGET /next";
  http_request r;
  ASSERT_EQ(parse_http_request(in, r), http_parse::complete);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/metrics");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(in.substr(r.size), "GET /next") << "a pipelined request stays in the buffer";
  EXPECT_TRUE(needs_metrics(r));
  EXPECT_EQ(r.scrape_timeout, 10) << "the scraper's timeout, for the collection's deadline";
}

TEST(HttpRequest, OnlyANumberIsAScrapeTimeout) {
  for (const auto& [value, seconds] : std::vector<std::pair<std::string, double>>{{"9.5", 9.5},
                                                                                  {"  3 ", 3},
                                                                                  {"0", 0},
                                                                                  {"-1", 0},
                                                                                  {"10s", 0},
                                                                                  {"inf", 0},
                                                                                  {"nan", 0},
                                                                                  {"", 0},
                                                                                  {"1e400", 0}}) {
    http_request r;
    const std::string in =
        "GET /metrics HTTP/1.1\r\nX-Prometheus-Scrape-Timeout-Seconds: " + value + "\r\n\r\n";
    ASSERT_EQ(parse_http_request(in, r), http_parse::complete) << value;
    EXPECT_EQ(r.scrape_timeout, seconds) << value;
  }
}

TEST(HttpRequest, IncompleteUntilTheEmptyLine) {
  const std::string full = "GET /metrics HTTP/1.0\nConnection: keep-alive\n\n";
  for (std::size_t n = 0; n < full.size(); ++n) {
    http_request r;
    EXPECT_EQ(parse_http_request(std::string_view(full).substr(0, n), r), http_parse::incomplete)
        << n;
  }
  http_request r;
  ASSERT_EQ(parse_http_request(full, r), http_parse::complete) << "bare LF accepted";
  EXPECT_FALSE(r.keep_alive) << "HTTP/1.0 closes";
  EXPECT_EQ(r.size, full.size());
}

TEST(HttpRequest, ConnectionCloseQueryStringAndHead) {
  http_request r;
  ASSERT_EQ(
      parse_http_request("HEAD /metrics?x=1 HTTP/1.1\r\nconnection: Upgrade, CLOSE\r\n\r\n", r),
      http_parse::complete);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_TRUE(needs_metrics(r));
  ASSERT_EQ(parse_http_request("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", r),
            http_parse::complete);
  EXPECT_FALSE(needs_metrics(r)) << "routed to 405";
  ASSERT_EQ(parse_http_request("GET /metricsx HTTP/1.1\r\n\r\n", r), http_parse::complete);
  EXPECT_FALSE(needs_metrics(r));
}

TEST(HttpRequest, MalformedOrWithABodyIsBad) {
  for (std::string_view bad : {
           "GET /metrics\r\n\r\n",                                      // no version
           "GET  /metrics HTTP/1.1\r\n\r\n",                            // double space
           "GET /metrics HTTP/2.0\r\n\r\n",                             // not 1.x
           "GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n",                 // space before colon
           "GET /metrics HTTP/1.1\r\nno colon\r\n\r\n",                 // not a field
           "POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde",  // a body
           "POST /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
           "G\x01T / HTTP/1.1\r\n\r\n",
           "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  // TLS ClientHello: bad at once
       }) {
    http_request r;
    EXPECT_EQ(parse_http_request(bad, r), http_parse::bad) << bad;
  }
}

// RFC 9110 5.5: a field value with CR, LF, NUL or a control other than HTAB is invalid; RFC
// 9112 2.2: so is a bare CR anywhere in the head (a proxy in front may split on it).
TEST(HttpRequest, ControlCharactersInTheHeadAreBad) {
  using namespace std::string_literals;
  for (const std::string& bad : {
           "GET /metrics HTTP/1.1\r\nX-A: a\rX-Injected: 1\r\n\r\n"s,  // bare CR
           "GET /metrics HTTP/1.1\r\nX-A: a\r\r\n\r\n"s,               // CR CR LF
           "GET /metrics HTTP/1.1\r\nX-A: a\0b\r\n\r\n"s,              // NUL
           "GET /metrics HTTP/1.1\r\nX-A: \x1b[2J\r\n\r\n"s,           // ESC
           "GET /metrics HTTP/1.1\r\nX-A: a\x7f\r\n\r\n"s,             // DEL
           "GET /met\rrics HTTP/1.1\r\n\r\n"s,                         // in the request line
           "GET /metrics HTTP/1.1\rHost: x\r\n\r\n"s,
       }) {
    http_request r;
    EXPECT_EQ(parse_http_request(bad, r), http_parse::bad) << bad;
  }
  http_request r;
  EXPECT_EQ(parse_http_request("GET /metrics HTTP/1.1\r\nX-A: a\tb\xc3\xa9\r\n\r\n", r),
            http_parse::complete)
      << "HTAB and obs-text are allowed in a value";
}

TEST(HttpResponse, LengthAndConnectionHeaders) {
  std::string out;
  http_response(out, 503, "text/plain", "busy\n", {.extra_headers = "Retry-After: 1\r\n"});
  EXPECT_EQ(out,
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
            "Connection: close\r\nRetry-After: 1\r\n\r\nbusy\n");
  out.clear();
  http_response(out, 200, "text/plain", "abc", {.keep_alive = true, .head_only = true});
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
            "Connection: keep-alive\r\n\r\n")
      << "HEAD: the length of the body it would send, no body";
}

// The refusals the server sends for an HTTP handler: one text for every handler.
TEST(HttpResponse, TooLargeAndBusy) {
  EXPECT_EQ(http_too_large(),
            "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; "
            "charset=utf-8\r\nContent-Length: 27\r\nConnection: close\r\n\r\nssfast: request "
            "over 8 KiB\n");
  EXPECT_EQ(http_busy("down: too many connections\n", "Cache-Control: no-store\r\n"),
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 27\r\nConnection: close\r\nRetry-After: 1\r\nCache-Control: "
            "no-store\r\n\r\ndown: too many connections\n");
}

TEST(ListenAddress, Forms) {
  std::string addr, err;
  std::uint16_t port = 0;
  ASSERT_TRUE(parse_listen("127.0.0.1:9477", addr, port, err));
  EXPECT_EQ(addr, "127.0.0.1");
  EXPECT_EQ(port, 9477);
  ASSERT_TRUE(parse_listen("[::1]:0", addr, port, err));
  EXPECT_EQ(addr, "::1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(parse_listen(":80", addr, port, err));
  EXPECT_EQ(addr, "") << "no address: every address, as node_exporter's :9100";
  EXPECT_FALSE(parse_listen("127.0.0.1", addr, port, err));
  EXPECT_FALSE(parse_listen("127.0.0.1:65536", addr, port, err));
  EXPECT_EQ(err, "'65536' is not a port");
  EXPECT_FALSE(parse_listen("127.0.0.1:x", addr, port, err));
}

TEST(HttpRequest, EveryHandlerBeginsItsAnswerAlike) {
  http_request r;
  std::string head;
  bool close = false;
  http_begin b = begin_http_answer("GET /ready HTTP/1.1\r\nHost: x", r, head, close);
  EXPECT_EQ(b.used, 0u) << "not complete yet";
  EXPECT_FALSE(b.route);
  EXPECT_EQ(head, "");
  const std::string bad = "GET /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
  b = begin_http_answer(bad, r, head, close);
  EXPECT_EQ(b.used, bad.size()) << "nothing after a body can be trusted";
  EXPECT_TRUE(head.starts_with("HTTP/1.1 400 ")) << head;
  EXPECT_TRUE(close);
  head.clear();
  const std::string post = "POST /ready HTTP/1.1\r\nHost: x\r\n\r\nGET";
  b = begin_http_answer(post, r, head, close, "Cache-Control: no-store\r\n");
  EXPECT_EQ(b.used, post.size() - 3) << "the head alone: a pipelined request follows";
  EXPECT_FALSE(b.route);
  EXPECT_TRUE(head.starts_with("HTTP/1.1 405 ")) << head;
  EXPECT_NE(head.find("\r\nAllow: GET, HEAD\r\nCache-Control: no-store\r\n"), std::string::npos);
  EXPECT_FALSE(close) << "HTTP/1.1 keeps the connection";
  head.clear();
  b = begin_http_answer("HEAD /ready HTTP/1.0\r\n\r\n", r, head, close);
  EXPECT_TRUE(b.route);
  EXPECT_EQ(r.method, "HEAD");
  EXPECT_TRUE(close) << "HTTP/1.0";
  EXPECT_EQ(head, "") << "routed: nothing written";
}

// --- agent --------------------------------------------------------------------------------

// The verdict and the agent-check line for a state judged by `rules`.
std::string judged(service_state s, const service_rules& rules, std::int64_t age_ms = 0) {
  judge_service(s, rules);
  return agent_reply(s, age_ms);
}

TEST(AgentReply, DownDrainAndWeight) {
  service_rules rules;
  service_state s;
  begin_service(s, 8080);
  EXPECT_EQ(judged(s, rules, 12), "down #no listener on port 8080; age 12 ms\n");
  s.listeners = 2;
  s.fullest = {2, {127, 0, 0, 1}, 0, 256};
  EXPECT_EQ(judged(s, rules), "up ready 100% #age 0 ms\n") << "no limit: full weight";
  s.fullest.accept_queue = 230;  // 0.898 of 256
  EXPECT_EQ(judged(s, rules), "up ready 100% #age 0 ms\n");
  s.fullest.accept_queue = 231;  // 0.902
  EXPECT_EQ(judged(s, rules, 7),
            "up drain #accept queue of 127.0.0.1:8080: 231 of backlog 256; age 7 ms\n");
  rules.drain_queue = 1;
  EXPECT_EQ(judged(s, rules), "up ready 100% #age 0 ms\n");
  s.fullest.accept_queue = 257;  // past the backlog: the kernel drops SYNs now
  EXPECT_EQ(judged(s, rules),
            "up drain #accept queue of 127.0.0.1:8080: 257 of backlog 256; age 0 ms\n");
  rules.backlog_known = false;  // from /proc: Send-Q of a listener is 0, not its backlog
  EXPECT_EQ(judged(s, rules), "up ready 100% #age 0 ms\n");
  rules.backlog_known = true;
  s.fullest.accept_queue = 0;
  s.fullest.backlog = 0;  // listen(fd, 0): nothing queued yet is not full
  EXPECT_EQ(judged(s, rules), "up ready 100% #age 0 ms\n");

  rules.max_established = 1000;
  s.established = 999;
  EXPECT_EQ(judged(s, rules), "up ready 100% #age 0 ms\n")
      << "ESTABLISHED not counted: the limit cannot be judged, and is not";
  s.established_counted = true;
  s.established = 0;
  EXPECT_EQ(judged(s, rules), "up ready 100% #age 0 ms\n");
  s.established = 250;
  EXPECT_EQ(judged(s, rules), "up ready 75% #age 0 ms\n");
  s.established = 999;
  EXPECT_EQ(judged(s, rules), "up ready 1% #age 0 ms\n") << "never 0% while below the limit";
  s.established = 1000;
  EXPECT_EQ(judged(s, rules), "up drain #ESTABLISHED 1000 of max-established 1000; age 0 ms\n");
  EXPECT_EQ(agent_reply_unknown(), "down #no measurement\n");
}

TEST(AgentReply, ReasonsFitTheirFieldAndNameIpv6) {
  service_state s;
  begin_service(s, 65535);
  s.listeners = 1;
  s.fullest = {10, {}, 4294967295u, 4294967295u};
  s.fullest.address.fill(0xff);
  judge_service(s, {});
  EXPECT_EQ(s.verdict, service_verdict::drain);
  EXPECT_EQ(s.reason_text(),
            "accept queue of [ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535: 4294967295 of "
            "backlog 4294967295")
      << "the longest reason fits its 128 bytes";
  EXPECT_EQ(s.weight, 0);
  s.fullest.accept_queue = 0;
  judge_service(s, {});
  EXPECT_EQ(s.verdict, service_verdict::ready);
  EXPECT_EQ(s.reason_text(), "") << "a reason left from an earlier verdict is cleared";
  EXPECT_EQ(s.weight, 100);
}

TEST(AgentReply, AgentSendNamesAPort) {
  EXPECT_EQ(agent_send_port("8080\n"), 8080);
  EXPECT_EQ(agent_send_port(" 443\r\n"), 443);
  EXPECT_EQ(agent_send_port("65535"), 65535);
  for (std::string_view bad :
       {"", "\n", "0", "65536", "+80", "-80", "80 81", "http", "8080x", "99999999999999999999"})
    EXPECT_FALSE(agent_send_port(bad)) << bad;
  EXPECT_EQ(agent_reply_unnamed(""), "down #agent-send must name a port\n");
  EXPECT_EQ(agent_reply_unnamed("9999\n"), "down #port 9999 is not served by this agent\n");
}

TEST(Readiness, StatusesAsEachProberReadsThem) {
  service_state s;
  begin_service(s, 8080);
  judge_service(s, {});
  readiness r = readiness_of(s, false);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "down: no listener on port 8080\n");
  EXPECT_FALSE(r.degraded);
  s.listeners = 1;
  s.fullest = {2, {}, 5, 4};
  judge_service(s, {});
  r = readiness_of(s, false);
  EXPECT_EQ(r.status, 429) << "Consul's warning; not ready to Kubernetes";
  EXPECT_EQ(r.body, "drain: accept queue of 0.0.0.0:8080: 5 of backlog 4\n");
  EXPECT_TRUE(r.degraded);
  EXPECT_EQ(readiness_of(s, true).status, 404) << "?drain=404: HAProxy's disable-on-404";
  s.fullest.accept_queue = 0;
  s.established_counted = true;
  s.established = 50;
  judge_service(s, {.max_established = 200});
  r = readiness_of(s, true);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ready 75%\n");
  EXPECT_EQ(readiness_unknown().status, 503);
  EXPECT_EQ(readiness_unknown().body, "down: no measurement\n");
}

TEST(Readiness, Targets) {
  EXPECT_EQ(parse_ready_target("/ready").kind, ready_target::one_service);
  ready_target t = parse_ready_target("/ready/8080?drain=404");
  EXPECT_EQ(t.kind, ready_target::one_port);
  EXPECT_EQ(t.port, 8080);
  EXPECT_TRUE(t.drain_as_404);
  t = parse_ready_target("/ready?x=1&drain=404&y");
  EXPECT_EQ(t.kind, ready_target::one_service);
  EXPECT_TRUE(t.drain_as_404);
  EXPECT_FALSE(parse_ready_target("/ready/80?drain=4040").drain_as_404);
  for (std::string_view bad :
       {"/", "/ready/", "/ready/0", "/ready/65536", "/ready/+80", "/ready/80/", "/readyz",
        "/ready/080x", "/metrics", "ready/80", "/ready/000080", "/ready/080", "/ready/ 80"})
    EXPECT_EQ(parse_ready_target(bad).kind, ready_target::none) << bad;
}

TEST(AgentMeasure, JudgesEachListenerByItsOwnQueue) {
  socket_table t;
  auto add = [&](std::uint8_t proto, tcp_state st, std::uint16_t lport, std::uint32_t rq,
                 std::uint32_t sq) {
    socket_row r;
    r.family = 2;
    r.protocol = proto;
    r.state = static_cast<std::uint8_t>(st);
    r.local_port = lport;
    r.recv_q = rq;
    r.send_q = sq;
    t.append(r);
  };
  add(6, tcp_state::listen, 8080, 3, 128);
  add(6, tcp_state::listen, 8080, 5, 4);  // SO_REUSEPORT sibling, or the IPv6 one: full
  add(6, tcp_state::listen, 9090, 100, 100);
  add(6, tcp_state::established, 8080, 0, 0);
  add(6, tcp_state::established, 8080, 0, 0);
  add(6, tcp_state::time_wait, 8080, 0, 0);
  add(6, tcp_state::established, 9090, 0, 0);
  add(17, tcp_state::close, 8080, 0, 0);  // UDP on the same number
  service_state s;
  measure_service(t, 8080, s);
  EXPECT_EQ(s.listeners, 2u);
  EXPECT_EQ(s.fullest.accept_queue, 5u) << "not 8 of 132: each queue is its own";
  EXPECT_EQ(s.fullest.backlog, 4u);
  EXPECT_EQ(s.established, 2u);
  EXPECT_TRUE(s.established_counted);
  EXPECT_EQ(judged(s, {}), "up drain #accept queue of 0.0.0.0:8080: 5 of backlog 4; age 0 ms\n");
}

}  // namespace
}  // namespace ssfast::serve
