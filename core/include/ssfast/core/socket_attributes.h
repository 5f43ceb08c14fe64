// SPDX-License-Identifier: Apache-2.0
// A socket's netlink attributes (socket_row::attributes) decoded: what the kernel said of it
// beyond the fixed message, each field only when it was sent. The report layer prints them
// (ss's -e, -m, -i, --tos, --cgroup); grouping ranks by tcp_info.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

#include "ssfast/core/export.h"
#include "ssfast/core/socket_table.h"

namespace ssfast {

/// An attribute's payload as the kernel struct T; a shorter payload (an older kernel's struct)
/// leaves the rest zero, as ss reads it.
template <class T>
T attribute_as(std::span<const std::uint8_t> v) noexcept {
  T x{};
  std::memcpy(&x, v.data(), std::min(sizeof x, v.size()));
  return x;
}

/// What a row's attributes say. Malformed attributes (too short, a length past the end) are
/// ignored, as ss ignores what it cannot read: the row itself was checked by its source.
struct socket_attributes {
  // inet_diag (uapi linux/inet_diag.h), full sockets
  std::optional<std::uint8_t> shutdown;  ///< INET_DIAG_SHUTDOWN, UNIX_DIAG_SHUTDOWN
  std::optional<std::uint8_t> v6only;    ///< INET_DIAG_SKV6ONLY
  std::uint32_t mark = 0;                ///< INET_DIAG_MARK (sent to CAP_NET_ADMIN only)
  std::uint64_t cgroup_id = 0;           ///< INET_DIAG_CGROUP_ID
  std::optional<std::uint8_t> tos, tclass;
  std::optional<std::uint32_t> class_id;
  std::optional<std::uint16_t> sockopt;     ///< INET_DIAG_SOCKOPT (abi::inet_sockopt_bits)
  std::span<const std::uint8_t> skmeminfo;  ///< u32 per SK_MEMINFO_*; also UNIX_DIAG_MEMINFO
  std::span<const std::uint8_t> meminfo;    ///< struct inet_diag_meminfo
  std::span<const std::uint8_t> tcp_info;   ///< struct tcp_info, as long as the kernel's
  std::string_view congestion;              ///< INET_DIAG_CONG, without its NUL
  std::span<const std::uint8_t> vegas, dctcp, bbr;
  // unix_diag (uapi linux/unix_diag.h)
  std::optional<std::uint32_t> vfs_ino;                ///< UNIX_DIAG_VFS: the bound file's inode...
  std::uint32_t vfs_dev = 0;                           ///< ...and device
  std::optional<std::span<const std::uint8_t>> icons;  ///< UNIX_DIAG_ICONS: pending peers
  // packet_diag (uapi linux/packet_diag.h); MEMINFO into skmeminfo
  std::span<const std::uint8_t> packet_info;         ///< struct packet_diag_info
  std::span<const std::uint8_t> rx_ring, tx_ring;    ///< struct packet_diag_ring
  std::optional<std::uint32_t> fanout;               ///< PACKET_DIAG_FANOUT: id | type << 16
  std::optional<std::span<const std::uint8_t>> bpf;  ///< PACKET_DIAG_FILTER: sock_filter[]
  // netlink_diag (uapi linux/netlink_diag.h); MEMINFO into skmeminfo
  std::optional<std::uint32_t> groups;  ///< NETLINK_DIAG_GROUPS: the first word of the bitmap
};

/// Decodes `r.attributes` by the row's family (inet_diag or unix_diag types). No allocation:
/// the spans point into the row's attributes.
SSFAST_API socket_attributes decode_attributes(const socket_row& r) noexcept;

/// The tcp_info fields that `top --by` ranks by (struct tcp_info, uapi linux/tcp.h); all zero
/// and `present` false when the socket sent none (TIME_WAIT, SYN_RECV, UDP, UNIX, /proc).
struct tcp_facts {
  bool present = false;
  std::uint32_t rtt_us = 0;          ///< tcpi_rtt: smoothed RTT (0: no sample yet)
  std::uint32_t retrans = 0;         ///< tcpi_retrans: segments out for retransmission now
  std::uint32_t total_retrans = 0;   ///< tcpi_total_retrans: retransmissions over its life
  std::uint64_t bytes_acked = 0;     ///< tcpi_bytes_acked
  std::uint64_t bytes_received = 0;  ///< tcpi_bytes_received
};

SSFAST_API tcp_facts tcp_facts_of(const socket_attributes& a) noexcept;

}  // namespace ssfast
