// The doctor's rules: each finding from its evidence, with the kernel behaviour it rests on.
#include "ssfast/core/doctor.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iterator>

#include "ssfast/core/json_writer.h"
#include "ssfast/core/tcp_state.h"

namespace ssfast {
namespace {

std::string num(std::int64_t v) { return std::to_string(v); }
std::string num(std::uint64_t v) { return std::to_string(v); }

// "12.5" (one decimal), "0.3".
std::string fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string percent(double share) { return fixed1(100.0 * share) + "%"; }

// The change of a counter over the interval; nullopt when either read lacks it.
std::optional<std::int64_t> delta(const doctor_evidence& e, const char* name) {
  const auto a = e.counters_before.find(name), b = e.counters_after.find(name);
  if (a == e.counters_before.end() || b == e.counters_after.end()) return std::nullopt;
  return b->second - a->second;
}

std::int64_t delta_or0(const doctor_evidence& e, const char* name) {
  return std::max<std::int64_t>(0, delta(e, name).value_or(0));
}

std::string per_second(const doctor_evidence& e, std::int64_t d) {
  return fixed1(static_cast<double>(d) / (e.interval_s > 0 ? e.interval_s : 1)) + "/s";
}

std::optional<std::int64_t> counter(const doctor_evidence& e, const char* name) {
  const auto it = e.counters_after.find(name);
  if (it == e.counters_after.end()) return std::nullopt;
  return it->second;
}

std::string opt(const std::optional<std::int64_t>& v) {
  return v ? num(*v) : std::string("unknown");
}

// "sysctl -w net.ipv4.tcp_syncookies=1   # now 0"
std::string sysctl_advice(std::string_view name, const std::string& suggested,
                          const std::string& now, std::string_view why = {}) {
  std::string s = "sysctl -w " + std::string(name) + "=" + suggested + "   # now " + now;
  if (!why.empty()) {
    s += ": ";
    s += why;
  }
  return s;
}

std::string groups_text(const std::vector<keyed_count>& g, std::size_t n = 5) {
  std::string s;
  for (std::size_t i = 0; i < g.size() && i < n; ++i) {
    if (i) s += ", ";
    s += g[i].key + " (" + num(g[i].count) + ")";
  }
  return s;
}

std::uint64_t tcp_in(const doctor_evidence& e, tcp_state st) {
  return e.sockets.tcp_histogram().netstat_count(st);
}

// --- the rules ------------------------------------------------------------------------------

// Thresholds, as the README lists them.
constexpr double tw_warn = 0.8, tw_crit = 0.95;
constexpr double ports_warn = 0.5, ports_crit = 0.9;
constexpr double synq_warn = 0.5, synq_crit = 0.9;
constexpr std::uint64_t synq_min = 8;  // a listen(fd, 1) with one half-open is not a flood
constexpr std::uint64_t syn_recv_without_backlog = 1024;
constexpr double acceptq_warn = 0.9;
constexpr std::uint64_t close_wait_warn = 16, close_wait_crit = 1024;
constexpr std::uint64_t fin_wait2_warn = 256;
constexpr std::int64_t fin_timeout_suggested = 30;
constexpr double orphans_warn = 0.5, orphans_crit = 0.9;
constexpr double retrans_warn = 0.02, retrans_crit = 0.10;
constexpr std::int64_t retrans_min_segments = 100;

void time_wait_buckets(const doctor_evidence& e, std::vector<finding>& out) {
  const auto& max = e.sysctls.tcp_max_tw_buckets;
  if (!max || *max <= 0) return;
  // The limit counts every timewait minisocket (TIME_WAIT and orphaned FIN_WAIT2):
  // sockstat's "tw" is that count (net->ipv4.tcp_death_row.tw_refcount - 1).
  const auto sockstat_tw = counter(e, "TCP.tw");
  const std::uint64_t time_wait = tcp_in(e, tcp_state::time_wait);
  const std::int64_t tw = sockstat_tw ? *sockstat_tw : static_cast<std::int64_t>(time_wait);
  const std::int64_t overflow = delta_or0(e, "TcpExt.TCPTimeWaitOverflow");
  const double share = static_cast<double>(tw) / static_cast<double>(*max);
  if (share < tw_warn && overflow == 0) return;
  finding f;
  f.id = "time_wait_buckets";
  f.level = share >= tw_crit || overflow > 0 ? severity::critical : severity::warning;
  f.summary = num(tw) + " timewait sockets of tcp_max_tw_buckets " + num(*max) + " (" +
              percent(share) + ")" +
              (overflow > 0 ? "; " + num(overflow) + " connections closed without TIME_WAIT"
                            : std::string());
  f.evidence = {{"time_wait", num(time_wait)},
                {"sockstat_tw", opt(sockstat_tw)},
                {"tcp_max_tw_buckets", num(*max)},
                {"TCPTimeWaitOverflow", num(overflow)},
                {"TCPTimeWaitOverflow_per_s", per_second(e, overflow)}};
  f.why =
      "TIME_WAIT is held by the side that closed first, for 60 s (TCP_TIMEWAIT_LEN, fixed in "
      "Linux), so that late segments of the old connection cannot corrupt a new one with the "
      "same addresses and ports. At tcp_max_tw_buckets the kernel stops keeping them: it logs "
      "\"time wait bucket table overflow\" and closes further connections at once, without "
      "that protection.";
  const std::int64_t suggested = std::max<std::int64_t>(*max * 2, tw * 2);
  f.advice = {sysctl_advice("net.ipv4.tcp_max_tw_buckets", num(suggested), num(*max),
                            "a TIME_WAIT socket is a ~200-byte minisocket with no process or "
                            "descriptor: raise the limit rather than shorten the state"),
              "reuse connections (HTTP keep-alive, connection pools) so fewer are opened and "
              "closed; TIME_WAIT stays on the side that closes first, so let clients close "
              "first where the protocol allows"};
  out.push_back(std::move(f));
}

void ephemeral_ports(const doctor_evidence& e, std::vector<finding>& out) {
  const auto& range = e.sysctls.ip_local_port_range;
  if (!range || e.ephemeral_groups.empty()) return;
  const std::int64_t ports = (*range)[1] - (*range)[0] + 1;
  if (ports <= 0) return;
  const keyed_count& top = e.ephemeral_groups.front();
  const double share = static_cast<double>(top.count) / static_cast<double>(ports);
  if (share < ports_warn) return;
  finding f;
  f.id = "ephemeral_ports";
  f.level = share >= ports_crit ? severity::critical : severity::warning;
  f.summary = num(top.count) + " connections " + top.key + " use " + percent(share) +
              " of the " + num(ports) + " local ports in ip_local_port_range";
  f.evidence = {{"busiest", top.key},
                {"connections", num(top.count)},
                {"ip_local_port_range", num((*range)[0]) + " " + num((*range)[1])},
                {"ports", num(ports)},
                {"tcp_tw_reuse", opt(e.sysctls.tcp_tw_reuse)},
                {"time_wait", num(tcp_in(e, tcp_state::time_wait))},
                {"groups", groups_text(e.ephemeral_groups)}};
  f.why =
      "Every outgoing connection takes a local port from ip_local_port_range and holds it until "
      "its TIME_WAIT ends, 60 s after it closed. The kernel reuses a port for other "
      "destinations, but towards one remote address and port each source address has only the "
      "range's ports: when they run out, connect() fails with EADDRNOTAVAIL (\"Cannot assign "
      "requested address\"). This, not TIME_WAIT itself, is what most TIME_WAIT complaints are.";
  if (!e.sysctls.tcp_tw_reuse || *e.sysctls.tcp_tw_reuse != 1)
    f.advice.push_back(sysctl_advice(
        "net.ipv4.tcp_tw_reuse", "1", opt(e.sysctls.tcp_tw_reuse),
        "new outgoing connections may take a port still in TIME_WAIT when TCP timestamps show "
        "it safe (2, the default, allows it on loopback only)"));
  const std::int64_t low = std::min<std::int64_t>((*range)[0], 10000);
  if (low < (*range)[0] || (*range)[1] < 65535)
    f.advice.push_back(sysctl_advice("net.ipv4.ip_local_port_range",
                                     "\"" + num(low) + " 65535\"",
                                     "\"" + num((*range)[0]) + " " + num((*range)[1]) + "\"",
                                     "more ports per destination; keep listeners below the "
                                     "start or list them in ip_local_reserved_ports"));
  f.advice.push_back(
      "reuse connections (keep-alive, pools) instead of one connection per request; or spread "
      "them over more destination addresses or ports, or more source addresses: each "
      "(source, destination) pair has its own set of ports");
  out.push_back(std::move(f));
}

void syn_flood(const doctor_evidence& e, std::vector<finding>& out) {
  const std::uint64_t syn_recv = tcp_in(e, tcp_state::syn_recv);
  const std::int64_t cookies = delta_or0(e, "TcpExt.SyncookiesSent");
  const std::int64_t full_drops = delta_or0(e, "TcpExt.TCPReqQFullDrop");
  // The busiest SYN queue: each listener's request sockets over its own SYN-queue limit
  // (inet_csk_reqsk_queue_is_full: the queue against sk_max_ack_backlog). An IPv4 and an
  // IPv6 listener on one port have a queue each; only SO_REUSEPORT siblings of one address,
  // whose requests cannot be told apart, are judged together.
  const listener_evidence* worst = nullptr;
  double worst_share = 0;
  std::uint64_t port_backlog = 0;
  for (const listener_evidence& l : e.listeners) {
    const std::uint64_t backlog = l.syn_backlog;
    const double share = backlog > 0 ? static_cast<double>(l.syn_recv) / static_cast<double>(backlog)
                         : l.syn_recv > 0 ? 1e9
                                          : 0;
    if (e.backlog_known && l.syn_recv >= synq_min && share > worst_share) {
      worst = &l;
      worst_share = share;
      port_backlog = backlog;
    }
  }
  const bool queue_crit = worst != nullptr && worst_share >= synq_crit;
  const bool queue_warn = worst != nullptr && worst_share >= synq_warn;
  const bool many = !e.backlog_known && syn_recv >= syn_recv_without_backlog;
  const bool overflowing = cookies > 0 || full_drops > 0;
  if (!queue_warn && !many && !overflowing) return;
  finding f;
  f.id = "syn_flood";
  f.level = queue_crit || overflowing ? severity::critical : severity::warning;
  if (worst != nullptr)
    f.summary = "listener " + worst->address + ": " + num(worst->syn_recv) + " of " +
                num(port_backlog) + " SYN-queue slots half-open (" + percent(worst_share) + ")";
  else
    f.summary = num(syn_recv) + " connections half-open (SYN_RECV)";
  if (cookies > 0) f.summary += ", " + per_second(e, cookies) + " SYN cookies sent";
  if (full_drops > 0) f.summary += ", " + per_second(e, full_drops) + " SYNs dropped";
  f.evidence = {{"syn_recv", num(syn_recv)}};
  if (worst != nullptr) {
    f.evidence.emplace_back("listener", worst->address);
    f.evidence.emplace_back("listener_syn_recv", num(worst->syn_recv));
    f.evidence.emplace_back("listener_backlog", num(port_backlog));
  }
  f.evidence.insert(f.evidence.end(),
                    {{"SyncookiesSent_per_s", per_second(e, cookies)},
                     {"TCPReqQFullDrop_per_s", per_second(e, full_drops)},
                     {"TCPReqQFullDoCookies_per_s",
                      per_second(e, delta_or0(e, "TcpExt.TCPReqQFullDoCookies"))},
                     {"ListenDrops_per_s", per_second(e, delta_or0(e, "TcpExt.ListenDrops"))},
                     {"tcp_syncookies", opt(e.sysctls.tcp_syncookies)},
                     {"tcp_max_syn_backlog", opt(e.sysctls.tcp_max_syn_backlog)},
                     {"somaxconn", opt(e.sysctls.somaxconn)},
                     {"tcp_synack_retries", opt(e.sysctls.tcp_synack_retries)},
                     {"top_sources", groups_text(e.syn_recv_sources)}});
  f.why =
      "SYN_RECV is held by the server between answering a SYN with SYN-ACK and receiving the "
      "client's ACK; each half-open connection takes a slot in its listener's SYN queue, whose "
      "limit is the listener's backlog, until the handshake completes or tcp_synack_retries run "
      "out. Spoofed SYNs never complete, so a flood fills the queue and real clients are "
      "refused, unless SYN cookies answer for the full queue.";
  if (!e.sysctls.tcp_syncookies || *e.sysctls.tcp_syncookies == 0)
    f.advice.push_back(sysctl_advice("net.ipv4.tcp_syncookies", "1",
                                     opt(e.sysctls.tcp_syncookies),
                                     "a full SYN queue then answers with cookies instead of "
                                     "dropping SYNs"));
  if (worst != nullptr) {
    const std::int64_t want = std::max<std::int64_t>(4096, 2 * static_cast<std::int64_t>(port_backlog));
    if (e.sysctls.somaxconn && *e.sysctls.somaxconn < want)
      f.advice.push_back(sysctl_advice("net.core.somaxconn", num(want), num(*e.sysctls.somaxconn),
                                       "the cap on every listener's backlog"));
    f.advice.push_back("raise the backlog the application on " + worst->address +
                       " passes to listen() (now " + num(port_backlog) +
                       "; e.g. nginx `listen ... backlog=" + num(want) +
                       "`): it is the SYN queue's limit");
  }
  if (e.sysctls.tcp_synack_retries && *e.sysctls.tcp_synack_retries > 2)
    f.advice.push_back(sysctl_advice("net.ipv4.tcp_synack_retries", "2",
                                     num(*e.sysctls.tcp_synack_retries),
                                     "a half-open slot is freed after about 7 s instead of "
                                     "about 63 s"));
  if (!e.syn_recv_sources.empty() && syn_recv > 0 &&
      2 * e.syn_recv_sources.front().count >= syn_recv)
    f.advice.push_back("most half-open connections come from " + e.syn_recv_sources.front().key +
                       ": filter it upstream or with nftables");
  else if (!e.syn_recv_sources.empty())
    f.advice.push_back("the half-open connections come from many addresses (" +
                       num(static_cast<std::uint64_t>(e.syn_recv_sources.size())) +
                       "+): a distributed flood or a slow client network; cookies and a larger "
                       "queue are the defence here");
  out.push_back(std::move(f));
}

// A listener's accept queue over its backlog; a queue on a backlog of 0 is as full as can be.
double accept_fill(const listener_evidence& l) {
  return l.backlog > 0 ? static_cast<double>(l.accept_queue) / l.backlog
         : l.accept_queue > 0 ? 1e9
                              : 0;
}

void accept_queue_full(const doctor_evidence& e, std::vector<finding>& out) {
  const std::int64_t overflows = delta_or0(e, "TcpExt.ListenOverflows");
  // Every listener past its backlog (the kernel's sk_acceptq_is_full: ack_backlog >
  // max_ack_backlog) or near it, fullest first: each has its own queue.
  // From /proc (no backlog) only the counter speaks.
  std::vector<const listener_evidence*> backed_up;
  for (const listener_evidence& l : e.listeners)
    if (e.backlog_known &&
        (l.accept_queue > l.backlog || (l.accept_queue >= 2 && accept_fill(l) >= acceptq_warn)))
      backed_up.push_back(&l);
  std::stable_sort(backed_up.begin(), backed_up.end(),
                   [](const auto* x, const auto* y) { return accept_fill(*x) > accept_fill(*y); });
  const listener_evidence* worst = backed_up.empty() ? nullptr : backed_up.front();
  std::size_t full_count = 0;
  for (const auto* l : backed_up) full_count += l->accept_queue > l->backlog;
  if (worst == nullptr && overflows == 0) return;
  finding f;
  f.id = "accept_queue_full";
  f.level = full_count > 0 || overflows > 0 ? severity::critical : severity::warning;
  if (worst != nullptr) {
    const bool full = worst->accept_queue > worst->backlog;
    f.summary = "listener " + worst->address + ": " + num(std::uint64_t{worst->accept_queue}) +
                " connections wait for accept() with a backlog of " +
                num(std::uint64_t{worst->backlog}) + (full ? " (full)" : "");
    if (backed_up.size() > 1)
      f.summary += ", and " + num(static_cast<std::uint64_t>(backed_up.size() - 1)) +
                   " more listener" + (backed_up.size() > 2 ? "s" : "") + " backed up";
    if (overflows > 0)
      f.summary += "; " + per_second(e, overflows) + " connections refused (ListenOverflows)";
  } else {
    f.summary = "accept queues overflowed " + num(overflows) + " times in " +
                fixed1(e.interval_s) + " s";
  }
  if (worst != nullptr) {
    f.evidence = {{"listener", worst->address},
                  {"accept_queue", num(std::uint64_t{worst->accept_queue})},
                  {"backlog", num(std::uint64_t{worst->backlog})}};
    if (!worst->processes.empty()) f.evidence.emplace_back("process", worst->processes);
    std::string all;
    for (const auto* l : backed_up) {
      if (!all.empty()) all += ", ";
      all += l->address + " " + num(std::uint64_t{l->accept_queue}) + "/" +
             num(std::uint64_t{l->backlog}) +
             (l->processes.empty() ? std::string() : " " + l->processes);
    }
    f.evidence.emplace_back("listeners_backed_up", all);
  }
  // The counter itself (since boot) and its change over the interval, each named as such.
  const auto total = counter(e, "TcpExt.ListenOverflows");
  f.evidence.insert(f.evidence.end(),
                    {{"ListenOverflows", opt(total)},
                     {"ListenOverflows_delta", num(overflows)},
                     {"ListenOverflows_per_s", per_second(e, overflows)},
                     {"somaxconn", opt(e.sysctls.somaxconn)}});
  f.why =
      "After the handshake a connection waits in its listener's accept queue until the "
      "application calls accept(). Once the queue is over the backlog, the kernel drops the "
      "client's final ACK (ListenOverflows): the client believes it is connected while the "
      "server retransmits its SYN-ACK, and new SYNs are dropped. Each listener has its own "
      "queue: an IPv4 and an IPv6 listener on one port fill separately.";
  f.advice.push_back(
      "the application" +
      (worst != nullptr && !worst->processes.empty() ? " (" + worst->processes + ")"
                                                     : std::string()) +
      " does not call accept() fast enough: add workers or threads, or find what blocks its "
      "accept loop");
  if (worst != nullptr && e.sysctls.somaxconn &&
      static_cast<std::int64_t>(worst->backlog) >= *e.sysctls.somaxconn) {
    const std::int64_t want = std::max<std::int64_t>(4096, 2 * *e.sysctls.somaxconn);
    f.advice.push_back(sysctl_advice("net.core.somaxconn", num(want), num(*e.sysctls.somaxconn),
                                     "the backlog is capped there; then raise the backlog the "
                                     "application passes to listen()"));
  } else if (worst != nullptr) {
    f.advice.push_back("raise the backlog the application passes to listen() (now " +
                       num(std::uint64_t{worst->backlog}) + "; somaxconn " +
                       opt(e.sysctls.somaxconn) + " allows up to that)");
  }
  out.push_back(std::move(f));
}

void close_wait_leak(const doctor_evidence& e, std::vector<finding>& out) {
  const std::uint64_t n = e.close_wait_persisting;
  if (n < close_wait_warn) return;
  finding f;
  f.id = "close_wait_leak";
  f.level = n >= close_wait_crit ? severity::critical : severity::warning;
  const std::uint64_t now = tcp_in(e, tcp_state::close_wait);
  f.summary = num(n) + " sockets stayed in CLOSE_WAIT for the whole " + fixed1(e.interval_s) +
              " s (" + num(now) + " now)";
  if (!e.close_wait_processes.empty())
    f.summary += ", most held by " + e.close_wait_processes.front().key;
  f.evidence = {{"close_wait", num(now)},
                {"persisting", num(n)},
                {"ports", groups_text(e.close_wait_ports)},
                {"processes", e.close_wait_processes.empty()
                                  ? std::string("unknown (not readable)")
                                  : groups_text(e.close_wait_processes)}};
  f.why =
      "CLOSE_WAIT is held by the side that received the peer's FIN: TCP waits for the local "
      "application to close its end. No timer ends it; only close() (or the process exiting) "
      "does, so sockets that stay there are descriptors the application leaks.";
  f.advice = {
      "fix the application: close the socket on end of stream and on every error path; HTTP "
      "clients must close (or read to the end) every response body; check pools for "
      "connections never returned",
      "list them with their owners: ssfast -tanp state close-wait",
      "the kernel never times CLOSE_WAIT out: restarting the process frees them now"};
  out.push_back(std::move(f));
}

void fin_wait2(const doctor_evidence& e, std::vector<finding>& out) {
  const std::uint64_t orphaned = e.fin_wait2_orphaned, held = e.fin_wait2_held;
  if (orphaned < fin_wait2_warn && held < fin_wait2_warn) return;
  finding f;
  f.id = "fin_wait2_orphans";
  f.level = severity::warning;
  f.summary = num(orphaned + held) + " sockets in FIN_WAIT2: " + num(orphaned) +
              " closed here and waiting for the peer's FIN, " + num(held) +
              " still held by a process (half-closed)";
  f.evidence = {{"fin_wait2", num(orphaned + held)},
                {"orphaned", num(orphaned)},
                {"held", num(held)},
                {"tcp_fin_timeout", opt(e.sysctls.tcp_fin_timeout)}};
  f.why =
      "FIN_WAIT2 is held by the side that closed first, once its FIN is acknowledged, until "
      "the peer sends its own FIN. If the process has closed the socket, Linux keeps it only "
      "tcp_fin_timeout seconds; if the process still holds it (after shutdown()), it waits for "
      "the peer indefinitely. Many of them mean peers that do not close: often a CLOSE_WAIT "
      "leak on the other host.";
  if (orphaned >= fin_wait2_warn && e.sysctls.tcp_fin_timeout &&
      *e.sysctls.tcp_fin_timeout > fin_timeout_suggested)
    f.advice.push_back(sysctl_advice("net.ipv4.tcp_fin_timeout", num(fin_timeout_suggested),
                                     num(*e.sysctls.tcp_fin_timeout),
                                     "orphaned FIN_WAIT2 sockets are dropped sooner"));
  if (held >= fin_wait2_warn)
    f.advice.push_back(
        "the half-closed connections wait for their peers: give the application a timeout "
        "for them, and look at those peers for a CLOSE_WAIT leak");
  f.advice.push_back("the peers that do not close: ssfast top raddr state fin-wait-2");
  out.push_back(std::move(f));
}

void orphans_limit(const doctor_evidence& e, std::vector<finding>& out) {
  const auto& max = e.sysctls.tcp_max_orphans;
  const auto orphans = counter(e, "TCP.orphan");
  if (!max || *max <= 0 || !orphans) return;
  const std::int64_t aborts = delta_or0(e, "TcpExt.TCPAbortOnMemory");
  const double share = static_cast<double>(*orphans) / static_cast<double>(*max);
  if (share < orphans_warn && aborts == 0) return;
  finding f;
  f.id = "orphans_limit";
  f.level = share >= orphans_crit || aborts > 0 ? severity::critical : severity::warning;
  f.summary = num(*orphans) + " orphaned sockets of tcp_max_orphans " + num(*max) + " (" +
              percent(share) + ")" +
              (aborts > 0 ? "; " + num(aborts) + " connections reset for memory" : std::string());
  f.evidence = {{"orphan", num(*orphans)},
                {"tcp_max_orphans", num(*max)},
                {"TCPAbortOnMemory", num(aborts)},
                {"fin_wait1", num(tcp_in(e, tcp_state::fin_wait1))},
                {"fin_wait2", num(tcp_in(e, tcp_state::fin_wait2))},
                {"last_ack", num(tcp_in(e, tcp_state::last_ack))},
                {"closing", num(tcp_in(e, tcp_state::closing))}};
  f.why =
      "A socket its process has closed while TCP still has work (unsent data, the FIN "
      "exchange: FIN_WAIT1, FIN_WAIT2, LAST_ACK, CLOSING) is an orphan. Past tcp_max_orphans "
      "the kernel resets new orphans at once (\"too many orphaned sockets\"), so peers lose "
      "the end of their data. The count covers every network namespace.";
  f.advice = {sysctl_advice("net.ipv4.tcp_max_orphans", num(*max * 2), num(*max),
                            "if memory allows: each orphan may hold up to its send buffer"),
              "shorten their life: lower net.ipv4.tcp_fin_timeout (FIN_WAIT2) and "
              "net.ipv4.tcp_orphan_retries (FIN_WAIT1 with unacknowledged data)"};
  out.push_back(std::move(f));
}

void tcp_memory(const doctor_evidence& e, std::vector<finding>& out) {
  const auto& limits = e.sysctls.tcp_mem;
  const auto mem = counter(e, "TCP.mem");
  if (!limits || !mem) return;
  const std::int64_t pressure = (*limits)[1], max = (*limits)[2];
  const std::int64_t aborts = delta_or0(e, "TcpExt.TCPAbortOnMemory");
  const std::int64_t pressures = delta_or0(e, "TcpExt.TCPMemoryPressures");
  const bool crit = (max > 0 && static_cast<double>(*mem) >= 0.9 * static_cast<double>(max)) ||
                    aborts > 0;
  const bool warn = (pressure > 0 && *mem >= pressure) || pressures > 0;
  if (!crit && !warn) return;
  finding f;
  f.id = "tcp_memory";
  f.level = crit ? severity::critical : severity::warning;
  f.summary = "TCP buffers use " + num(*mem) + " pages; tcp_mem pressure " + num(pressure) +
              ", max " + num(max);
  f.evidence = {{"mem_pages", num(*mem)},
                {"tcp_mem", num((*limits)[0]) + " " + num(pressure) + " " + num(max)},
                {"TCPMemoryPressures", num(pressures)},
                {"TCPAbortOnMemory", num(aborts)}};
  f.why =
      "TCP's buffers are accounted in pages against tcp_mem (shared by every namespace). Above "
      "'pressure' the kernel shrinks buffers and connections slow down; at 'max' it refuses "
      "memory: sends fail and orphans are reset (\"out of memory -- consider tuning "
      "tcp_mem\").";
  f.advice = {sysctl_advice("net.ipv4.tcp_mem",
                            "\"" + num((*limits)[0] * 2) + " " + num(pressure * 2) + " " +
                                num(max * 2) + "\"",
                            "\"" + num((*limits)[0]) + " " + num(pressure) + " " + num(max) + "\"",
                            "if the host has the memory to spare"),
              "find the sockets holding buffers: large Recv-Q (slow readers here) or Send-Q "
              "(slow peers) in ssfast -tan"};
  out.push_back(std::move(f));
}

void retransmits(const doctor_evidence& e, std::vector<finding>& out) {
  // Linux counts a segment in OutSegs only when it carries new sequence space (or none):
  // retransmissions are in RetransSegs alone (tcp_output.c, __tcp_transmit_skb), as RFC 1213
  // defines tcpOutSegs. The share of everything sent is therefore again / (sent + again).
  const std::int64_t sent = delta_or0(e, "Tcp.OutSegs");
  const std::int64_t again = delta_or0(e, "Tcp.RetransSegs");
  if (sent + again < retrans_min_segments) return;
  const double share = static_cast<double>(again) / static_cast<double>(sent + again);
  if (share < retrans_warn) return;
  const std::int64_t syn = delta_or0(e, "TcpExt.TCPSynRetrans");
  const std::int64_t timeouts = delta_or0(e, "TcpExt.TCPTimeouts");
  finding f;
  f.id = "retransmits";
  f.level = share >= retrans_crit ? severity::critical : severity::warning;
  f.summary = percent(share) + " of segments sent were retransmissions (" +
              per_second(e, again) + ", beside " + per_second(e, sent) + " new)";
  f.evidence = {{"RetransSegs_per_s", per_second(e, again)},
                {"OutSegs_per_s", per_second(e, sent)},
                {"retransmitted", percent(share)},
                {"TCPSynRetrans_per_s", per_second(e, syn)},
                {"TCPTimeouts_per_s", per_second(e, timeouts)}};
  f.why =
      "TCP resends a segment when no acknowledgement comes in time (a timeout) or duplicate "
      "ACKs report a gap. A few tenths of a percent is usual across the internet; a few "
      "percent cuts throughput hard, since each loss halves the sender's congestion window.";
  if (2 * syn >= again)
    f.advice.push_back(
        "most are SYN retransmissions: connections to hosts that do not answer (down, "
        "firewalled, a full SYN queue): ssfast -tan state syn-sent shows where");
  f.advice.push_back(
      "look at the path: interface errors and drops (ip -s link), and the connections with "
      "retransmit timers running (ssfast -tano: timer:(on,...))");
  out.push_back(std::move(f));
}

void tw_recycle(const doctor_evidence& e, std::vector<finding>& out) {
  const auto& v = e.sysctls.tcp_tw_recycle;
  if (!v || *v == 0) return;
  finding f;
  f.id = "tw_recycle";
  f.level = severity::critical;
  f.summary = "net.ipv4.tcp_tw_recycle is on (" + num(*v) + "): clients behind NAT fail at random";
  f.evidence = {{"tcp_tw_recycle", num(*v)}, {"kernel", e.kernel_release}};
  f.why =
      "tcp_tw_recycle dropped SYNs whose TCP timestamp went backwards for a source address; "
      "clients sharing one NAT address have unrelated clocks, so their connections failed at "
      "random. It never was safe on a server reachable through NAT, and Linux 4.12 removed "
      "it.";
  f.advice = {sysctl_advice("net.ipv4.tcp_tw_recycle", "0", num(*v),
                            "and remove it from /etc/sysctl.conf and /etc/sysctl.d"),
              "for ports held in TIME_WAIT by outgoing connections, net.ipv4.tcp_tw_reuse=1 is "
              "the safe setting"};
  out.push_back(std::move(f));
}

// What each rule reads that may be missing: a sysctl ("net.ipv4.tcp_mem"), a counter
// ("TcpExt.ListenOverflows": both samples for a change, "TCP.orphan": the last), or
// "backlogs" (listen backlogs: netlink only). The socket listings every rule may use are not
// listed: without them there is no diagnosis at all. Optional inputs (for advice, or a
// second signal) are not listed either: a rule runs without them.
struct rule {
  std::string_view id;
  void (*run)(const doctor_evidence&, std::vector<finding>&);
  std::array<std::string_view, 3> needs;
};

constexpr rule rules[] = {
    {"time_wait_buckets", time_wait_buckets, {"net.ipv4.tcp_max_tw_buckets"}},
    {"ephemeral_ports", ephemeral_ports, {"net.ipv4.ip_local_port_range"}},
    {"syn_flood", syn_flood, {"TcpExt.SyncookiesSent"}},
    {"accept_queue_full", accept_queue_full, {"TcpExt.ListenOverflows"}},
    {"close_wait_leak", close_wait_leak, {}},
    {"fin_wait2_orphans", fin_wait2, {}},
    {"orphans_limit", orphans_limit, {"net.ipv4.tcp_max_orphans", "TCP.orphan"}},
    {"tcp_memory", tcp_memory, {"net.ipv4.tcp_mem", "TCP.mem"}},
    {"retransmits", retransmits, {"Tcp.OutSegs", "Tcp.RetransSegs"}},
    {"tw_recycle", tw_recycle, {}},  // absent since Linux 4.12: nothing to miss
};

// Whether `e` has the input `need`; else why not.
bool have(const doctor_evidence& e, std::string_view need, std::string& why) {
  if (need.starts_with("net.")) {
    const doctor_sysctls& s = e.sysctls;
    bool present = false;
    if (need == "net.ipv4.tcp_max_tw_buckets") present = s.tcp_max_tw_buckets.has_value();
    if (need == "net.ipv4.ip_local_port_range") present = s.ip_local_port_range.has_value();
    if (need == "net.ipv4.tcp_max_orphans") present = s.tcp_max_orphans.has_value();
    if (need == "net.ipv4.tcp_mem") present = s.tcp_mem.has_value();
    if (present) return true;
    const auto it = e.unreadable.find(std::string(need));
    why = it != e.unreadable.end() ? it->second : "could not be read";
    return false;
  }
  // A counter: a change needs both samples (Tcp., TcpExt.); a level the last (TCP.).
  const std::string name(need);
  const bool level = need.starts_with("TCP.");
  if (e.counters_after.count(name) > 0 && (level || e.counters_before.count(name) > 0))
    return true;
  const auto it = e.unreadable.find("counters");
  why = it != e.unreadable.end() ? it->second : "not among this kernel's counters";
  return false;
}

std::string wrap(std::string_view text, std::size_t indent, std::size_t width) {
  std::string out, line;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(pos, end - pos);
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) {
      out += line + "\n" + std::string(indent, ' ');
      line.clear();
    }
    if (!line.empty()) line.push_back(' ');
    line += word;
    pos = end + 1;
  }
  return out + line;
}

bool is_number(std::string_view s) {
  if (s.empty()) return false;
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

std::string_view to_string(severity s) noexcept {
  switch (s) {
    case severity::info:
      return "info";
    case severity::warning:
      return "warning";
    case severity::critical:
      return "critical";
  }
  return "info";
}

std::vector<rule_not_run> rules_not_run(const doctor_evidence& e) {
  std::vector<rule_not_run> out;
  for (const rule& r : rules) {
    for (std::string_view need : r.needs) {
      if (need.empty()) break;
      std::string why;
      if (!have(e, need, why)) {
        out.push_back({std::string(r.id), std::string(need), why});
        break;
      }
    }
  }
  return out;
}

std::size_t doctor_rule_count() noexcept { return std::size(rules); }

std::vector<finding> diagnose(const doctor_evidence& e) {
  std::vector<finding> f;
  const std::vector<rule_not_run> skipped = rules_not_run(e);
  for (const rule& r : rules) {
    const bool runs = std::none_of(skipped.begin(), skipped.end(),
                                   [&](const rule_not_run& s) { return s.id == r.id; });
    if (runs) r.run(e, f);
  }
  std::stable_sort(f.begin(), f.end(),
                   [](const finding& a, const finding& b) { return a.level > b.level; });
  return f;
}

int doctor_exit_code(const std::vector<finding>& f,
                     const std::vector<rule_not_run>& not_run) noexcept {
  if (!not_run.empty() && not_run.size() >= std::size(rules)) return 3;  // nothing diagnosed
  int code = 0;
  for (const finding& x : f) {
    if (x.level == severity::critical) return 2;
    if (x.level == severity::warning) code = 1;
  }
  return code;
}

void render_findings_text(const std::vector<finding>& f, const doctor_evidence& e,
                          std::string_view source, std::string& out) {
  std::size_t crit = 0, warn = 0;
  for (const finding& x : f) {
    crit += x.level == severity::critical;
    warn += x.level == severity::warning;
  }
  const std::string context = "(" + std::string(source) + ", sampled over " +
                              fixed1(e.interval_s) + " s" +
                              (e.kernel_release.empty() ? "" : ", kernel " + e.kernel_release) +
                              ")";
  const std::vector<rule_not_run> skipped = rules_not_run(e);
  // Never a bare "no findings" when a check was skipped: say how many rules ran.
  const std::string ran =
      skipped.empty() ? std::string()
                      : "in the " + num(static_cast<std::uint64_t>(std::size(rules) - skipped.size())) +
                            " of " + num(static_cast<std::uint64_t>(std::size(rules))) +
                            " rules that ran ";
  if (!skipped.empty() && skipped.size() >= std::size(rules)) {
    out += "ssfast doctor: nothing diagnosed " + context + ": no rule could run\n";
  } else if (f.empty()) {
    const state_counts tcp = e.sockets.tcp_histogram();
    out += "ssfast doctor: no findings " + ran + context + ": " + num(tcp.total()) +
           " TCP sockets, " + num(tcp.netstat_count(tcp_state::established)) +
           " established, " + num(tcp.netstat_count(tcp_state::time_wait)) + " time_wait, " +
           num(tcp.netstat_count(tcp_state::close_wait)) + " close_wait, " +
           num(tcp.netstat_count(tcp_state::syn_recv)) + " syn_recv\n";
  } else {
    out += "ssfast doctor: " + num(static_cast<std::uint64_t>(f.size())) +
           (f.size() == 1 ? " finding" : " findings") + ", " + num(std::uint64_t{crit}) +
           " critical, " + num(std::uint64_t{warn}) + (warn == 1 ? " warning " : " warnings ") +
           context + "\n";
  }
  if (!e.backlog_known)
    out += "note: /proc does not show listen backlogs; accept-queue and SYN-queue fill are "
           "judged from the kernel's counters only\n";
  for (const rule_not_run& s : skipped) {
    std::string why;
    append_printable(why, s.why);
    out += "not run: " + s.id + " (needs " + s.needs + ": " + why + ")\n";
  }
  for (const finding& x : f) {
    std::string level(to_string(x.level));
    for (char& c : level) c = static_cast<char>(c - 'a' + 'A');
    // Summaries and evidence can name processes, whose names any user sets: escaped.
    std::string summary;
    append_printable(summary, x.summary);
    out += "\n" + level + " " + x.id + ": " + summary + "\n";
    std::string ev;
    for (const auto& [k, v] : x.evidence) {
      ev += (ev.empty() ? "" : ", ") + k + " ";
      append_printable(ev, v);
    }
    out += "  evidence  " + wrap(ev, 12, 100) + "\n";
    out += "  why       " + wrap(x.why, 12, 100) + "\n";
    for (std::size_t i = 0; i < x.advice.size(); ++i)
      out += std::string(i == 0 ? "  do        " : "            ") + wrap(x.advice[i], 12, 100) +
             "\n";
  }
}

void render_findings_json(const std::vector<finding>& f, const doctor_evidence& e,
                          std::string_view source, std::string& out) {
  const std::vector<rule_not_run> skipped = rules_not_run(e);
  json_writer w(out);
  w.begin_object();
  w.key("source").value(source);
  w.key("interval_s").value(e.interval_s);
  w.key("kernel").value(e.kernel_release);
  w.key("exit_code").value(static_cast<std::int64_t>(doctor_exit_code(f, skipped)));
  w.key("findings").begin_array();
  for (const finding& x : f) {
    w.begin_object();
    w.key("id").value(x.id);
    w.key("severity").value(to_string(x.level));
    w.key("summary").value(x.summary);
    w.key("evidence").begin_object();
    for (const auto& [k, v] : x.evidence) {
      w.key(k);
      if (is_number(v)) {
        double d = 0;
        std::from_chars(v.data(), v.data() + v.size(), d);
        if (d == std::floor(d) && std::fabs(d) < 9e15)
          w.value(static_cast<std::int64_t>(d));
        else
          w.value(d);
      } else {
        w.value(v);
      }
    }
    w.end_object();
    w.key("why").value(x.why);
    w.key("advice").begin_array();
    for (const std::string& a : x.advice) w.value(a);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("not_run").begin_array();
  for (const rule_not_run& s : skipped)
    w.begin_object().key("id").value(s.id).key("needs").value(s.needs).key("why").value(s.why)
        .end_object();
  w.end_array();
  w.end_object();
  out.push_back('\n');
}

const std::array<state_reference, 11>& tcp_state_reference() noexcept {
  static const std::array<state_reference, 11> table = {{
      {"ESTABLISHED", "both sides",
       "the handshake completes: the client on receiving SYN-ACK, the server on receiving the "
       "final ACK (the connection then waits in the listener's accept queue until accept())",
       "this side closes first and sends FIN (FIN_WAIT1), or the peer's FIN arrives "
       "(CLOSE_WAIT)",
       "as long as the connection; no timer ends it (keepalive, after tcp_keepalive_time, only "
       "probes an idle peer)"},
      {"SYN_SENT", "the client",
       "connect() sent a SYN",
       "SYN-ACK arrives (ESTABLISHED); an RST (refused) or running out of SYN retries ends it",
       "until answered: tcp_syn_retries (6: about 127 s) bounds it"},
      {"SYN_RECV", "the server",
       "a listener answered a SYN with SYN-ACK: a request socket in its SYN queue",
       "the client's ACK completes the handshake (ESTABLISHED, into the accept queue), or the "
       "SYN-ACK retries run out",
       "one round trip normally; tcp_synack_retries (5: about 63 s) bounds it. Spoofed SYNs "
       "never complete: a flood fills the SYN queue (syncookies answer for a full one)"},
      {"FIN_WAIT1", "the side that closes first",
       "close() or shutdown() queued a FIN",
       "the FIN is acknowledged (FIN_WAIT2), the peer's FIN arrives first (CLOSING), or both "
       "at once (TIME_WAIT)",
       "until the FIN, sent after any unsent data, is acknowledged; tcp_orphan_retries bounds it "
       "once the process has closed the socket"},
      {"FIN_WAIT2", "the side that closes first",
       "its FIN was acknowledged",
       "the peer's FIN arrives (TIME_WAIT)",
       "until the peer closes: tcp_fin_timeout (60 s) once the process has closed the socket, "
       "indefinitely while it still holds it (after shutdown())"},
      {"TIME_WAIT", "the side that closes first",
       "both FINs were exchanged and this side sent the last ACK",
       "its timer expires",
       "60 s, fixed in Linux (TCP_TIMEWAIT_LEN): late segments of the old connection cannot "
       "reach a new one with the same ports. A ~200-byte minisocket, no process or "
       "descriptor; tcp_max_tw_buckets caps how many"},
      {"CLOSE", "neither",
       "a socket not yet connected or listening, or one fully closed",
       "connect() or listen()",
       "sock_diag and /proc list almost none: a bound-only socket is in no table they walk"},
      {"CLOSE_WAIT", "the side that receives the first FIN",
       "the peer's FIN arrived: reads return end of stream",
       "the application calls close(), which sends this side's FIN (LAST_ACK)",
       "until the application closes: no timer; a count that stays up is a leak in the "
       "application"},
      {"LAST_ACK", "the side that closes second",
       "close() after CLOSE_WAIT sent this side's FIN",
       "the peer acknowledges the FIN; the socket is gone",
       "one round trip, or the FIN's retransmissions if the peer has vanished"},
      {"LISTEN", "the server",
       "listen()",
       "close()",
       "until closed; Recv-Q is its accept queue, Send-Q its backlog (the accept queue's and "
       "the SYN queue's limit, capped at net.core.somaxconn)"},
      {"CLOSING", "both sides, closing at once",
       "in FIN_WAIT1, the peer's FIN arrived before the ACK of this side's FIN (simultaneous "
       "close)",
       "this side's FIN is acknowledged (TIME_WAIT)",
       "a round trip; rare, except when the peer vanished after sending its FIN"},
  }};
  return table;
}

void render_states_text(std::string& out) {
  out +=
      "The TCP states as netstat names them (ss: ESTAB, SYN-SENT, ...), in the kernel's order.\n"
      "A connection's two ends are in different states while it closes: the side that closes\n"
      "first goes FIN_WAIT1, FIN_WAIT2, TIME_WAIT; the other CLOSE_WAIT, LAST_ACK.\n";
  for (const state_reference& s : tcp_state_reference()) {
    out += "\n" + std::string(s.name) + " (held by " + std::string(s.side) + ")\n";
    out += "  entered  " + wrap(s.entered, 11, 100) + "\n";
    out += "  left     " + wrap(s.left, 11, 100) + "\n";
    out += "  lasts    " + wrap(s.lasts, 11, 100) + "\n";
  }
}

void render_states_json(std::string& out) {
  json_writer w(out);
  w.begin_array();
  std::uint8_t value = 1;
  for (const state_reference& s : tcp_state_reference()) {
    w.begin_object();
    w.key("state").value(s.name);
    w.key("kernel_value").value(static_cast<std::uint64_t>(value++));
    w.key("side").value(s.side);
    w.key("entered").value(s.entered);
    w.key("left").value(s.left);
    w.key("lasts").value(s.lasts);
    w.end_object();
  }
  w.end_array();
  out.push_back('\n');
}

}  // namespace ssfast
