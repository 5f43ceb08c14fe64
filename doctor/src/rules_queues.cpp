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
  f.state = tcp_state::time_wait;
  f.level = share >= tw_crit || overflow > 0 ? severity::critical : severity::warning;
  f.summary = num(tw) + " timewait sockets of tcp_max_tw_buckets " + num(*max) + " (" +
              percent(share) + ")" +
              (overflow > 0 ? "; " + num(overflow) + " connections closed without TIME_WAIT"
                            : std::string());
  f.evidence = {{"time_wait", evidence_value(time_wait)},
                {"sockstat_tw", known(sockstat_tw)},
                {"tcp_max_tw_buckets", evidence_value(*max)}};
  counter_evidence(e, counter_id::timewait_overflow, f);
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
  f.state = tcp_state::time_wait;
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

namespace {

// The namespace's SYN counters over the interval, which every SYN finding shows.
struct syn_counters {
  std::int64_t cookies_sent, cookies_recv, full_drops, overflows, drops, syn_drops;
  explicit syn_counters(const doctor_evidence& e)
      : cookies_sent(delta_or0(e, counter_id::syncookies_sent)),
        cookies_recv(delta_or0(e, counter_id::syncookies_recv)),
        full_drops(delta_or0(e, counter_id::req_q_full_drop)),
        overflows(delta_or0(e, counter_id::listen_overflows)),
        drops(delta_or0(e, counter_id::listen_drops)),
        // tcp_listendrop() counts every SYN dropped at a listener in ListenDrops, also the 3/4
        // drops of tcp_syncookies=0 that TCPReqQFullDrop misses; ListenOverflows are the
        // accept queue's share of it.
        syn_drops(std::max<std::int64_t>(0, drops - overflows)) {}
};

void add_counter_evidence(const doctor_evidence& e, const syn_counters& c, finding& f) {
  f.evidence.insert(f.evidence.end(),
                    {{"SyncookiesSent", known(counter(e, counter_id::syncookies_sent))},
                     {"SyncookiesSent_per_s", rate(e, c.cookies_sent)},
                     {"SyncookiesRecv_per_s", rate(e, c.cookies_recv)},
                     {"TCPReqQFullDrop_per_s", rate(e, c.full_drops)},
                     {"ListenDrops_per_s", rate(e, c.drops)},
                     {"syn_drops_per_s", rate(e, c.syn_drops)},
                     {"tcp_syncookies", known(e.sysctls.tcp_syncookies)},
                     {"tcp_max_syn_backlog", known(e.sysctls.tcp_max_syn_backlog)},
                     {"somaxconn", known(e.sysctls.somaxconn)},
                     {"tcp_synack_retries", known(e.sysctls.tcp_synack_retries)}});
}

constexpr std::string_view syn_why =
    "SYN_RECV is held by the server between answering a SYN with SYN-ACK and receiving the "
    "client's ACK; each half-open connection is a request socket in its listener's SYN queue "
    "until the handshake completes or tcp_synack_retries run out. Spoofed SYNs never complete, "
    "so a flood fills the queue. At its limit the kernel answers further SYNs with cookies "
    "(tcp_syncookies=1) or drops them (0): real clients then wait for SYN retransmissions or "
    "fail. The limit is the listener's backlog (min of its listen() backlog and somaxconn, "
    "taken at listen()); with tcp_syncookies=0 also 3/4 of tcp_max_syn_backlog, past which only "
    "peers already proven alive get a slot (tcp_conn_request()).";

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// The advice that moves the limit that binds `l`'s SYN queue.
void limit_advice(const doctor_evidence& e, const listener_evidence& l, const syn_queue_limit& lim,
                  finding& f) {
  const std::int64_t per_listener =
      static_cast<std::int64_t>(l.syn_backlog / std::max<std::uint32_t>(l.siblings, 1));
  if (lim.by == syn_limit_kind::max_syn_backlog && e.sysctls.tcp_max_syn_backlog) {
    // 3/4 of the new value must reach the backlog for the backlog to bind again.
    const std::int64_t now = *e.sysctls.tcp_max_syn_backlog;
    const std::int64_t want = std::max(ceil_div(4 * per_listener, 3), 2 * now);
    f.advice.push_back(sysctl_advice(
        "net.ipv4.tcp_max_syn_backlog", num(want), num(now),
        "with tcp_syncookies=0 the kernel drops SYNs from unproven peers once a listener holds "
        "3/4 of it (" +
            num(lim.slots) + " here), below the backlog of " + num(per_listener)));
    return;
  }
  const std::int64_t want = std::max<std::int64_t>(4096, 2 * per_listener);
  const bool capped = e.sysctls.somaxconn && per_listener >= *e.sysctls.somaxconn;
  if (e.sysctls.somaxconn && (capped || *e.sysctls.somaxconn < want))
    f.advice.push_back(sysctl_advice(
        "net.core.somaxconn", num(want), num(*e.sysctls.somaxconn),
        std::string(capped ? "it caps this listener's backlog now" : "the cap on every backlog") +
            "; a listener takes min(backlog, somaxconn) at listen(), so it changes nothing until "
            "the service listens again (restart or reload it)"));
  f.advice.push_back("raise the backlog the application on " + l.address +
                     " passes to listen() (now " + num(per_listener) +
                     "; e.g. nginx `listen ... backlog=" + num(want) +
                     "`): it is this SYN queue's limit");
}

void source_advice(const std::vector<keyed_count>& sources, std::uint64_t total,
                   std::string_view where, finding& f) {
  if (sources.empty() || total == 0) return;
  if (2 * sources.front().count >= total)
    f.advice.push_back("most half-open connections" + std::string(where) + " come from " +
                       sources.front().key + ": filter it upstream or with nftables");
  else
    f.advice.push_back("the half-open connections" + std::string(where) +
                       " come from many addresses (" +
                       num(static_cast<std::uint64_t>(sources.size())) +
                       "+ shown): a spoofed or distributed flood, or a slow client network; "
                       "cookies and a larger queue are the defence here");
}

// With tcp_syncookies=0 a full SYN queue drops SYNs: cookies answer them instead.
void cookies_advice(const doctor_evidence& e, finding& f) {
  if (e.sysctls.tcp_syncookies.value_or(1) == 0)
    f.advice.push_back(sysctl_advice("net.ipv4.tcp_syncookies", "1", opt(e.sysctls.tcp_syncookies),
                                     "a full SYN queue then answers with cookies instead of "
                                     "dropping SYNs"));
}

void synack_retries_advice(const doctor_evidence& e, finding& f) {
  if (e.sysctls.tcp_synack_retries && *e.sysctls.tcp_synack_retries > 2)
    f.advice.push_back(sysctl_advice("net.ipv4.tcp_synack_retries", "2",
                                     num(*e.sysctls.tcp_synack_retries),
                                     "a half-open slot is freed after about 7 s instead of "
                                     "about 63 s"));
}

// One listener address's SYN queue under pressure, or nothing.
void listener_syn_flood(const doctor_evidence& e, const syn_counters& c, const listener_evidence& l,
                        std::vector<finding>& out) {
  const syn_queue_limit lim = syn_queue_limit_of(l.syn_backlog, l.siblings, e.sysctls);
  if (lim.by == syn_limit_kind::cookies_always) return;  // nothing is queued: said per namespace
  const std::uint64_t n = l.syn_recv;
  // At the limit on either kernel (>= before 6.13, > since): one short of it counts.
  const bool at_limit = n > 0 && n + 1 >= lim.slots;
  const double share =
      lim.slots > 0 ? static_cast<double>(std::min(n, lim.slots)) / static_cast<double>(lim.slots)
                    : (n > 0 ? 1.0 : 0.0);
  // SYNs refused here: its own drops (netlink), or, with cookies, the namespace's cookies
  // (a cookie is sent only for a queue at its limit).
  const std::int64_t mode = e.sysctls.tcp_syncookies.value_or(1);
  const bool refusing =
      at_limit && (l.address_drops_delta > 0 || (!l.drops_known && c.syn_drops > 0) ||
                   (mode == 1 && c.cookies_sent > 0));
  const bool warn = (n >= synq_min && share >= synq_warn) || refusing;
  if (!warn) return;
  finding f;
  f.id = "syn_flood";
  f.state = tcp_state::syn_recv;
  f.subject = l.address;
  f.level =
      refusing || (n >= synq_min && share >= synq_crit) ? severity::critical : severity::warning;
  if (lim.by == syn_limit_kind::max_syn_backlog)
    f.summary = "listener " + l.address + ": " + num(n) + " half-open, " +
                (at_limit ? "at" : "near") + " its SYN queue's limit of " + num(lim.slots) +
                " (3/4 of tcp_max_syn_backlog " + opt(e.sysctls.tcp_max_syn_backlog) +
                " with tcp_syncookies=0)";
  else
    f.summary = "listener " + l.address + ": " + num(n) + " of " + num(lim.slots) +
                " SYN-queue slots half-open (" + percent(share) + ")";
  if (mode == 1 && at_limit && c.cookies_sent > 0)
    f.summary += ", " + per_second(e, c.cookies_sent) + " SYN cookies sent";
  if (l.drops_known && l.address_drops_delta > 0)
    f.summary += ", " + per_second(e, static_cast<std::int64_t>(l.address_drops_delta)) +
                 " SYNs or ACKs dropped here";
  else if (!l.drops_known && refusing)
    f.summary += ", " + per_second(e, c.syn_drops) + " SYNs dropped";
  f.evidence = {{"listener", l.address},
                {"listener_syn_recv", evidence_value(n)},
                {"syn_limit", evidence_value(lim.slots)},
                {"syn_limit_by", std::string(to_string(lim.by))},
                {"listener_backlog", evidence_value(l.syn_backlog)}};
  if (l.siblings > 1) f.evidence.emplace_back("reuseport_listeners", evidence_value(l.siblings));
  if (l.drops_known) {
    f.evidence.emplace_back("listener_drops_delta", evidence_value(l.address_drops_delta));
    f.evidence.emplace_back("listener_drops_per_s",
                            rate(e, static_cast<std::int64_t>(l.address_drops_delta)));
  }
  f.evidence.emplace_back("synack_retrans", evidence_value(l.synack_retrans));
  f.evidence.emplace_back("top_sources", groups_text(l.syn_sources));
  f.evidence.emplace_back("syn_recv", evidence_value(tcp_in(e, tcp_state::syn_recv)));
  add_counter_evidence(e, c, f);
  f.why = std::string(syn_why);
  cookies_advice(e, f);
  limit_advice(e, l, lim, f);
  synack_retries_advice(e, f);
  source_advice(l.syn_sources, n, " to " + l.address, f);
  f.advice.push_back(
      "see them with their SYN-ACK retransmissions: ssfast -tano state syn-recv "
      "'sport = :" +
      num(std::uint64_t{l.port}) + "'");
  out.push_back(std::move(f));
}

}  // namespace
}  // namespace ssfast::doctor_rules

namespace ssfast {

std::string_view to_string(syn_limit_kind k) noexcept {
  switch (k) {
    case syn_limit_kind::backlog: return "backlog";
    case syn_limit_kind::max_syn_backlog: return "tcp_max_syn_backlog";
    case syn_limit_kind::cookies_always: return "tcp_syncookies=2";
  }
  return "backlog";
}

syn_queue_limit syn_queue_limit_of(std::uint64_t backlog, std::uint32_t siblings,
                                   const doctor_sysctls& s) noexcept {
  // tcp_conn_request() (net/ipv4/tcp_input.c): with tcp_syncookies=2 every SYN takes the
  // cookie path and no request socket is queued; else the queue is full at the backlog
  // (inet_csk_reqsk_queue_is_full(): qlen >= sk_max_ack_backlog before 6.13, > since), and
  // with tcp_syncookies=0 a SYN from a peer not proven alive is dropped once
  // max_syn_backlog - qlen < max_syn_backlog >> 2. Each listener queues apart, so
  // SO_REUSEPORT siblings have that much each.
  const std::int64_t cookies = s.tcp_syncookies.value_or(1);
  if (cookies == 2) return {0, syn_limit_kind::cookies_always};
  syn_queue_limit l{backlog, syn_limit_kind::backlog};
  if (cookies == 0 && s.tcp_max_syn_backlog && *s.tcp_max_syn_backlog > 0) {
    const auto m = static_cast<std::uint64_t>(*s.tcp_max_syn_backlog);
    const std::uint64_t cap = (m - (m >> 2)) * std::max<std::uint32_t>(siblings, 1);
    if (cap < backlog) l = {cap, syn_limit_kind::max_syn_backlog};
  }
  return l;
}

}  // namespace ssfast

namespace ssfast::doctor_rules {

void syn_flood(const doctor_evidence& e, std::vector<finding>& out) {
  const syn_counters c(e);
  const std::size_t first = out.size();
  if (e.backlog_known) {
    // One finding per listener address (SO_REUSEPORT siblings share one).
    std::vector<std::string_view> seen;
    for (const listener_evidence& l : e.listeners) {
      if (std::find(seen.begin(), seen.end(), l.address) != seen.end()) continue;
      seen.push_back(l.address);
      listener_syn_flood(e, c, l, out);
    }
  }
  if (out.size() > first) return;
  // No listener's own queue shows it: the namespace's counters and totals may.
  const std::int64_t mode = e.sysctls.tcp_syncookies.value_or(1);
  const std::uint64_t syn_recv = tcp_in(e, tcp_state::syn_recv);
  const double seconds = e.interval_s > 0 ? e.interval_s : 1;
  const std::int64_t unanswered = std::max<std::int64_t>(0, c.cookies_sent - c.cookies_recv);
  // tcp_syncookies=2 answers every SYN with a cookie: a cookie a client never returns is the
  // flood (a real client's ACK counts in SyncookiesRecv).
  const bool cookie_flood = mode == 2 &&
                            static_cast<double>(unanswered) / seconds >= cookies_unanswered_warn &&
                            2 * unanswered >= c.cookies_sent;
  const bool overflowing =
      (mode != 2 && c.cookies_sent > 0) || c.full_drops > 0 || (mode == 0 && c.syn_drops > 0);
  const bool many = !e.backlog_known && syn_recv >= syn_recv_without_backlog;
  if (!cookie_flood && !overflowing && !many) return;
  finding f;
  f.id = "syn_flood";
  f.state = tcp_state::syn_recv;
  f.level = overflowing ? severity::critical : severity::warning;
  if (cookie_flood)
    f.summary = per_second(e, unanswered) +
                " SYN cookies sent that no client returned (tcp_syncookies=2: no SYN queue, "
                "every SYN is answered with a cookie)";
  else
    f.summary = num(syn_recv) + " connections half-open (SYN_RECV)";
  if (!cookie_flood && c.cookies_sent > 0)
    f.summary += ", " + per_second(e, c.cookies_sent) + " SYN cookies sent";
  if (c.syn_drops > 0) f.summary += ", " + per_second(e, c.syn_drops) + " SYNs dropped";
  f.evidence = {{"syn_recv", evidence_value(syn_recv)},
                {"SyncookiesUnanswered_per_s", rate(e, unanswered)},
                {"synack_retrans", evidence_value(e.synack_retrans)},
                {"top_sources", groups_text(e.syn_recv_sources)}};
  add_counter_evidence(e, c, f);
  f.why = std::string(syn_why);
  cookies_advice(e, f);
  if (cookie_flood)
    f.advice.push_back(
        "the flood is answered without state, so it costs only the SYN-ACKs; to see its "
        "sources capture SYNs (tcpdump 'tcp[tcpflags] == tcp-syn'): no socket keeps them");
  synack_retries_advice(e, f);
  source_advice(e.syn_recv_sources, syn_recv, "", f);
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

namespace {

constexpr std::string_view accept_why =
    "After the handshake a connection waits in its listener's accept queue until the "
    "application calls accept(). Once the queue is over the backlog (sk_acceptq_is_full()), "
    "the kernel drops the client's final ACK (ListenOverflows): the client believes it is "
    "connected while the server retransmits its SYN-ACK, and new SYNs are dropped. Each "
    "listener has its own queue: an IPv4 and an IPv6 listener on one port fill separately.";

// One listener whose accept queue is over its backlog or near it.
void listener_accept_queue(const doctor_evidence& e, std::int64_t overflows,
                           const listener_evidence& l, std::vector<finding>& out) {
  const bool full = l.accept_queue > l.backlog;
  // Refusing here: its own drops (netlink), else the namespace's ListenOverflows.
  const bool refusing = l.drops_known ? l.drops_delta > 0 : overflows > 0;
  finding f;
  f.id = "accept_queue_full";
  f.state = tcp_state::listen;
  f.subject = l.address;
  f.level = full || refusing ? severity::critical : severity::warning;
  f.summary = "listener " + l.address + ": " + num(std::uint64_t{l.accept_queue}) +
              " connections wait for accept() with a backlog of " + num(std::uint64_t{l.backlog}) +
              (full ? " (full)" : "");
  if (l.drops_known && l.drops_delta > 0)
    f.summary += "; " + per_second(e, static_cast<std::int64_t>(l.drops_delta)) +
                 " connections dropped here";
  else if (!l.drops_known && overflows > 0)
    f.summary += "; " + per_second(e, overflows) + " connections refused (ListenOverflows)";
  f.evidence = {{"listener", l.address},
                {"accept_queue", evidence_value(std::uint64_t{l.accept_queue})},
                {"backlog", evidence_value(std::uint64_t{l.backlog})}};
  if (!l.processes.empty()) f.evidence.emplace_back("process", l.processes);
  if (l.drops_known) {
    f.evidence.emplace_back("listener_drops_delta", evidence_value(l.drops_delta));
    f.evidence.emplace_back("listener_drops_per_s",
                            rate(e, static_cast<std::int64_t>(l.drops_delta)));
  }
  // The counter itself and its change over the interval, each named as such.
  counter_evidence(e, counter_id::listen_overflows, f);
  f.evidence.emplace_back("somaxconn", known(e.sysctls.somaxconn));
  f.why = std::string(accept_why);
  f.advice.push_back(
      "the application" + (l.processes.empty() ? std::string() : " (" + l.processes + ")") +
      " on " + l.address +
      " does not call accept() fast enough: add workers or threads, or find what blocks its "
      "accept loop");
  if (e.sysctls.somaxconn && static_cast<std::int64_t>(l.backlog) >= *e.sysctls.somaxconn) {
    const std::int64_t want = std::max<std::int64_t>(4096, 2 * *e.sysctls.somaxconn);
    f.advice.push_back(sysctl_advice("net.core.somaxconn", num(want), num(*e.sysctls.somaxconn),
                                     "the backlog is capped there; then raise the backlog the "
                                     "application passes to listen(), and restart or reload "
                                     "it: a listener takes its backlog at listen()"));
  } else {
    f.advice.push_back("raise the backlog the application passes to listen() (now " +
                       num(std::uint64_t{l.backlog}) + "; somaxconn " + opt(e.sysctls.somaxconn) +
                       " allows up to that)");
  }
  out.push_back(std::move(f));
}

}  // namespace

void accept_queue_full(const doctor_evidence& e, std::vector<finding>& out) {
  const std::int64_t overflows = delta_or0(e, counter_id::listen_overflows);
  // Every listener past its backlog (the kernel's sk_acceptq_is_full: ack_backlog >
  // max_ack_backlog) or near it is its own finding, fullest first: each has its own queue.
  // From /proc (no backlog) only the counter speaks.
  std::vector<const listener_evidence*> backed_up;
  for (const listener_evidence& l : e.listeners)
    if (e.backlog_known &&
        (l.accept_queue > l.backlog || (l.accept_queue >= 2 && accept_fill(l) >= acceptq_warn)))
      backed_up.push_back(&l);
  std::stable_sort(backed_up.begin(), backed_up.end(),
                   [](const auto* x, const auto* y) { return accept_fill(*x) > accept_fill(*y); });
  for (const listener_evidence* l : backed_up) listener_accept_queue(e, overflows, *l, out);
  if (!backed_up.empty() || overflows == 0) return;
  // No queue is backed up now, yet connections were refused in the interval.
  finding f;
  f.id = "accept_queue_full";
  f.state = tcp_state::listen;
  f.level = severity::critical;
  f.summary =
      "accept queues overflowed " + num(overflows) + " times in " + fixed1(e.interval_s) + " s";
  counter_evidence(e, counter_id::listen_overflows, f);
  f.evidence.emplace_back("somaxconn", known(e.sysctls.somaxconn));
  f.why = std::string(accept_why);
  f.advice.push_back(
      "a listener's application does not call accept() fast enough at times: watch the "
      "queues with ssfast -tln (Recv-Q against Send-Q) or ssfast check --crit listen_queue=90");
  out.push_back(std::move(f));
}

}  // namespace ssfast::doctor_rules
