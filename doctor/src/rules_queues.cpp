// SPDX-License-Identifier: Apache-2.0
// The rules about queues and limits sockets fill: TIME_WAIT buckets, ephemeral ports, SYN
// queues, accept queues.
#include <algorithm>

#include "rules.h"

namespace ssfast::doctor_rules {

void time_wait_buckets(const doctor_evidence& e, std::vector<finding>& out) {
  const auto& max = e.sysctls.tcp_max_tw_buckets;
  if (!max || *max <= 0) return;
  // The limit counts every timewait minisocket (TIME_WAIT and orphaned FIN_WAIT2):
  // sockstat's "tw" is that count (net->ipv4.tcp_death_row.tw_refcount - 1).
  const auto sockstat_tw = counter(e, counter_id::sockstat_tcp_tw);
  const std::uint64_t time_wait = tcp_in(e, tcp_state::time_wait);
  const std::int64_t tw = sockstat_tw ? *sockstat_tw : static_cast<std::int64_t>(time_wait);
  const std::int64_t overflow = delta_or0(e, counter_id::timewait_overflow);
  const double share = static_cast<double>(tw) / static_cast<double>(*max);
  if (share < tw_warn && overflow == 0) return;
  finding f;
  f.id = "time_wait_buckets";
  f.level = share >= tw_crit || overflow > 0 ? severity::critical : severity::warning;
  f.summary = num(tw) + " timewait sockets of tcp_max_tw_buckets " + num(*max) + " (" +
              percent(share) + ")" +
              (overflow > 0 ? "; " + num(overflow) + " connections closed without TIME_WAIT"
                            : std::string());
  f.evidence = {{"time_wait", evidence_value(time_wait)},
                {"sockstat_tw", known(sockstat_tw)},
                {"tcp_max_tw_buckets", evidence_value(*max)},
                {"TCPTimeWaitOverflow", evidence_value(overflow)},
                {"TCPTimeWaitOverflow_per_s", rate(e, overflow)}};
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
  f.summary = num(top.count) + " connections " + top.key + " use " + percent(share) + " of the " +
              num(ports) + " local ports in ip_local_port_range";
  f.evidence = {{"busiest", top.key},
                {"connections", evidence_value(top.count)},
                {"ip_local_port_range", num((*range)[0]) + " " + num((*range)[1])},
                {"ports", evidence_value(ports)},
                {"tcp_tw_reuse", known(e.sysctls.tcp_tw_reuse)},
                {"time_wait", evidence_value(tcp_in(e, tcp_state::time_wait))},
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
    f.advice.push_back(sysctl_advice("net.ipv4.ip_local_port_range", "\"" + num(low) + " 65535\"",
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
  const std::int64_t cookies = delta_or0(e, counter_id::syncookies_sent);
  const std::int64_t full_drops = delta_or0(e, counter_id::req_q_full_drop);
  // The busiest SYN queue: each listener's request sockets over its own SYN-queue limit
  // (inet_csk_reqsk_queue_is_full: the queue against sk_max_ack_backlog). An IPv4 and an
  // IPv6 listener on one port have a queue each; only SO_REUSEPORT siblings of one address,
  // whose requests cannot be told apart, are judged together.
  const listener_evidence* worst = nullptr;
  double worst_share = 0;
  std::uint64_t port_backlog = 0;
  for (const listener_evidence& l : e.listeners) {
    const std::uint64_t backlog = l.syn_backlog;
    const double share = backlog > 0
                             ? static_cast<double>(l.syn_recv) / static_cast<double>(backlog)
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
  f.evidence = {{"syn_recv", evidence_value(syn_recv)}};
  if (worst != nullptr) {
    f.evidence.emplace_back("listener", worst->address);
    f.evidence.emplace_back("listener_syn_recv", evidence_value(worst->syn_recv));
    f.evidence.emplace_back("listener_backlog", evidence_value(port_backlog));
  }
  f.evidence.insert(
      f.evidence.end(),
      {{"SyncookiesSent_per_s", rate(e, cookies)},
       {"TCPReqQFullDrop_per_s", rate(e, full_drops)},
       {"TCPReqQFullDoCookies_per_s", rate(e, delta_or0(e, counter_id::req_q_full_do_cookies))},
       {"ListenDrops_per_s", rate(e, delta_or0(e, counter_id::listen_drops))},
       {"tcp_syncookies", known(e.sysctls.tcp_syncookies)},
       {"tcp_max_syn_backlog", known(e.sysctls.tcp_max_syn_backlog)},
       {"somaxconn", known(e.sysctls.somaxconn)},
       {"tcp_synack_retries", known(e.sysctls.tcp_synack_retries)},
       {"top_sources", groups_text(e.syn_recv_sources)}});
  f.why =
      "SYN_RECV is held by the server between answering a SYN with SYN-ACK and receiving the "
      "client's ACK; each half-open connection takes a slot in its listener's SYN queue, whose "
      "limit is the listener's backlog, until the handshake completes or tcp_synack_retries run "
      "out. Spoofed SYNs never complete, so a flood fills the queue and real clients are "
      "refused, unless SYN cookies answer for the full queue.";
  if (!e.sysctls.tcp_syncookies || *e.sysctls.tcp_syncookies == 0)
    f.advice.push_back(sysctl_advice("net.ipv4.tcp_syncookies", "1", opt(e.sysctls.tcp_syncookies),
                                     "a full SYN queue then answers with cookies instead of "
                                     "dropping SYNs"));
  if (worst != nullptr) {
    const std::int64_t want =
        std::max<std::int64_t>(4096, 2 * static_cast<std::int64_t>(port_backlog));
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

namespace {

// A listener's accept queue over its backlog; a queue on a backlog of 0 is as full as can be.
double accept_fill(const listener_evidence& l) {
  return l.backlog > 0        ? static_cast<double>(l.accept_queue) / l.backlog
         : l.accept_queue > 0 ? 1e9
                              : 0;
}

}  // namespace

void accept_queue_full(const doctor_evidence& e, std::vector<finding>& out) {
  const std::int64_t overflows = delta_or0(e, counter_id::listen_overflows);
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
    f.summary =
        "accept queues overflowed " + num(overflows) + " times in " + fixed1(e.interval_s) + " s";
  }
  if (worst != nullptr) {
    f.evidence = {{"listener", worst->address},
                  {"accept_queue", evidence_value(std::uint64_t{worst->accept_queue})},
                  {"backlog", evidence_value(std::uint64_t{worst->backlog})}};
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
  const auto total = counter(e, counter_id::listen_overflows);
  f.evidence.insert(f.evidence.end(), {{"ListenOverflows", known(total)},
                                       {"ListenOverflows_delta", evidence_value(overflows)},
                                       {"ListenOverflows_per_s", rate(e, overflows)},
                                       {"somaxconn", known(e.sysctls.somaxconn)}});
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

}  // namespace ssfast::doctor_rules
