// SPDX-License-Identifier: Apache-2.0
// ss-style socket filters: `state`/`exclude` state sets and an expression over ports and
// addresses (sport, dport, src, dst, and, or, not, parentheses), parsed into a flat tree that
// is evaluated here and compiled to kernel bytecode by netlink/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ssfast/core/export.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/core/socket_summary.h"
#include "ssfast/core/socket_table.h"

namespace ssfast {

/// One node of a filter expression.
struct filter_node {
  enum class kind : std::uint8_t {
    port_range,  ///< port on `side` within [lo, hi]
    host,        ///< address (prefix) and/or port on `side`, as the kernel's S_COND/D_COND
    device,      ///< bound to interface `value` (sk_bound_dev_if; 0: none), DEV_COND
    mark,        ///< (sk_mark & `mask`) == `value`, MARK_COND (needs CAP_NET_ADMIN)
    cgroup,      ///< in the cgroup v2 of id `value`, CGROUP_COND
    autobound,   ///< local port chosen by the kernel: AUTO (no SOCK_BINDPORT_LOCK) and, as
                 ///< ss checks again, in the ephemeral range [lo, hi]
    unix_name,   ///< a UNIX socket whose name on `side` fnmatch()es patterns[`value`]
    and_,        ///< a && b
    or_,         ///< a || b
    not_,        ///< !a
  };
  enum class side : std::uint8_t { src, dst };

  kind what = kind::port_range;
  side on = side::src;
  std::uint16_t lo = 0, hi = 0;  ///< port_range
  std::uint8_t family = 0;       ///< host: 0 any, 2 IPv4, 10 IPv6 (AF_* values)
  std::uint8_t prefix_len = 0;   ///< host: bits of `addr` that must match; 0 for any address
  std::int32_t port = -1;        ///< host: -1 for any port
  address_bytes addr{};          ///< host: network order, IPv4 in the first 4 bytes
  std::uint64_t value = 0;       ///< device, mark, cgroup, unix_name (see each kind)
  std::uint32_t mask = 0;        ///< mark
  std::uint16_t a = 0, b = 0;    ///< children (indices into filter::nodes)

  bool operator==(const filter_node&) const = default;
};

/// A parsed filter. Allocates on parse; evaluation allocates nothing.
struct socket_filter {
  /// TCP_* state bits the user asked for with `state`/`exclude`; empty if neither was given,
  /// so the command's default applies.
  std::optional<std::uint32_t> states;
  /// Set by an address written `inet:...` (2) or `inet6:...` (10): as in ss, the listing then
  /// shows that family only (the last such prefix wins).
  /// ... and `unix:PATTERN` (1): UNIX sockets only.
  std::optional<std::uint8_t> family;
  std::vector<filter_node> nodes;
  std::vector<std::string> patterns;  ///< unix_name's fnmatch patterns
  std::optional<std::uint16_t> root;  ///< empty: no expression (every socket matches)

  bool has_expression() const noexcept { return root.has_value(); }
  bool operator==(const socket_filter&) const = default;
};

/// Whether the expression has a condition only the kernel can judge for an inet socket
/// (device, mark, cgroup, autobound: a /proc row carries no bound device, mark, cgroup or
/// bind lock). The netlink source compiles them to bytecode; the /proc source refuses them.
SSFAST_API bool needs_kernel_judgement(const socket_filter& f) noexcept;

/// Name lookups a filter may need. Core does no I/O: the caller supplies them (api's
/// system_filter_resolver() asks the C library, as ss does); a null one refuses names.
struct filter_resolver {
  /// A service name ("https") to its port for TCP or UDP: the port, -1 unknown, -2 ambiguous
  /// (a different port for each protocol).
  std::int32_t (*service)(std::string_view name) = nullptr;
  /// A host name to its addresses (IPv4 and IPv6, network order); none if unknown.
  std::vector<std::pair<std::uint8_t, address_bytes>> (*host)(std::string_view name) = nullptr;
  /// An interface name ("lo") to its index, 0 if there is none.
  std::uint32_t (*interface)(std::string_view name) = nullptr;
  /// A cgroup v2 path ("/system.slice/nginx.service", from the cgroup2 mount) to its id (the
  /// directory's inode number), 0 if there is none.
  std::uint64_t (*cgroup)(std::string_view path) = nullptr;
  /// The ephemeral port range (ip_local_port_range) for `autobound`; unset or false: ss's
  /// fallback, 1024-4999.
  bool (*ephemeral_range)(std::uint16_t& lo, std::uint16_t& hi) = nullptr;
};

struct filter_parse_result {
  std::optional<socket_filter> filter;
  std::string error;  ///< one line naming the token and its position, if it failed
};

/// Parses ss filter syntax (iproute2 misc/ssfilter.y) from already split arguments (joined
/// with spaces, then tokenized, so `"sport = :443"` and `sport = :443` read the same):
///   FILTER := { state STATE | exclude STATE } [ EXPR ]
///   STATE  := established | syn-sent | syn-recv | fin-wait-1 | fin-wait-2 | time-wait |
///             closed | close-wait | last-ack | listening | closing | all | connected |
///             synchronized | bucket | big          (ss's names and groups)
///   EXPR   := UNARY { [ and | '&' | '&&' | or | '|' | '||' ] UNARY }   left to right, as ss:
///             and does not bind tighter than or; juxtaposition is and
///   UNARY  := (not | '!') UNARY | '(' EXPR ')' | (sport | dport) [OP] PORT
///           | (src | dst) [EQ] HOST | dev [EQ|NE] DEVICE | fwmark [EQ|NE] MARK[/MASK]
///           | cgroup [EQ|NE] PATH | autobound
///   OP     := EQ | NE | < lt | <= le leq | > gt | >= ge geq;  EQ := = == eq;  NE := != ne neq
///   PORT   := [:]NUMBER | [:]SERVICE | [:]*
///   HOST   := [inet: | inet6:] ( * | *:PORT | :PORT | IPV4[/LEN][:PORT]
///             | [IPV6][/LEN][:PORT] | IPV6[/LEN] | NAME[:PORT] )  |  unix:PATTERN
///   DEVICE := interface name | index;  MARK, MASK := C integers (0x1f, 017, 31), as %i
/// SERVICE, NAME, DEVICE and PATH go through `resolve` (a host name may give several
/// addresses: any of them matches). `unix:PATTERN` (or any HOST when `default_family` is
/// af_unix, as `ss -x src /run/*`) is an fnmatch pattern, case-insensitive as ss 6.1's. link:,
/// netlink: and vsock: addresses are refused as not supported. Positions in errors count
/// characters of the joined text from 1.
SSFAST_API filter_parse_result parse_filter(std::span<const std::string_view> args,
                                            const filter_resolver& resolve = {},
                                            std::uint8_t default_family = 0);

/// The TCP_* state bits of one ss state name or group; empty for an unknown name.
SSFAST_API std::optional<std::uint32_t> state_set(std::string_view name) noexcept;

/// Whether `row` passes the expression (not the state set), with the kernel's semantics
/// (inet_diag_bc_run): an IPv4 host condition also matches an IPv4-mapped IPv6 address.
/// Port and address conditions never match UNIX sockets; a UNIX socket is judged as ss's
/// run_ssfilter judges it: bound to no device, mark 0, in no cgroup, autobound when unnamed
/// or named by autobind ("@" and five hex digits), its peer's name empty. An inet socket's
/// mark, cgroup and bind lock are not in a row: it is judged as ss judges a row of its own,
/// unmarked, in no cgroup, autobound when its local port is in the node's ephemeral range; so
/// a caller listing inet rows from /proc refuses needs_kernel_judgement() filters.
/// No allocation.
SSFAST_API bool matches_expression(const socket_filter& f, const socket_row& row) noexcept;

/// Whether a UNIX row's type is among `unix_types` (socket_query::unix_types; 0: every type).
/// True for any other row. No allocation.
constexpr bool unix_type_listed(std::uint8_t unix_types, const socket_row& row) noexcept {
  return unix_types == 0 || row.family != abi::af_unix ||
         (row.sock_type < 8 && (unix_types >> row.sock_type & 1u) != 0);
}

/// Whether a packet row's type is among `packet_types` (socket_query::packet_types; 0: both).
constexpr bool packet_type_listed(std::uint8_t packet_types, const socket_row& row) noexcept {
  return packet_types == 0 || row.family != abi::af_packet ||
         (row.sock_type < 8 && (packet_types >> row.sock_type & 1u) != 0);
}

/// What a listing (collector::list) selects: protocols and families, states (one TCP_* bit
/// mask for every protocol, as ss applies it: UDP uses ESTABLISHED and CLOSE, UNIX LISTEN,
/// ESTABLISHED and CLOSE), and an expression over ports and addresses.
struct socket_query {
  count_scope scope;
  std::uint32_t states = abi::tcp_all_states;  ///< TCP_ESTABLISHED..TCP_CLOSING
  const socket_filter* filter = nullptr;       ///< null: no expression
  /// The UNIX socket types listed (ss -A unix_stream, unix_dgram, unix_seqpacket), as bits
  /// 1 << SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET; 0: every type.
  std::uint8_t unix_types = 0;
  /// The packet socket types listed (ss -A packet_raw, packet_dgram), as bits 1 << SOCK_RAW,
  /// SOCK_DGRAM; 0: both.
  std::uint8_t packet_types = 0;
  /// Ask for each TCP socket's memory counters (INET_DIAG_SKMEMINFO), which fill
  /// socket_row::drops; every message grows by 40 bytes. Netlink only: /proc has none.
  bool socket_memory = false;
  /// What more a listing shows of each socket, as ss's options ask the kernel for it. Any of
  /// them keeps each row's netlink attributes (socket_row::attributes). Netlink only.
  struct details {
    bool memory = false;    ///< -m: INET_DIAG_SKMEMINFO and MEMINFO; UNIX: UDIAG_SHOW_MEMINFO
    bool tcp_info = false;  ///< -i: INET_DIAG_INFO, VEGASINFO and CONG
    bool tos = false;       ///< --tos: INET_DIAG_TOS and TCLASS
    /// -e, --cgroup: what inet_diag sends unasked for a full socket (SHUTDOWN, SKV6ONLY,
    /// CGROUP_ID, MARK); UNIX: UDIAG_SHOW_VFS and UDIAG_SHOW_ICONS.
    bool extended = false;
    bool bpf = false;  ///< -b: PACKET_DIAG_FILTER (asked for always, kept only then)
    bool any() const noexcept { return memory || tcp_info || tos || extended || bpf; }
  } show;
};

/// What a listing was asked to show, in ss's options.
struct listing_selection {
  bool all = false;          ///< -a
  bool listening = false;    ///< -l
  bool tcp = false;          ///< -t; with -u and -x, the tables (none of them: every table)
  bool udp = false;          ///< -u
  bool unix_domain = false;  ///< -x
  bool raw = false;          ///< -w: ESTABLISHED by default, as UDP
  bool packet = false;       ///< -0: UNCONN (every packet socket) by default
  bool netlink = false;      ///< -f netlink: UNCONN (every netlink socket) by default
  bool mptcp = false;        ///< -M: connected, as TCP
  /// Tables ssfast does not list, named to be found empty (-S, -d, --vsock, --tipc: connected
  /// by default; --xdp: UNCONN), as they shape ss's State column.
  bool other_connected = false;
  bool other_unconnected = false;
};

/// The TCP_* state mask ss lists when no `state` or `exclude` filter says otherwise: every state
/// with -a; LISTEN and CLOSE with -l; else the union of each table's default, connected sockets
/// for -t and -x (SS_CONN: not LISTEN, CLOSE, TIME_WAIT or SYN_RECV) and ESTABLISHED for -u,
/// and with no table named, SS_CONN (plain `ss` of iproute2 6.1 shows no unconnected UDP or
/// UNIX datagram socket). No allocation.
SSFAST_API std::uint32_t ss_default_states(const listing_selection& s) noexcept;

/// The query a parsed filter asks within `scope`: an inet: or inet6: address narrows it to
/// that family and leaves UNIX sockets out (ss.c filter_af_set); the filter's states, else
/// `default_states`; the filter itself as the expression (so `f` must outlive the query).
SSFAST_API socket_query query_of(const socket_filter& f, count_scope scope,
                                 std::uint32_t default_states) noexcept;

}  // namespace ssfast
