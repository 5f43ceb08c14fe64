// SPDX-License-Identifier: Apache-2.0
// Building sock_diag dump requests into a caller's buffer. Pure: no syscalls, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "ssfast/core/filter.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/core/socket_table.h"

namespace ssfast::netlink {

/// The state mask a dump of every TCP state sends: abi::tcp_all_states (TCP_ESTABLISHED to
/// TCP_CLOSING) plus bit 0, which no socket has, so the request is byte for byte the one ss
/// sends (iproute2 ss.c SS_ALL, (1 << SS_MAX) - 1). The kernel adds NEW_SYN_RECV request
/// sockets itself when SYN_RECV is asked for (inet_diag.c). Bit 13, BOUND_INACTIVE (6.8+), is
/// left out, as in ss and /proc/net/tcp.
inline constexpr std::uint32_t all_tcp_states = abi::tcp_all_states | 1u;
/// Every state for UDP and UNIX sockets (which use only a few TCP_* values).
inline constexpr std::uint32_t all_states = 0xffffffff;

/// idiag_ext bit asking for INET_DIAG_SKMEMINFO (1 << (INET_DIAG_SKMEMINFO - 1), uapi
/// linux/inet_diag.h): the socket's sk_meminfo array, SK_MEMINFO_DROPS among it.
inline constexpr std::uint8_t skmeminfo_ext = 1u << (7 - 1);
/// The idiag_ext bits ss asks for with -m (MEMINFO, SKMEMINFO), -i (INFO, VEGASINFO, CONG)
/// and --tos (TOS, TCLASS): 1 << (INET_DIAG_x - 1) for each (uapi linux/inet_diag.h).
inline constexpr std::uint8_t memory_ext = 1u << (1 - 1) | skmeminfo_ext;
inline constexpr std::uint8_t tcp_info_ext = 1u << (2 - 1) | 1u << (3 - 1) | 1u << (4 - 1);
inline constexpr std::uint8_t tos_ext = 1u << (5 - 1) | 1u << (6 - 1);

/// packet_diag show flags (uapi linux/packet_diag.h): what ss asks for (ss.c
/// packet_show_netlink): INFO, MEMINFO, FILTER, RING_CFG, FANOUT. MEMINFO gives Recv-Q.
inline constexpr std::uint32_t packet_show_rows = 0x01 | 0x04 | 0x08 | 0x10 | 0x20;
/// netlink_diag show flags (uapi linux/netlink_diag.h): GROUPS and MEMINFO, as ss asks.
inline constexpr std::uint32_t netlink_show_rows = 0x01 | 0x02;

/// The idiag_ext bits `q` asks for, as ss asks for them (ss.c sockdiag_send).
std::uint8_t inet_ext_of(const socket_query& q) noexcept;

/// unix_diag show flags for rows: name, peer, queue lengths, uid.
inline constexpr std::uint32_t unix_show_rows = 0x01 | 0x04 | 0x10 | 0x40;
/// More unix_diag show flags: -e's UDIAG_SHOW_VFS and UDIAG_SHOW_ICONS, -m's MEMINFO.
inline constexpr std::uint32_t unix_show_details = 0x02 | 0x08;
inline constexpr std::uint32_t unix_show_memory = 0x20;

/// One dump to ask for.
struct dump_request {
  enum class kind : std::uint8_t {
    inet,         ///< SOCK_DIAG_BY_FAMILY + inet_diag_req_v2: one family
    inet_legacy,  ///< TCPDIAG_GETSOCK + inet_diag_req: TCP, both families in one hash walk
                  ///< (inet_diag_dump_compat dumps with AF_UNSPEC)
    unix_domain,  ///< SOCK_DIAG_BY_FAMILY + unix_diag_req
    packet,       ///< SOCK_DIAG_BY_FAMILY + packet_diag_req: every packet socket
    netlink,      ///< SOCK_DIAG_BY_FAMILY + netlink_diag_req: every netlink protocol
    /// SOCK_DIAG_BY_FAMILY for any family, an inet_diag_req_v2's bytes with no state asked:
    /// whether the kernel has a diag handler for `family` (and `protocol`), which it answers
    /// with ENOENT when it has none (sock_diag_rcv_msg, inet_diag_lock_handler).
    probe,
  };
  kind what = kind::inet;
  std::uint8_t family = 0;  ///< inet: AF_INET or AF_INET6
  /// inet: IPPROTO_TCP, UDP, RAW, or MPTCP (past a byte: sent as INET_DIAG_REQ_PROTOCOL, as
  /// ss does, inet_diag_get_protocol preferring it to sdiag_protocol)
  std::uint16_t protocol = 0;
  std::uint8_t inet_ext = 0;  ///< inet: idiag_ext extension bits; 0 for counting
  std::uint32_t states = all_states;
  std::uint32_t unix_show = 0;  ///< unix: UDIAG_SHOW_* bits; 0 for counting
  std::uint32_t show = 0;       ///< packet, netlink: PACKET_SHOW_*, NDIAG_SHOW_* bits
  /// inet, inet_legacy: an INET_DIAG_REQ_BYTECODE program (see bytecode.h); empty for none.
  std::span<const std::byte> bytecode;
};

/// The message type of `r`, which the kernel's replies carry too.
std::uint16_t reply_type(const dump_request& r) noexcept;

/// Largest request head build_request writes: netlink header, request struct and the bytecode
/// attribute's header. The bytecode itself is sent from the caller's buffer, in its own iovec
/// (as iproute2's ss does), so its size does not depend on this buffer.
inline constexpr std::size_t max_request_head = 128;  // 16 + 56 + 8 + 4 at most

/// Most bytecode one request carries: INET_DIAG_REQ_BYTECODE is one attribute, whose nla_len
/// (16 bits) counts its 4-byte header, and bytecode comes in 4-byte ops: 65535 - 4, rounded
/// down to a multiple of 4.
inline constexpr std::size_t max_request_bytecode = 65528;

/// A request laid out for sendmsg: the head in the caller's buffer, then `bytecode` as is.
struct request_layout {
  std::size_t head = 0;   ///< bytes of the head; 0 if it could not be built
  std::size_t total = 0;  ///< nlmsg_len: head + bytecode, aligned
};

/// Writes the head of the netlink message for `r` with sequence number `seq` into `buf`: the
/// header (whose nlmsg_len covers the bytecode too), the request and, with bytecode, the
/// attribute header. head is 0 if `buf` is smaller than max_request_head, or the bytecode is
/// over max_request_bytecode or not a multiple of 4 (every op is). No allocation.
request_layout build_request(const dump_request& r, std::uint32_t seq,
                             std::span<std::byte> buf) noexcept;

/// Size of a SOCK_DESTROY request: a netlink header and an inet_diag_req_v2.
inline constexpr std::size_t destroy_request_size = 16 + 56;

/// Writes the SOCK_DESTROY request for inet socket `r` (ss -K; tcp_diag_destroy and
/// udp_diag_destroy find it by its inet_diag_sockid: addresses, ports, interface and cookie)
/// with sequence number `seq`, asking for an acknowledgement. Returns the bytes written, 0 if
/// `buf` is too small or `r` is not a TCP or UDP socket over IPv4 or IPv6. No allocation.
std::size_t build_destroy(const socket_row& r, std::uint32_t seq,
                          std::span<std::byte> buf) noexcept;

}  // namespace ssfast::netlink
