// SPDX-License-Identifier: Apache-2.0
// Evaluating a socket filter on a row with the kernel's semantics, ss's state names and the
// states ss lists by default.
#include <fnmatch.h>

#include <algorithm>
#include <cstring>

#include "ssfast/core/addresses.h"
#include "ssfast/core/filter.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/core/tcp_state.h"

namespace ssfast {
namespace {

using abi::af_inet;
using abi::af_inet6;

// ss's run_ssfilter for autobound UNIX sockets: unnamed, or named by autobind (unix_autobind:
// "@" and five hex digits).
bool autobound_name(std::string_view p) noexcept {
  if (p.empty()) return true;
  return p.size() == 6 && p[0] == '@' && std::all_of(p.begin() + 1, p.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool eval(const socket_filter& f, std::uint16_t i, const socket_row& r) noexcept {
  const filter_node& n = f.nodes[i];
  const bool inet = r.family == af_inet || r.family == af_inet6;
  const bool src = n.on == filter_node::side::src;
  switch (n.what) {
    // ss's run_ssfilter: the row's bound device; no mark and no cgroup (a /proc row, a UNIX
    // socket and a destroy event carry neither), and autobound from the port alone (the bind
    // lock is the kernel's to judge: see needs_kernel_judgement).
    case filter_node::kind::device: return r.ifindex == n.value;
    case filter_node::kind::mark: return n.value == 0;  // (0 & mask) == mark
    case filter_node::kind::cgroup: return n.value == 0;
    case filter_node::kind::autobound:
      return inet ? n.lo <= r.local_port && r.local_port <= n.hi
                  : r.family == abi::af_unix && autobound_name(r.path);
    case filter_node::kind::unix_name: {
      // ss's unix_match: fnmatch, case-insensitive; ss 6.1 knows no peer's name over netlink,
      // so a dst pattern is matched against the empty name.
      if (r.family != abi::af_unix || n.value >= f.patterns.size()) return false;
      const std::string_view name = src ? r.path : std::string_view{};
      char buf[abi::unix_path_max + 1];
      const std::size_t len = std::min(name.size(), abi::unix_path_max);
      if (len > 0) std::memcpy(buf, name.data(), len);
      buf[len] = '\0';
      return fnmatch(f.patterns[n.value].c_str(), buf, FNM_CASEFOLD) == 0;
    }
    case filter_node::kind::and_: return eval(f, n.a, r) && eval(f, n.b, r);
    case filter_node::kind::or_: return eval(f, n.a, r) || eval(f, n.b, r);
    case filter_node::kind::not_: return !eval(f, n.a, r);
    case filter_node::kind::port_range: {
      if (!inet) return false;
      const std::uint16_t p = src ? r.local_port : r.peer_port;
      return n.lo <= p && p <= n.hi;
    }
    case filter_node::kind::host: {
      if (!inet) return false;
      const std::uint16_t p = src ? r.local_port : r.peer_port;
      if (n.port != -1 && n.port != p) return false;
      const address_bytes& a = src ? r.local_addr : r.peer_addr;
      if (n.family != 0 && n.family != r.family) {
        // inet_diag_bc_run: an IPv4 condition matches an IPv4-mapped IPv6 address.
        if (r.family == af_inet6 && n.family == af_inet && is_v4_mapped(a))
          return prefix_match(a.data() + 12, n.addr.data(), n.prefix_len);
        return false;
      }
      return n.prefix_len == 0 || prefix_match(a.data(), n.addr.data(), n.prefix_len);
    }
  }
  return false;
}

}  // namespace

std::optional<std::uint32_t> state_set(std::string_view s) noexcept {
  // ss's names (iproute2 ss.c sstate_namel) and groups, as bits of the kernel's TCP_* values.
  auto bit = [](tcp_state t) { return 1u << static_cast<unsigned>(t); };
  const std::uint32_t all = abi::tcp_all_states;
  struct entry {
    std::string_view name;
    std::uint32_t bits;
  };
  const entry names[] = {
      {"established", bit(tcp_state::established)},
      {"syn-sent", bit(tcp_state::syn_sent)},
      {"syn-recv", bit(tcp_state::syn_recv)},
      {"syn-rcv", bit(tcp_state::syn_recv)},
      {"fin-wait-1", bit(tcp_state::fin_wait1)},
      {"fin-wait-2", bit(tcp_state::fin_wait2)},
      {"time-wait", bit(tcp_state::time_wait)},
      {"closed", bit(tcp_state::close)},
      {"close", bit(tcp_state::close)},
      {"unconnected", bit(tcp_state::close)},
      {"close-wait", bit(tcp_state::close_wait)},
      {"last-ack", bit(tcp_state::last_ack)},
      {"listening", bit(tcp_state::listen)},
      {"listen", bit(tcp_state::listen)},
      {"closing", bit(tcp_state::closing)},
      {"all", all},
      {"connected", all & ~(bit(tcp_state::close) | bit(tcp_state::listen))},
      {"synchronized",
       all & ~(bit(tcp_state::close) | bit(tcp_state::listen) | bit(tcp_state::syn_sent))},
      {"bucket", bit(tcp_state::syn_recv) | bit(tcp_state::time_wait)},
      {"big", all & ~(bit(tcp_state::syn_recv) | bit(tcp_state::time_wait))},
  };
  for (const entry& e : names)
    if (e.name == s) return e.bits;
  return std::nullopt;
}

bool needs_kernel_judgement(const socket_filter& f) noexcept {
  if (!f.root) return false;
  return std::any_of(f.nodes.begin(), f.nodes.end(), [](const filter_node& n) {
    return n.what == filter_node::kind::device || n.what == filter_node::kind::mark ||
           n.what == filter_node::kind::cgroup || n.what == filter_node::kind::autobound;
  });
}

bool matches_expression(const socket_filter& f, const socket_row& row) noexcept {
  return !f.root || eval(f, *f.root, row);
}

std::uint32_t ss_default_states(const listing_selection& s) noexcept {
  constexpr std::uint32_t all = abi::tcp_all_states;
  constexpr auto bit = [](tcp_state t) { return 1u << static_cast<unsigned>(t); };
  if (s.all) return all;
  if (s.listening) return bit(tcp_state::listen) | bit(tcp_state::close);
  // iproute2 ss.c: one mask for every protocol listed. -t and -u add their table's default
  // (filter_db_set: TCP SS_CONN, UDP ESTABLISHED); -x, -4 and -6 add their family's
  // (filter_af_set: SS_CONN). With none of them, connected sockets of every table.
  const std::uint32_t conn = all & ~(bit(tcp_state::listen) | bit(tcp_state::close) |
                                     bit(tcp_state::time_wait) | bit(tcp_state::syn_recv));
  if (!s.tcp && !s.udp && !s.unix_domain && !s.raw && !s.packet && !s.netlink && !s.mptcp &&
      !s.other_connected && !s.other_unconnected)
    return conn;
  std::uint32_t m = 0;
  if (s.tcp || s.unix_domain || s.mptcp || s.other_connected) m |= conn;
  if (s.other_unconnected) m |= bit(tcp_state::close);
  // default_dbs in ss.c: RAW as UDP, ESTABLISHED; packet and netlink sockets, SS_CLOSE.
  if (s.udp || s.raw) m |= bit(tcp_state::established);
  if (s.packet || s.netlink) m |= bit(tcp_state::close);
  return m;
}

socket_query query_of(const socket_filter& f, count_scope scope,
                      std::uint32_t default_states) noexcept {
  socket_query q;
  q.scope = scope;
  if (f.family == abi::af_unix) {  // unix:PATTERN: UNIX sockets only
    q.scope.tcp = q.scope.udp = q.scope.raw = q.scope.mptcp = q.scope.ipv4 = q.scope.ipv6 = false;
    q.scope.packet = q.scope.netlink = false;
  } else if (f.family) {
    q.scope.ipv4 = q.scope.ipv4 && *f.family == abi::af_inet;
    q.scope.ipv6 = q.scope.ipv6 && *f.family == abi::af_inet6;
    q.scope.unix_domain = q.scope.packet = q.scope.netlink = false;
  }
  q.states = f.states.value_or(default_states);
  q.filter = &f;
  return q;
}

}  // namespace ssfast
