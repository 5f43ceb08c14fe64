// SPDX-License-Identifier: Apache-2.0
// The rules about sockets that linger or cost: CLOSE_WAIT leaks, FIN_WAIT2, orphans, TCP
// memory, retransmissions, and tcp_tw_recycle.
#include "rules.h"

namespace ssfast::doctor_rules {

void close_wait_leak(const doctor_evidence& e, std::vector<finding>& out) {
  const std::uint64_t n = e.close_wait_persisting;
  if (n < close_wait_warn) return;
  finding f;
  f.id = "close_wait_leak";
  f.state = tcp_state::close_wait;
  f.level = n >= close_wait_crit ? severity::critical : severity::warning;
  const std::uint64_t now = tcp_in(e, tcp_state::close_wait);
  f.summary = num(n) + " sockets stayed in CLOSE_WAIT for the whole " + fixed1(e.interval_s) +
              " s (" + num(now) + " now)";
  if (!e.close_wait_processes.empty())
    f.summary += ", most held by " + e.close_wait_processes.front().key;
  f.evidence = {
      {"close_wait", evidence_value(now)},
      {"persisting", evidence_value(n)},
      {"ports", groups_text(e.close_wait_ports)},
      {"processes", e.close_wait_processes.empty() ? std::string("unknown (not readable)")
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
  f.state = tcp_state::fin_wait2;
  f.level = severity::warning;
  f.summary = num(orphaned + held) + " sockets in FIN_WAIT2: " + num(orphaned) +
              " closed here and waiting for the peer's FIN, " + num(held) +
              " still held by a process (half-closed)";
  f.evidence = {{"fin_wait2", evidence_value(orphaned + held)},
                {"orphaned", evidence_value(orphaned)},
                {"held", evidence_value(held)},
                {"tcp_fin_timeout", known(e.sysctls.tcp_fin_timeout)}};
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
  const auto orphans = counter(e, counter_id::sockstat_tcp_orphan);
  if (!max || *max <= 0 || !orphans) return;
  const std::int64_t aborts = delta_or0(e, counter_id::tcp_abort_on_memory);
  const double share = static_cast<double>(*orphans) / static_cast<double>(*max);
  if (share < orphans_warn && aborts == 0) return;
  finding f;
  f.id = "orphans_limit";
  f.state = tcp_state::fin_wait1;
  f.level = share >= orphans_crit || aborts > 0 ? severity::critical : severity::warning;
  f.summary = num(*orphans) + " orphaned sockets of tcp_max_orphans " + num(*max) + " (" +
              percent(share) + ")" +
              (aborts > 0 ? "; " + num(aborts) + " connections reset for memory" : std::string());
  f.evidence = {{"orphan", evidence_value(*orphans)},
                {"tcp_max_orphans", evidence_value(*max)},
                {"fin_wait1", evidence_value(tcp_in(e, tcp_state::fin_wait1))},
                {"fin_wait2", evidence_value(tcp_in(e, tcp_state::fin_wait2))},
                {"last_ack", evidence_value(tcp_in(e, tcp_state::last_ack))},
                {"closing", evidence_value(tcp_in(e, tcp_state::closing))}};
  counter_evidence(e, counter_id::tcp_abort_on_memory, f);
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
  const auto mem = counter(e, counter_id::sockstat_tcp_mem);
  if (!limits || !mem) return;
  const std::int64_t pressure = (*limits)[1], max = (*limits)[2];
  const std::int64_t aborts = delta_or0(e, counter_id::tcp_abort_on_memory);
  const std::int64_t pressures = delta_or0(e, counter_id::memory_pressures);
  const bool crit =
      (max > 0 && static_cast<double>(*mem) >= 0.9 * static_cast<double>(max)) || aborts > 0;
  const bool warn = (pressure > 0 && *mem >= pressure) || pressures > 0;
  if (!crit && !warn) return;
  finding f;
  f.id = "tcp_memory";
  f.level = crit ? severity::critical : severity::warning;
  f.summary = "TCP buffers use " + num(*mem) + " pages; tcp_mem pressure " + num(pressure) +
              ", max " + num(max);
  f.evidence = {{"mem_pages", evidence_value(*mem)},
                {"tcp_mem", num((*limits)[0]) + " " + num(pressure) + " " + num(max)}};
  counter_evidence(e, counter_id::memory_pressures, f);
  counter_evidence(e, counter_id::tcp_abort_on_memory, f);
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
  const std::int64_t sent = delta_or0(e, counter_id::tcp_out_segs);
  const std::int64_t all_again = delta_or0(e, counter_id::tcp_retrans_segs);
  const std::int64_t syn = delta_or0(e, counter_id::syn_retrans);
  // TCPSynRetrans (and RetransSegs) count a listener's SYN-ACK retransmissions
  // (tcp_rtx_synack()) as well as the SYN retransmissions of this host's connects
  // (tcp_retransmit_timer()). The sockets tell them apart: a request socket's idiag_retrans is
  // its SYN-ACK's num_retrans, a SYN_SENT socket's its SYN's icsk_retransmits. SYN-ACKs to
  // clients that never answer are a SYN flood's (the syn_flood finding), not the path's.
  const std::uint64_t pending = e.synack_retrans + e.syn_sent_retrans;
  const double synack_share =
      pending > 0 ? static_cast<double>(e.synack_retrans) / static_cast<double>(pending) : 0;
  const auto synack = std::min(
      all_again, static_cast<std::int64_t>(std::llround(static_cast<double>(syn) * synack_share)));
  const std::int64_t again = all_again - synack;
  if (sent + again < retrans_min_segments) return;
  const double share = static_cast<double>(again) / static_cast<double>(sent + again);
  if (share < retrans_warn) return;
  const std::int64_t connect_syn = std::max<std::int64_t>(0, syn - synack);
  const std::int64_t timeouts = delta_or0(e, counter_id::tcp_timeouts);
  finding f;
  f.id = "retransmits";
  f.level = share >= retrans_crit ? severity::critical : severity::warning;
  f.summary = percent(share) + " of segments sent were retransmissions (" + per_second(e, again) +
              ", beside " + per_second(e, sent) + " new)";
  if (synack > 0)
    f.summary += "; " + per_second(e, synack) +
                 " SYN-ACK retransmissions to half-open clients "
                 "left out";
  f.evidence = {{"RetransSegs_per_s", rate(e, all_again)}, {"OutSegs_per_s", rate(e, sent)},
                {"retransmitted", share_of(share)},        {"TCPSynRetrans_per_s", rate(e, syn)},
                {"synack_retrans_per_s", rate(e, synack)}, {"TCPTimeouts_per_s", rate(e, timeouts)},
                {"syn_sent", evidence_value(e.syn_sent)}};
  f.why =
      "TCP resends a segment when no acknowledgement comes in time (a timeout) or duplicate "
      "ACKs report a gap. A few tenths of a percent is usual across the internet; a few "
      "percent cuts throughput hard, since each loss halves the sender's congestion window.";
  if (2 * connect_syn >= again && e.syn_sent > 0)
    f.advice.push_back(
        "most are SYN retransmissions of this host's connects: hosts that do not answer (down, "
        "firewalled, a full SYN queue): ssfast -tano state syn-sent shows where");
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
  f.evidence = {{"tcp_tw_recycle", evidence_value(*v)}, {"kernel", e.kernel_release}};
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

}  // namespace ssfast::doctor_rules
