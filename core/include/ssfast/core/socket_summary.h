// SPDX-License-Identifier: Apache-2.0
// What `ssfast -s` reports: per-state socket counts by protocol and family, and the kernel's own
// counters, kept apart.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ssfast/core/state_counts.h"

namespace ssfast {

/// Address families counted separately for TCP and UDP.
enum class ip_family : std::uint8_t { v4 = 0, v6 = 1 };

/// UNIX sockets by socket type (SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_SEQPACKET = 5 index
/// by_type) and by state (the kernel uses TCP_LISTEN, TCP_ESTABLISHED, TCP_CLOSE for them).
struct unix_counts {
  std::array<std::uint64_t, 8> by_type{};
  state_counts states;

  std::uint64_t total() const noexcept { return states.total(); }
  friend bool operator==(const unix_counts&, const unix_counts&) = default;
};

/// Which parts a count covers; what is not collected is reported as absent, never as zero.
struct count_scope {
  bool tcp = true;
  bool udp = true;
  bool unix_domain = true;
  bool ipv4 = true;
  bool ipv6 = true;
  /// Tables only a listing asks for (ss -w, -0, -A netlink); counts and summaries leave them
  /// out.
  bool raw = false;
  bool packet = false;
  bool netlink = false;
  bool mptcp = false;  ///< ss -M: MPTCP connections (mptcp_diag)
};

/// How a count (collector::count) obtains ESTABLISHED.
enum class count_method : std::uint8_t {
  exact,     ///< one message per socket from the kernel: the walk
  estimate,  ///< dump every other state; ESTABLISHED = CurrEstab - CLOSE_WAIT (netlink, both
             ///< families; otherwise, or if the figures disagree, exact; see
             ///< socket_summary::estimate)
  derived,   ///< dump every other state and derive ESTABLISHED twice, from CurrEstab and from
             ///< sockstat inuse; taken when both agree and the gauges held still, else the
             ///< walk (see socket_summary::derivation)
};

/// The namespace's gauges a derived count checks itself against: /proc/net/snmp Tcp CurrEstab
/// (ESTABLISHED + CLOSE_WAIT), /proc/net/sockstat TCP inuse and sockstat6 TCP6 inuse (the full
/// TCP sockets hashed in the namespace, by the protocol they were made with: tcp_prot,
/// tcpv6_prot). Empty: not readable.
struct tcp_gauges {
  std::optional<std::int64_t> curr_estab;
  std::array<std::optional<std::int64_t>, 2> inuse;  ///< indexed by ip_family
  friend bool operator==(const tcp_gauges&, const tcp_gauges&) = default;
};

/// One snapshot of socket counts. Plain data, no allocation. UDP uses TCP_ESTABLISHED for
/// connected sockets and TCP_CLOSE for unconnected ones, as the kernel does.
struct socket_summary {
  std::array<state_counts, 2> tcp;  ///< indexed by ip_family
  std::array<state_counts, 2> udp;  ///< indexed by ip_family
  unix_counts unix_domain;
  count_scope scope;  ///< what was collected
  /// /proc source only: malformed lines left out (so not counted) and rows dropped because a
  /// read() boundary repeated them.
  std::uint64_t skipped_lines = 0;
  std::uint64_t duplicate_rows = 0;
  /// netlink source only: sockets a dump reported a second time (the same socket cookie soon
  /// after, as inet_diag's resume by hash position produces under churn), counted once.
  std::uint64_t repeats_dropped = 0;

  /// How ESTABLISHED was obtained when an estimate was asked for.
  enum class estimate_status : std::uint8_t {
    not_requested,       ///< counted exactly, as asked
    estimated,           ///< ESTABLISHED = CurrEstab - CLOSE_WAIT (see below)
    inconsistent,        ///< CurrEstab < the dumped CLOSE_WAIT: counted exactly instead
    counter_missing,     ///< /proc/net/snmp CurrEstab unreadable: counted exactly instead
    needs_netlink,       ///< the /proc source lists every socket anyway: counted exactly
    needs_both_families  ///< CurrEstab covers IPv4 and IPv6 together: counted exactly
  };
  estimate_status estimate = estimate_status::not_requested;
  /// With estimate_status::estimated: ESTABLISHED over both families, derived from
  /// /proc/net/snmp Tcp CurrEstab (ESTABLISHED + CLOSE_WAIT, RFC 1213) minus the CLOSE_WAIT
  /// sockets of a dump of every other state; tcp[f][ESTABLISHED] stay 0 (not dumped).
  std::uint64_t established_estimate = 0;
  std::int64_t curr_estab = 0;  ///< the CurrEstab the estimate used

  /// How a derived count (count_method::derived) went: whether ESTABLISHED was derived, and if
  /// not, why the sockets were walked instead.
  enum class derivation_status : std::uint8_t {
    not_requested,        ///< the walk (or the estimate) was asked for
    taken,                ///< derived: both derivations agreed and the gauges held still
    gauges_moved,         ///< CurrEstab or inuse changed during the dump: walked
    disagreed,            ///< the two derivations differ: walked
    gauge_missing,        ///< snmp or sockstat unreadable: walked
    needs_both_families,  ///< CurrEstab covers IPv4 and IPv6 together: walked
    needs_netlink,        ///< the /proc source lists every socket anyway
    backed_off  ///< tries failed in a row (churn): walked without one (derivation_backoff)
  };
  derivation_status derivation = derivation_status::not_requested;
  /// The gauges the derivation read after its dump (as before it when taken).
  tcp_gauges gauges;

  /// How ESTABLISHED was counted: "derived" (from the gauges), "estimate", or "walk" (one
  /// message per socket; also a filtered count and the /proc source). Static storage.
  std::string_view method() const noexcept {
    if (estimate == estimate_status::estimated) return "estimate";
    if (derivation == derivation_status::taken) return "derived";
    return "walk";
  }

  const state_counts& tcp_of(ip_family f) const noexcept {
    return tcp[static_cast<std::size_t>(f)];
  }
  const state_counts& udp_of(ip_family f) const noexcept {
    return udp[static_cast<std::size_t>(f)];
  }
  /// TCP over the collected families.
  state_counts tcp_all() const noexcept {
    state_counts c = tcp[0];
    c += tcp[1];
    return c;
  }
  /// TCP over the collected families with ESTABLISHED filled in from the estimate, when there
  /// is one: the histogram to show.
  state_counts tcp_histogram() const noexcept {
    state_counts c = tcp_all();
    if (estimate == estimate_status::estimated)
      c[static_cast<std::size_t>(tcp_state::established)] = established_estimate;
    return c;
  }
  state_counts udp_all() const noexcept {
    state_counts c = udp[0];
    c += udp[1];
    return c;
  }
  /// Every socket counted: TCP (as shown), UDP and UNIX. What was not counted is zero.
  std::uint64_t total() const noexcept {
    return tcp_histogram().total() + udp_all().total() + unix_domain.total();
  }
  /// Adds another count's sockets (a namespace's to a host's total); scope and estimate
  /// fields are left as they are. No allocation.
  socket_summary& operator+=(const socket_summary& o) noexcept {
    for (std::size_t f = 0; f < 2; ++f) {
      tcp[f] += o.tcp[f];
      udp[f] += o.udp[f];
    }
    unix_domain.states += o.unix_domain.states;
    for (std::size_t k = 0; k < unix_domain.by_type.size(); ++k)
      unix_domain.by_type[k] += o.unix_domain.by_type[k];
    repeats_dropped += o.repeats_dropped;
    return *this;
  }
};

/// The kernel's own counters for this network namespace, from /proc/net/sockstat, sockstat6 and
/// snmp. These are not socket counts of the histogram: `tcp_inuse` excludes TIME_WAIT, `tcp_tw`
/// includes FIN_WAIT2 timewait substates, `tcp_curr_estab` is ESTABLISHED plus CLOSE_WAIT (RFC
/// 1213 tcpCurrEstab). A field the kernel did not print is empty.
struct kernel_counters {
  std::optional<std::int64_t> sockets_used;
  std::optional<std::int64_t> tcp_inuse, tcp_orphan, tcp_tw, tcp_alloc, tcp_mem;
  std::optional<std::int64_t> udp_inuse, udp_mem;
  std::optional<std::int64_t> raw_inuse;
  std::optional<std::int64_t> tcp6_inuse, udp6_inuse, raw6_inuse;
  std::optional<std::int64_t> tcp_curr_estab;
};

/// One field of kernel_counters with the kernel's own names for it (sockstat's "TCP" "inuse",
/// snmp's "Tcp" "CurrEstab"). kernel_counter_fields is the one list: /proc parsing fills the
/// struct from it and every renderer prints it in its order, grouped as the kernel groups them.
struct kernel_counter_field {
  std::string_view group, name;
  std::optional<std::int64_t> kernel_counters::*field;
};

inline constexpr kernel_counter_field kernel_counter_fields[] = {
    {"sockets", "used", &kernel_counters::sockets_used},
    {"TCP", "inuse", &kernel_counters::tcp_inuse},
    {"TCP", "orphan", &kernel_counters::tcp_orphan},
    {"TCP", "tw", &kernel_counters::tcp_tw},
    {"TCP", "alloc", &kernel_counters::tcp_alloc},
    {"TCP", "mem", &kernel_counters::tcp_mem},
    {"TCP6", "inuse", &kernel_counters::tcp6_inuse},
    {"UDP", "inuse", &kernel_counters::udp_inuse},
    {"UDP", "mem", &kernel_counters::udp_mem},
    {"UDP6", "inuse", &kernel_counters::udp6_inuse},
    {"RAW", "inuse", &kernel_counters::raw_inuse},
    {"RAW6", "inuse", &kernel_counters::raw6_inuse},
    {"Tcp", "CurrEstab", &kernel_counters::tcp_curr_estab},
};

}  // namespace ssfast
