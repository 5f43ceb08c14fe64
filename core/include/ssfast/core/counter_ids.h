// SPDX-License-Identifier: Apache-2.0
// The kernel counters ssfast reads by name, one identifier each and one table of their names:
// what --watch and the live view show, the exporter carries and the doctor's rules weigh.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace ssfast {

/// A counter of /proc/net/snmp, netstat or sockstat that some output or rule names.
enum class counter_id : std::uint8_t {
  tcp_active_opens,
  tcp_passive_opens,
  tcp_attempt_fails,
  tcp_estab_resets,
  tcp_in_segs,
  tcp_out_segs,
  tcp_retrans_segs,
  tcp_in_errs,
  tcp_out_rsts,
  listen_overflows,
  listen_drops,
  tcp_timeouts,
  syncookies_sent,
  syncookies_recv,
  syncookies_failed,
  tcp_abort_on_timeout,
  tcp_abort_on_memory,
  timewait_killed,  ///< TcpExt.TW: TIME_WAIT sockets that ended at their timer
  timewait_overflow,
  req_q_full_drop,
  req_q_full_do_cookies,
  memory_pressures,
  syn_retrans,
  sockstat_tcp_orphan,  ///< levels, not counters: sockstat's TCP line
  sockstat_tcp_mem,
  sockstat_tcp_tw,
};

/// Each counter_id's name as collector::read_all_counters gives it, "Group.Field", in the
/// enum's order (checked below).
inline constexpr std::array<std::pair<counter_id, std::string_view>, 26> counter_names = {{
    {counter_id::tcp_active_opens, "Tcp.ActiveOpens"},
    {counter_id::tcp_passive_opens, "Tcp.PassiveOpens"},
    {counter_id::tcp_attempt_fails, "Tcp.AttemptFails"},
    {counter_id::tcp_estab_resets, "Tcp.EstabResets"},
    {counter_id::tcp_in_segs, "Tcp.InSegs"},
    {counter_id::tcp_out_segs, "Tcp.OutSegs"},
    {counter_id::tcp_retrans_segs, "Tcp.RetransSegs"},
    {counter_id::tcp_in_errs, "Tcp.InErrs"},
    {counter_id::tcp_out_rsts, "Tcp.OutRsts"},
    {counter_id::listen_overflows, "TcpExt.ListenOverflows"},
    {counter_id::listen_drops, "TcpExt.ListenDrops"},
    {counter_id::tcp_timeouts, "TcpExt.TCPTimeouts"},
    {counter_id::syncookies_sent, "TcpExt.SyncookiesSent"},
    {counter_id::syncookies_recv, "TcpExt.SyncookiesRecv"},
    {counter_id::syncookies_failed, "TcpExt.SyncookiesFailed"},
    {counter_id::tcp_abort_on_timeout, "TcpExt.TCPAbortOnTimeout"},
    {counter_id::tcp_abort_on_memory, "TcpExt.TCPAbortOnMemory"},
    {counter_id::timewait_killed, "TcpExt.TW"},
    {counter_id::timewait_overflow, "TcpExt.TCPTimeWaitOverflow"},
    {counter_id::req_q_full_drop, "TcpExt.TCPReqQFullDrop"},
    {counter_id::req_q_full_do_cookies, "TcpExt.TCPReqQFullDoCookies"},
    {counter_id::memory_pressures, "TcpExt.TCPMemoryPressures"},
    {counter_id::syn_retrans, "TcpExt.TCPSynRetrans"},
    {counter_id::sockstat_tcp_orphan, "TCP.orphan"},
    {counter_id::sockstat_tcp_mem, "TCP.mem"},
    {counter_id::sockstat_tcp_tw, "TCP.tw"},
}};

namespace detail {
constexpr bool counter_names_in_order() {
  for (std::size_t i = 0; i < counter_names.size(); ++i)
    if (static_cast<std::size_t>(counter_names[i].first) != i) return false;
  return true;
}
static_assert(counter_names_in_order(), "counter_names must follow counter_id's order");
}  // namespace detail

/// "TcpExt.ListenOverflows". No allocation.
constexpr std::string_view counter_name(counter_id id) noexcept {
  return counter_names[static_cast<std::size_t>(id)].second;
}

/// Whether a counter named as read_all_counters names it is a gauge (a level that goes up and
/// down) rather than a count since the namespace was made: everything of /proc/net/sockstat
/// and sockstat6 (TCP.inuse, TCP.tw, TCP6.inuse, sockets.used, ...), and the levels and
/// settings of /proc/net/snmp (Tcp.CurrEstab, Tcp.RtoMin, Tcp.RtoMax, Tcp.RtoAlgorithm,
/// Tcp.MaxConn, Ip.Forwarding, Ip.DefaultTTL; RFC 4022 and RFC 4293 define them as gauges or
/// settings). A gauge's change means something, its change per second does not.
constexpr bool counter_is_gauge(std::string_view name) noexcept {
  const std::size_t dot = name.find('.');
  const std::string_view group = name.substr(0, dot);
  for (std::string_view g : {"sockets", "TCP", "UDP", "UDPLITE", "RAW", "FRAG", "TCP6", "UDP6",
                             "UDPLITE6", "RAW6", "FRAG6"})
    if (group == g) return true;
  for (std::string_view n : {"Tcp.CurrEstab", "Tcp.RtoMin", "Tcp.RtoMax", "Tcp.RtoAlgorithm",
                             "Tcp.MaxConn", "Ip.Forwarding", "Ip.DefaultTTL"})
    if (name == n) return true;
  return false;
}

/// The values of `ids` in `all` (read_all_counters' list), in `ids`' order; unset where `all`
/// lacks one. One pass over `all`, no allocation: what a --watch tick reads instead of
/// building a map of every counter.
template <std::size_t N>
std::array<std::optional<std::int64_t>, N> pick_counters(
    std::span<const std::pair<std::string, std::int64_t>> all,
    const std::array<counter_id, N>& ids) noexcept {
  std::array<std::optional<std::int64_t>, N> out{};
  for (const auto& [name, value] : all)
    for (std::size_t i = 0; i < N; ++i)
      if (!out[i] && name == counter_name(ids[i])) out[i] = value;
  return out;
}

}  // namespace ssfast
