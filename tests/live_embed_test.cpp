// SPDX-License-Identifier: Apache-2.0
// Embedding: the C API against the C++ API on the scenario, and a collector watching another
// network namespace (a child process's) from outside it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include "ssfast/serve/agent_server.h"
#include "ssfast/serve/exporter.h"
#include "ssfast/ssfast_c.h"
#include "support/background.h"
#include "support/live_fixture.h"

namespace ssfast {
namespace {

TEST_F(LiveNamespace, CApiCountsWhatTheCppApiCounts) {
  ssfast_collector* c = ssfast_open(nullptr);
  ASSERT_NE(c, nullptr) << std::strerror(errno);
  ssfast_counts counts{};
  counts.size = sizeof counts;
  ASSERT_EQ(ssfast_count(c, &counts), 0);
  EXPECT_EQ(counts.source, static_cast<std::uint32_t>(SSFAST_SOURCE_NETLINK));
  const state_counts all = got_.tcp_all();
  for (tcp_state s : netstat_states) {
    const auto i = static_cast<std::size_t>(s);
    EXPECT_EQ(counts.tcp_states[i], all.netstat_count(s))
        << netstat_name(static_cast<std::uint8_t>(s));
    EXPECT_EQ(counts.tcp4_states[i], got_.tcp[0].netstat_count(s));
    EXPECT_EQ(counts.tcp6_states[i], got_.tcp[1].netstat_count(s));
  }
  EXPECT_EQ(counts.udp_total, got_.udp_all().total());
  EXPECT_EQ(counts.udp_connected, got_.udp_all()[tcp_state::established]);
  EXPECT_EQ(counts.unix_total, got_.unix_domain.total());
  EXPECT_EQ(counts.unix_seqpacket, got_.unix_domain.by_type[5]);
  ssfast_close(c);

  ssfast_options proc{};
  proc.size = sizeof proc;
  proc.source = SSFAST_SOURCE_PROC;
  ssfast_collector* p = nullptr;
  ASSERT_EQ(ssfast_open2(&proc, &p), 0);
  ssfast_counts from_proc{};
  from_proc.size = sizeof from_proc;
  ASSERT_EQ(ssfast_count(p, &from_proc), 0);
  EXPECT_EQ(from_proc.source, static_cast<std::uint32_t>(SSFAST_SOURCE_PROC));
  EXPECT_EQ(std::vector<std::uint64_t>(from_proc.tcp_states, from_proc.tcp_states + 16),
            std::vector<std::uint64_t>(counts.tcp_states, counts.tcp_states + 16));
  ssfast_close(p);
}

// A probe of one service through the APIs: the kernel filters, and the counts are those of a
// listing of the same query.
TEST_F(LiveNamespace, FilteredCountsInBothApis) {
  const std::string_view words[] = {"( sport >= :1024 and dport >= :1024 )"};
  auto parsed = parse_filter(words);
  ASSERT_TRUE(parsed.filter) << parsed.error;
  const socket_query q = query_of(*parsed.filter, {}, abi::tcp_all_states);
  socket_summary counted;
  ASSERT_FALSE(collector_->count(counted, q)) << collector_->error_context();
  socket_table listed;
  ASSERT_FALSE(collector_->list(listed, q));
  std::array<state_counts, 2> tcp{};
  std::uint64_t udp = 0;
  for (std::size_t i = 0; i < listed.size(); ++i) {
    if (listed.protocol()[i] == IPPROTO_TCP)
      ++tcp[listed.family()[i] == AF_INET6 ? 1 : 0][listed.state()[i]];
    else if (listed.protocol()[i] == IPPROTO_UDP)
      ++udp;
  }
  EXPECT_EQ(counted.tcp, tcp);
  EXPECT_EQ(counted.udp_all().total(), udp);
  EXPECT_GT(counted.tcp_all().total(), 0u);
  EXPECT_LT(counted.tcp_all().total(), got_.tcp_all().total()) << "the listeners are out";
  EXPECT_EQ(counted.unix_domain.total(), 0u) << "ports match no UNIX socket";

  ssfast_collector* c = ssfast_open(nullptr);
  ASSERT_NE(c, nullptr);
  ssfast_counts n{};
  n.size = sizeof n;
  ASSERT_EQ(ssfast_count_filtered(c, "( sport >= :1024 and dport >= :1024 )", &n), 0);
  const state_counts all = counted.tcp_all();
  for (tcp_state st : netstat_states)
    EXPECT_EQ(n.tcp_states[static_cast<std::size_t>(st)], all.netstat_count(st))
        << netstat_name(static_cast<std::uint8_t>(st));
  EXPECT_EQ(n.udp_total, udp);
  ssfast_counts l{};
  l.size = sizeof l;
  ASSERT_EQ(ssfast_count_filtered(c, "state listening", &l), 0);
  EXPECT_EQ(l.tcp_states[static_cast<std::size_t>(tcp_state::listen)],
            got_.tcp_all()[tcp_state::listen]);
  EXPECT_EQ(l.tcp_states[static_cast<std::size_t>(tcp_state::established)], 0u);
  EXPECT_EQ(ssfast_count_filtered(c, "sport = = :1", &l), SSFAST_EBADFILTER);
  EXPECT_EQ(ssfast_count_filtered(c, "dst localhost", &l), SSFAST_EBADFILTER)
      << "names are not resolved inside a probe";
  EXPECT_EQ(ssfast_count_filtered(c, nullptr, &l), -EINVAL);
  EXPECT_STREQ(ssfast_strerror(SSFAST_EBADFILTER), errc_message(14));
  ssfast_close(c);
}

// A TCP listing over parallel port slices (forced here: the scenario is too small to split
// on its own) hands over the same sockets as one dump, each once, to one sink call at a time.
TEST_F(LiveNamespace, ParallelListingListsWhatOneDumpLists) {
  collector_options o;
  o.threads = 3;
  auto split = collector::open(o);
  ASSERT_TRUE(split) << split.error().message();
  socket_query q;
  q.scope.udp = q.scope.unix_domain = false;
  struct collecting final : row_sink {
    std::multiset<std::tuple<std::uint8_t, address_bytes, std::uint16_t, address_bytes,
                             std::uint16_t, std::uint8_t>>
        rows;
    std::atomic<int> inside{0};
    bool overlapped = false;
    bool other_thread = false;  // a call from a slice's own thread: the split happened
    const std::thread::id caller = std::this_thread::get_id();
    std::error_code on_rows(const socket_table& t) noexcept override {
      overlapped |= inside.fetch_add(1) != 0;
      other_thread |= std::this_thread::get_id() != caller;
      for (std::size_t i = 0; i < t.size(); ++i)
        rows.insert({t.family()[i], t.local_addr()[i], t.local_port()[i], t.peer_addr()[i],
                     t.peer_port()[i], t.state()[i]});
      inside.fetch_sub(1);
      return {};
    }
  };
  bool split_seen = false;
  auto quiet_listing = [&](collector& c) {
    collecting sink;
    EXPECT_FALSE(c.list(q, sink)) << c.error_context();
    EXPECT_FALSE(sink.overlapped) << "two sink calls at once";
    if (&c == &*split) split_seen |= sink.other_thread;
    return sink.rows;
  };
  expect_equal_when_quiet([&] { return quiet_listing(*split); },
                          [&] { return quiet_listing(*collector_); }, "3 slices vs one dump");
  EXPECT_TRUE(split_seen) << "rows came from the slices' threads: the listing was split";
  EXPECT_EQ(quiet_listing(*split).size(), got_.tcp_all().total());
  // A sink's error stops the listing and comes back.
  struct refusing final : row_sink {
    std::error_code on_rows(const socket_table&) noexcept override {
      return std::make_error_code(std::errc::io_error);
    }
  } refuse;
  EXPECT_EQ(split->list(q, refuse), std::errc::io_error);
}

// An embedder serves /metrics and answers agent-checks with serve/'s handlers, no CLI: the
// handlers driven directly, as serve()'s loop drives them.
TEST_F(LiveNamespace, ServeHandlersWithoutTheCli) {
  auto c = collector::open();
  ASSERT_TRUE(c) << c.error().message();
  std::vector<std::string> logged;
  serve::metrics_exporter exporter(*c, summary_request{},
                                   [&](std::string_view l) { logged.emplace_back(l); });
  const std::string get = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  serve::answer first, second, third;
  exporter.on_round();
  EXPECT_EQ(exporter.on_input(get, first), get.size());
  EXPECT_EQ(exporter.on_input(get, second), get.size());
  EXPECT_FALSE(first.close_after) << "HTTP/1.1 keeps the connection";
  EXPECT_EQ(first.head.rfind("HTTP/1.1 200 ", 0), 0u) << first.head;
  ASSERT_NE(first.body, nullptr);
  EXPECT_NE(first.head.find("\r\nContent-Length: " + std::to_string(first.body->size()) + "\r\n"),
            std::string::npos)
      << first.head;
  EXPECT_NE(first.body->find("\nssfast_tcp_sockets{family=\"ipv4\",state=\"established\"} "),
            std::string::npos);
  EXPECT_NE(first.body->find("\nssfast_exporter_collections_total 1\n"), std::string::npos);
  EXPECT_EQ(first.body, second.body) << "scrapes waiting together share one body, not copies";
  exporter.on_round();
  exporter.on_input(get, third);
  ASSERT_NE(third.body, nullptr);
  EXPECT_NE(third.body, first.body) << "a new collection, a new body";
  EXPECT_NE(third.body->find("\nssfast_exporter_collections_total 2\n"), std::string::npos);
  EXPECT_NE(third.body->find("\nssfast_exporter_scrapes_total 3\n"), std::string::npos);
  EXPECT_NE(first.body->find("\nssfast_exporter_collections_total 1\n"), std::string::npos)
      << "an answer still being sent keeps its body unchanged";
  serve::answer head_only;
  exporter.on_input("HEAD /metrics HTTP/1.1\r\n\r\n", head_only);
  EXPECT_EQ(head_only.body, nullptr) << "HEAD: the head alone";
  EXPECT_TRUE(logged.empty());

  // A listener of our own on a port nothing else uses, with an empty accept queue.
  const int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(l, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(l, 4), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(getsockname(l, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::uint16_t port = ntohs(a.sin_port);
  // The agent: a monitor measures on its thread (the collector is its alone from here on),
  // the handlers answer from its latest measurement.
  serve::monitor_options mo;
  mo.services = {{port, {}}};
  mo.max_age = std::chrono::milliseconds(20);
  serve::service_monitor monitor(*c, mo);
  ASSERT_FALSE(monitor.start());
  serve::agent_check_handler agent(monitor);
  serve::answer answer;
  agent.on_open(answer);
  EXPECT_TRUE(answer.close_after);
  EXPECT_EQ(answer.head.rfind("up ready 100% #age ", 0), 0u) << answer.head;
  serve::readiness_handler http(monitor);
  const std::string ready = "GET /ready HTTP/1.0\r\n\r\n";
  answer = {};
  EXPECT_EQ(http.on_input(ready, answer), ready.size());
  EXPECT_EQ(answer.head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer.head;
  EXPECT_TRUE(answer.close_after) << "HTTP/1.0";
  ::close(l);
  // The next measurement, within a few max-ages, sees the listener gone.
  const std::string down = "down #no listener on port " + std::to_string(port) + "; age ";
  for (int i = 0; i < 500 && answer.head.rfind(down, 0) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    answer = {};
    agent.on_open(answer);
  }
  EXPECT_EQ(answer.head.rfind(down, 0), 0u) << answer.head;
}

// A listener on loopback with `backlog`, `queued` connections waiting in its accept queue.
struct queued_listener {
  int fd = -1;
  std::uint16_t port = 0;
  std::vector<int> clients;
  queued_listener(int backlog, int queued) {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        listen(fd, backlog) != 0)
      return;
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    for (int i = 0; i < queued; ++i) connect_one();
  }
  void connect_one() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cfd >= 0 && connect(cfd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0)
      clients.push_back(cfd);
  }
  ~queued_listener() {
    for (const int c : clients) ::close(c);
    if (fd >= 0) ::close(fd);
  }
};

// The probe API: listeners alone unless a rule needs ESTABLISHED, measurements shared within
// max_age, concurrent callers, and the C record.
TEST_F(LiveNamespace, ProbeApiJudgesAServiceAsTheAgentDoes) {
  auto c = collector::open();
  ASSERT_TRUE(c) << c.error().message();
  queued_listener q(2, 3);  // a backlog of 2 holds 3 (sk_acceptq_is_full: more than backlog)
  ASSERT_NE(q.port, 0);
  ASSERT_EQ(q.clients.size(), 3u);
  service_state s;
  ASSERT_FALSE(c->service(q.port, {}, s));
  EXPECT_TRUE(s.backlog_known);
  EXPECT_EQ(s.port, q.port);
  EXPECT_EQ(s.listeners, 1u);
  EXPECT_EQ(s.fullest.accept_queue, 3u);
  EXPECT_EQ(s.fullest.backlog, 2u);
  EXPECT_FALSE(s.established_counted) << "no rule needs ESTABLISHED: the listening hash alone";
  EXPECT_EQ(s.established, 0u);
  EXPECT_EQ(s.verdict, service_verdict::drain);
  EXPECT_EQ(s.reason_text(),
            "accept queue of 127.0.0.1:" + std::to_string(q.port) + ": 3 of backlog 2");

  const service_rules limited{.max_established = 4, .drain_queue = 1};
  ASSERT_FALSE(c->service(q.port, limited, s));
  EXPECT_TRUE(s.established_counted);
  EXPECT_EQ(s.established, 3u) << "the queued connections are ESTABLISHED on the port";
  EXPECT_EQ(s.verdict, service_verdict::drain) << "3 of a backlog of 2 is past 1 x backlog";

  // Within max_age, an answer comes from the last measurement; with 0, from a new one.
  queued_listener other(16, 1);
  ASSERT_NE(other.port, 0);
  service_state first, shared, fresh;
  ASSERT_FALSE(c->service(other.port, limited, first, std::chrono::seconds(60)));
  EXPECT_EQ(first.established, 1u);
  EXPECT_EQ(first.verdict, service_verdict::ready);
  EXPECT_EQ(first.weight, 75);
  other.connect_one();
  ASSERT_FALSE(c->service(other.port, limited, shared, std::chrono::seconds(60)));
  EXPECT_EQ(shared.measured_at_ns, first.measured_at_ns) << "one measurement, shared";
  EXPECT_EQ(shared.established, 1u);
  ASSERT_FALSE(c->service(other.port, {.max_established = 2}, shared, std::chrono::seconds(60)));
  EXPECT_EQ(shared.measured_at_ns, first.measured_at_ns) << "judged again by the rules given";
  EXPECT_EQ(shared.weight, 50);
  ASSERT_FALSE(c->service(other.port, limited, fresh));
  EXPECT_GT(fresh.measured_at_ns, first.measured_at_ns);
  EXPECT_EQ(fresh.established, 2u);
  EXPECT_EQ(fresh.weight, 50);

  // Several at once: one listening dump, one walk for the limited port only.
  const service_probe probes[] = {{q.port, {}}, {other.port, limited}, {1, {}}};
  service_state out[3];
  ASSERT_FALSE(c->services(probes, out));
  EXPECT_EQ(out[0].listeners, 1u);
  EXPECT_FALSE(out[0].established_counted);
  EXPECT_EQ(out[1].established, 2u);
  EXPECT_EQ(out[2].verdict, service_verdict::down);
  EXPECT_EQ(out[2].reason_text(), "no listener on port 1");
  EXPECT_EQ(c->services(probes, std::span<service_state>(out, 2)), std::errc::invalid_argument);
  EXPECT_EQ(c->service(0, {}, s), std::errc::invalid_argument);

  // Concurrent callers: every answer whole, none failed.
  std::atomic<int> bad{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        service_state mine;
        const std::uint16_t port = (i + t) % 2 ? q.port : other.port;
        if (c->service(port, limited, mine, std::chrono::milliseconds(1)) || mine.port != port ||
            mine.listeners != 1 || mine.established != (port == q.port ? 3u : 2u))
          ++bad;
      }
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(bad.load(), 0);

  // The C API: the same answer in its record.
  ssfast_collector* cc = ssfast_open(nullptr);
  ASSERT_NE(cc, nullptr);
  ssfast_service_status st{};
  st.size = sizeof st;
  ssfast_service_rules rules{};
  rules.size = sizeof rules;
  rules.max_established = 4;
  rules.drain_queue = 1;
  ASSERT_EQ(ssfast_service_state(cc, q.port, &rules, &st), 0);
  EXPECT_EQ(st.size, sizeof st);
  EXPECT_EQ(st.port, q.port);
  EXPECT_EQ(st.verdict, SSFAST_DRAIN);
  EXPECT_EQ(st.listeners, 1u);
  EXPECT_EQ(st.established, 3u);
  EXPECT_EQ(st.established_counted, 1u);
  EXPECT_EQ(st.fullest_family, static_cast<std::uint32_t>(AF_INET));
  EXPECT_EQ(st.fullest_address[0], 127);
  EXPECT_EQ(st.fullest_accept_queue, 3u);
  EXPECT_EQ(st.fullest_backlog, 2u);
  EXPECT_EQ(st.source, static_cast<std::uint32_t>(SSFAST_SOURCE_NETLINK));
  EXPECT_EQ(st.backlog_known, 1u);
  EXPECT_LT(st.age_ns, 60'000'000'000u);
  EXPECT_EQ(std::string(st.reason),
            "accept queue of 127.0.0.1:" + std::to_string(q.port) + ": 3 of backlog 2");
  ASSERT_EQ(ssfast_service_state(cc, other.port, nullptr, &st), 0);
  EXPECT_EQ(st.verdict, SSFAST_READY);
  EXPECT_EQ(st.weight, 100);
  EXPECT_EQ(st.established_counted, 0u) << "no rules: listeners only";
  EXPECT_EQ(std::string(st.reason), "");
  rules.drain_queue = 1.5;
  EXPECT_EQ(ssfast_service_state(cc, q.port, &rules, &st), -EINVAL);
  EXPECT_EQ(ssfast_service_state(cc, 0, nullptr, &st), -EINVAL);
  st.size = SSFAST_SERVICE_STATUS_SIZE_VER1 - 1;
  EXPECT_EQ(ssfast_service_state(cc, q.port, nullptr, &st), -EINVAL);
  struct future_rules {
    ssfast_service_rules v1;
    std::uint64_t later;
  } grown{};
  grown.v1.size = sizeof grown;
  grown.later = 1;
  st.size = sizeof st;
  EXPECT_EQ(ssfast_service_state(cc, q.port, &grown.v1, &st), -E2BIG)
      << "a rule this library does not know is refused, not ignored";
  grown.later = 0;
  EXPECT_EQ(ssfast_service_state(cc, q.port, &grown.v1, &st), 0);
  ssfast_close(cc);

  // From /proc, which shows no backlog: the queue rule is off.
  collector_options po;
  po.source = source_choice::proc;
  auto p = collector::open(po);
  ASSERT_TRUE(p);
  ASSERT_FALSE(p->service(q.port, {}, s));
  EXPECT_EQ(s.listeners, 1u);
  EXPECT_FALSE(s.backlog_known);
  EXPECT_EQ(s.verdict, service_verdict::ready);
}

// No answer from a measurement older than --max-stale: the service is down, "no measurement",
// until measuring works again. A proc root of our own whose net/tcp goes away makes every
// measurement fail.
TEST(AgentMonitor, NoAnswerFromAStaleMeasurement) {
  const auto root =
      std::filesystem::temp_directory_path() / ("ssfast-stale-" + std::to_string(getpid()));
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root / "net");
  const std::string header =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n";
  const std::string tcp =
      header +
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 946283 1 0000000037736328 100 0 0 10 0\n";
  std::ofstream(root / "net" / "tcp") << tcp;
  std::ofstream(root / "net" / "tcp6") << header;
  collector_options o;
  o.source = source_choice::proc;
  o.proc_root = root.string();
  auto c = collector::open(o);
  ASSERT_TRUE(c) << c.error().message();
  serve::monitor_options mo;
  mo.services = {{8080, {}}};
  mo.max_age = std::chrono::milliseconds(20);
  mo.max_stale = std::chrono::milliseconds(100);
  std::vector<std::string> logged;
  std::mutex log_lock;
  mo.log = [&](std::string_view l) {
    std::lock_guard<std::mutex> hold(log_lock);
    logged.emplace_back(l);
  };
  serve::service_monitor monitor(*c, mo);
  ASSERT_FALSE(monitor.start());
  serve::readiness_handler http(monitor);
  serve::agent_check_handler agent(monitor);
  auto ask = [&](serve::answer& a) {
    const std::string get = "GET /ready/8080 HTTP/1.0\r\n\r\n";
    a = {};
    http.on_input(get, a);
  };
  auto wait_for = [&](std::string_view status_line) {
    serve::answer a;
    for (int i = 0; i < 1000; ++i) {
      ask(a);
      if (a.head.starts_with(status_line)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return a;
  };
  serve::answer a = wait_for("HTTP/1.1 200 ");
  EXPECT_TRUE(a.head.starts_with("HTTP/1.1 200 ")) << a.head;
  EXPECT_TRUE(a.head.ends_with("ready 100%\n")) << "from /proc: the listener, no backlog rule";

  std::filesystem::remove(root / "net" / "tcp");
  a = wait_for("HTTP/1.1 503 ");
  EXPECT_TRUE(a.head.ends_with("\r\n\r\ndown: no measurement\n")) << a.head;
  EXPECT_EQ(a.head.find("X-Ssfast-Age-Ms"), std::string::npos) << "no measurement, no age";
  serve::answer line;
  agent.on_open(line);
  EXPECT_EQ(line.head, "down #no measurement\n");

  std::ofstream(root / "net" / "tcp") << tcp;
  a = wait_for("HTTP/1.1 200 ");
  EXPECT_TRUE(a.head.starts_with("HTTP/1.1 200 ")) << a.head;
  {
    std::lock_guard<std::mutex> hold(log_lock);
    ASSERT_GE(logged.size(), 2u);
    EXPECT_TRUE(logged[0].starts_with("agent: measuring failed: ")) << logged[0];
    EXPECT_EQ(logged[1], "agent: measuring again");
  }
  std::filesystem::remove_all(root);
}

// Callers built against other versions of ssfast_c.h: a future header whose structs grew, and
// exactly the first version's sizes.
struct future_options {
  ssfast_options v1;
  std::uint64_t new_flags;  // a field a later version adds
};
struct future_counts {
  ssfast_counts v1;
  std::uint64_t new_totals[4];
};

TEST(CApi, GrowsAsOpenat2Does) {
  EXPECT_EQ(ssfast_abi_version(), static_cast<std::uint32_t>(SSFAST_ABI_VERSION));
  future_options fo{};
  fo.v1.size = sizeof fo;
  fo.v1.source = SSFAST_SOURCE_PROC;
  ssfast_collector* c = nullptr;
  ASSERT_EQ(ssfast_open2(&fo.v1, &c), 0) << "unknown bytes that are zero are fine";
  ASSERT_NE(c, nullptr);
  future_counts fc;
  std::memset(&fc, 0xAB, sizeof fc);
  fc.v1.size = sizeof fc;
  ASSERT_EQ(ssfast_count(c, &fc.v1), 0);
  EXPECT_EQ(fc.v1.size, sizeof(ssfast_counts)) << "the size filled";
  EXPECT_EQ(fc.v1.source, static_cast<std::uint32_t>(SSFAST_SOURCE_PROC));
  for (std::uint64_t v : fc.new_totals) EXPECT_EQ(v, 0xABABABABABABABABu) << "left alone";
  // Exactly the first version's sizes.
  ssfast_counts v1;
  std::memset(&v1, 0xCD, sizeof v1);
  v1.size = SSFAST_COUNTS_SIZE_VER1;
  ASSERT_EQ(ssfast_count(c, &v1), 0);
  EXPECT_EQ(v1.size, static_cast<std::uint32_t>(SSFAST_COUNTS_SIZE_VER1));
  EXPECT_EQ(v1.unix_total, fc.v1.unix_total);
  ssfast_close(c);
  ssfast_options o1{};
  o1.size = SSFAST_OPTIONS_SIZE_VER1;
  o1.source = SSFAST_SOURCE_PROC;
  ASSERT_EQ(ssfast_open2(&o1, &c), 0);
  ssfast_close(c);
  // A newer caller asking for something this version cannot do: refused, not ignored.
  fo.new_flags = 1;
  EXPECT_EQ(ssfast_open2(&fo.v1, &c), -E2BIG);
  EXPECT_EQ(c, nullptr);
  // ssfast_open keeps ssfast's own codes apart from errno values.
  ssfast_options bad_root{};
  bad_root.size = sizeof bad_root;
  bad_root.source = SSFAST_SOURCE_PROC;
  bad_root.proc_root = "/nonexistent-ssfast-root";
  errno = 0;
  ssfast_collector* none = ssfast_open(&bad_root);
  if (none == nullptr) {
    EXPECT_NE(errno, EPROTO);
    EXPECT_STRNE(ssfast_strerror(-errno), "unknown error");
  } else {
    ssfast_close(none);  // this version opens lazily: the error comes at the first count
  }
  EXPECT_STREQ(ssfast_strerror(SSFAST_EFILTER),
               "the filter compiles to more than 65528 bytes of kernel bytecode, the most one "
               "request can carry");
}

TEST(CApi, BadArgumentsAndErrorText) {
  ssfast_counts counts{};
  counts.size = sizeof counts;
  EXPECT_EQ(ssfast_count(nullptr, &counts), -EINVAL);
  ssfast_collector* c = ssfast_open(nullptr);
  ASSERT_NE(c, nullptr);
  ssfast_counts small{};
  small.size = 8;
  EXPECT_EQ(ssfast_count(c, &small), -EINVAL) << "a caller built against a smaller struct";
  EXPECT_EQ(ssfast_count(c, nullptr), -EINVAL);
  ssfast_close(c);
  ssfast_close(nullptr);
  ssfast_options bad{};
  bad.size = sizeof bad;
  bad.source = 9;
  errno = 0;
  EXPECT_EQ(ssfast_open(&bad), nullptr);
  EXPECT_EQ(errno, EINVAL);
  ssfast_options old{};
  old.size = 4;
  EXPECT_EQ(ssfast_open2(&old, &c), -EINVAL);
  ssfast_options missing{};
  missing.size = sizeof missing;
  missing.netns = "/nonexistent/ssfast-netns";
  EXPECT_EQ(ssfast_open2(&missing, &c), -ENOENT);
  EXPECT_EQ(c, nullptr);
  EXPECT_STREQ(ssfast_strerror(0), "success");
  EXPECT_STREQ(ssfast_strerror(-ENOENT), "No such file or directory");
  EXPECT_STREQ(ssfast_strerror(SSFAST_ESEQ), "message answers another request (sequence number)");
  EXPECT_STREQ(ssfast_strerror(SSFAST_EPARSE), "unexpected file format");
  EXPECT_STREQ(ssfast_strerror(-999999), "unknown error");
  EXPECT_STREQ(ssfast_version(), std::string(version()).c_str());
}

// A child process in a network namespace of its own, holding one listener and two connections.
class OtherNamespace : public LiveNamespace {
 protected:
  void SetUp() override {
    LiveNamespace::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    int ready[2], hold[2];
    ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
    ASSERT_EQ(pipe2(hold, O_CLOEXEC), 0);
    child_ = fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
      close(ready[0]);
      close(hold[1]);
      testing::fd_set_guard fds;
      char ok = testing::enter_private_netns().empty() ? 1 : 0;
      if (ok) {
        try {
          testing::build_established(fds, AF_INET, 2);
        } catch (...) {
          ok = 0;
        }
      }
      if (write(ready[1], &ok, 1) != 1) _exit(2);
      char c;
      (void)!read(hold[0], &c, 1);  // until the parent closes its end
      _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    hold_ = hold[1];
    char ok = 0;
    ASSERT_EQ(read(ready[0], &ok, 1), 1);
    close(ready[0]);
    ASSERT_EQ(ok, 1) << "the child could not build its namespace";
    path_ = "/proc/" + std::to_string(child_) + "/ns/net";
  }
  void TearDown() override {
    end_child();
    LiveNamespace::TearDown();
  }
  // The child leaves (its namespace goes with it once nothing else holds it).
  void end_child() {
    if (hold_ >= 0) close(hold_);
    hold_ = -1;
    if (child_ > 0) waitpid(child_, nullptr, 0);
    child_ = -1;
  }
  pid_t child_ = -1;
  int hold_ = -1;
  std::string path_;
};

TEST_F(OtherNamespace, CollectorCountsThatNamespaceFromOutside) {
  collector_options o;
  o.netns = path_;
  auto c = collector::open(o);
  ASSERT_TRUE(c) << c.error().message();
  for (int round = 0; round < 3; ++round) {  // the namespace thread serves every call
    socket_summary s;
    ASSERT_FALSE(c->count(s)) << c->error_context();
    EXPECT_EQ(s.tcp[0][tcp_state::established], 4u);
    EXPECT_EQ(s.tcp[0][tcp_state::listen], 1u);
    EXPECT_EQ(s.tcp_all().total(), 5u) << "none of this process's own scenario sockets";
    EXPECT_EQ(s.unix_domain.total(), 0u);
  }
  // /proc is read through /proc/thread-self: the counters are that namespace's too.
  kernel_counters k;
  ASSERT_FALSE(c->read_counters(k)) << c->error_context();
  EXPECT_EQ(k.tcp_curr_estab, 4);
  socket_table t;
  ASSERT_FALSE(c->list(t, {})) << c->error_context();
  EXPECT_EQ(t.size(), 5u);
  // The /proc source, in that namespace.
  o.source = source_choice::proc;
  auto p = collector::open(o);
  ASSERT_TRUE(p);
  socket_summary ps;
  ASSERT_FALSE(p->count(ps)) << p->error_context();
  EXPECT_EQ(ps.tcp_all().total(), 5u);
  // The caller's own namespace is untouched.
  socket_summary mine;
  auto here = collector::open();
  ASSERT_FALSE(here->count(mine));
  EXPECT_EQ(mine.tcp, got_.tcp);
}

TEST_F(OtherNamespace, CliAndCApiByPidAndPath) {
  const auto r =
      testing::run_process({SSFAST_CLI_PATH, "-s", "-j", "--netns", std::to_string(child_)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["tcp"]["states"]["ESTABLISHED"], 4);
  EXPECT_EQ(j["counters"]["Tcp"]["CurrEstab"], 4);
  const auto l = testing::run_process({SSFAST_CLI_PATH, "-tanH", "--netns", path_});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_EQ(std::count(l.out.begin(), l.out.end(), '\n'), 5);
  ssfast_options o{};
  o.size = sizeof o;
  o.netns = path_.c_str();
  ssfast_collector* c = ssfast_open(&o);
  ASSERT_NE(c, nullptr);
  ssfast_counts counts{};
  counts.size = sizeof counts;
  ASSERT_EQ(ssfast_count(c, &counts), 0);
  EXPECT_EQ(counts.tcp_states[1], 4u);
  ssfast_close(c);
  const auto bad = testing::run_process({SSFAST_CLI_PATH, "-s", "-N", "ssfast-no-such-ns"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err,
            "ssfast: cannot enter network namespace /run/netns/ssfast-no-such-ns: No such file or "
            "directory\n");
}

// Watching a process's namespace by its PID follows the process: once it has exited, the
// library's calls fail process_exited (the namespace would otherwise live on in the
// collector's thread, counting zeros), and every long-running command stops, exit 1.
TEST_F(OtherNamespace, EndsWithTheProcessItWatches) {
  collector_options o;
  o.netns = path_;
  auto c = collector::open(o);
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_GE(c->exit_fd(), 0) << "no pidfd for /proc/PID/ns/net";
  socket_summary s;
  ASSERT_FALSE(c->count(s)) << c->error_context();
  const std::string pid = std::to_string(child_), said = "ssfast: process " + pid + " exited";
  // A pipe gets one line per report; the exporter listens here and counts there.
  testing::background_process watch(
      {"sh", "-c", "exec \"$0\" -s --watch 0.2 --netns \"$1\" 1>&2", SSFAST_CLI_PATH, pid});
  watch.wait_for_line("ESTABLISHED=4");
  testing::background_process top(
      {"sh", "-c", "exec \"$0\" top raddr --watch 0.2 --netns \"$1\" 1>&2", SSFAST_CLI_PATH, pid});
  top.wait_for_line("127.0.0.1");
  testing::background_process exporter(
      {SSFAST_CLI_PATH, "exporter", "--listen", "127.0.0.1:0", "--netns", pid});
  const std::uint16_t port = exporter.wait_for_listening_port();
  {
    testing::tcp_client scrape(port);
    ASSERT_TRUE(scrape.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string response;
    ASSERT_TRUE(scrape.read_http_response(response));
    EXPECT_EQ(testing::http_status(response), 200);
    EXPECT_NE(response.find("ssfast_tcp_sockets{family=\"ipv4\",state=\"established\"} 4\n"),
              std::string::npos)
        << response;
  }
  const std::string textfile = "/tmp/ssfast-exited-" + pid + ".prom";
  // Removed however the test ends: declared before the writer, so after it is stopped.
  const std::unique_ptr<const std::string, void (*)(const std::string*)> remove_textfile(
      &textfile, [](const std::string* f) { ::unlink(f->c_str()); });
  testing::background_process writer(
      {SSFAST_CLI_PATH, "-s", "--textfile", textfile, "--watch", "0.2", "--netns", pid});
  for (int i = 0; i < 3000 && access(textfile.c_str(), F_OK) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(access(textfile.c_str(), F_OK), 0) << writer.stderr_text();

  end_child();
  pollfd p{c->exit_fd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 10000), 1) << "the pidfd never polled readable";
  const std::error_code ec = c->count(s);
  EXPECT_EQ(ec, errc::process_exited);
  EXPECT_EQ(c->error_text(ec), "process " + pid + " exited");
  for (testing::background_process* b : {&watch, &top, &exporter, &writer}) {
    EXPECT_NO_THROW(b->wait_for_line(said));
    EXPECT_EQ(b->wait_exit(), 1) << b->stderr_text();
  }
}

}  // namespace
}  // namespace ssfast
