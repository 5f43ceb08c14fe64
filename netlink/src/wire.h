// SPDX-License-Identifier: Apache-2.0
// The one place ssfast reads or writes kernel netlink structures. Every read goes through
// memcpy into a local copy: received bytes carry no alignment or type guarantee for C++.
#pragma once

#include <linux/if_ether.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <system_error>
#include <type_traits>

#include "ssfast/core/error.h"
#include "ssfast/core/kernel_abi.h"

namespace ssfast::netlink::wire {

// core/'s copies of the kernel's values (ssfast/core/kernel_abi.h), checked here where the
// system headers are in reach.
static_assert(abi::af_unix == AF_UNIX && abi::af_inet == AF_INET && abi::af_inet6 == AF_INET6 &&
              abi::af_netlink == AF_NETLINK && abi::af_packet == AF_PACKET);
static_assert(abi::ipproto_tcp == IPPROTO_TCP && abi::ipproto_udp == IPPROTO_UDP &&
              abi::ipproto_raw == IPPROTO_RAW);
static_assert(abi::sock_stream == SOCK_STREAM && abi::sock_dgram == SOCK_DGRAM &&
              abi::sock_raw == SOCK_RAW && abi::sock_seqpacket == SOCK_SEQPACKET);
static_assert(abi::eth_p_all == ETH_P_ALL && abi::ipproto_mptcp == IPPROTO_MPTCP);
static_assert(abi::packet_diag_info == PACKET_DIAG_INFO &&
              abi::packet_diag_mclist == PACKET_DIAG_MCLIST &&
              abi::packet_diag_rx_ring == PACKET_DIAG_RX_RING &&
              abi::packet_diag_tx_ring == PACKET_DIAG_TX_RING &&
              abi::packet_diag_fanout == PACKET_DIAG_FANOUT &&
              abi::packet_diag_uid == PACKET_DIAG_UID &&
              abi::packet_diag_meminfo == PACKET_DIAG_MEMINFO &&
              abi::packet_diag_filter == PACKET_DIAG_FILTER);
static_assert(abi::netlink_diag_meminfo == NETLINK_DIAG_MEMINFO &&
              abi::netlink_diag_groups == NETLINK_DIAG_GROUPS);
static_assert(abi::nla_header == NLA_HDRLEN && abi::nla_type_mask == (NLA_TYPE_MASK & 0xffff));
static_assert(abi::unix_path_max == sizeof(sockaddr_un{}.sun_path));
static_assert(
    abi::inet_diag_meminfo == INET_DIAG_MEMINFO && abi::inet_diag_info == INET_DIAG_INFO &&
    abi::inet_diag_vegasinfo == INET_DIAG_VEGASINFO && abi::inet_diag_cong == INET_DIAG_CONG &&
    abi::inet_diag_tos == INET_DIAG_TOS && abi::inet_diag_tclass == INET_DIAG_TCLASS &&
    abi::inet_diag_skmeminfo == INET_DIAG_SKMEMINFO &&
    abi::inet_diag_shutdown == INET_DIAG_SHUTDOWN &&
    abi::inet_diag_dctcpinfo == INET_DIAG_DCTCPINFO &&
    abi::inet_diag_skv6only == INET_DIAG_SKV6ONLY && abi::inet_diag_mark == INET_DIAG_MARK &&
    abi::inet_diag_bbrinfo == INET_DIAG_BBRINFO && abi::inet_diag_class_id == INET_DIAG_CLASS_ID &&
    abi::inet_diag_cgroup_id == INET_DIAG_CGROUP_ID && abi::inet_diag_sockopt == INET_DIAG_SOCKOPT);
// struct inet_diag_sockopt's bitfields land where kernel_abi.h reads them: two bytes, each
// flag in the bit its position says (the compiler lays bitfields out as the kernel's does).
static_assert(sizeof(inet_diag_sockopt) == 2);
static_assert([] {
  inet_diag_sockopt o{};
  o.is_icsk = 1;
  o.nodefrag = 1;
  o.recverr_rfc4884 = 1;
  const auto b = std::bit_cast<std::array<std::uint8_t, 2>>(o);
  return b[0] == (1u << abi::inet_sockopt_bits[1] | 1u << abi::inet_sockopt_bits[7]) &&
         b[1] == 1u << (abi::inet_sockopt_bits[9] - 8);
}());
static_assert(abi::unix_diag_vfs == UNIX_DIAG_VFS && abi::unix_diag_icons == UNIX_DIAG_ICONS &&
              abi::unix_diag_meminfo == UNIX_DIAG_MEMINFO &&
              abi::unix_diag_shutdown == UNIX_DIAG_SHUTDOWN &&
              abi::unix_diag_vfs_size == sizeof(unix_diag_vfs));
static_assert(abi::tcpi_retrans_offset == offsetof(tcp_info, tcpi_retrans) &&
              abi::tcpi_rtt_offset == offsetof(tcp_info, tcpi_rtt) &&
              abi::tcpi_total_retrans_offset == offsetof(tcp_info, tcpi_total_retrans) &&
              abi::tcpi_bytes_acked_offset == offsetof(tcp_info, tcpi_bytes_acked) &&
              abi::tcpi_bytes_received_offset == offsetof(tcp_info, tcpi_bytes_received));

template <class T>
requires std::is_trivially_copyable_v<T> T load(std::span<const std::byte> b,
                                                std::size_t offset = 0)
noexcept {
  T v;
  std::memcpy(&v, b.data() + offset, sizeof v);
  return v;
}

template <class T>
requires std::is_trivially_copyable_v<T>
void store(std::span<std::byte> b, std::size_t offset, const T& v) noexcept {
  std::memcpy(b.data() + offset, &v, sizeof v);
}

inline constexpr std::size_t header_size = sizeof(nlmsghdr);
inline constexpr std::size_t align(std::size_t n) noexcept { return (n + 3) & ~std::size_t{3}; }

// Offsets of the two bytes the counting path reads; the layout is kernel ABI.
inline constexpr std::size_t inet_family_offset = offsetof(inet_diag_msg, idiag_family);
inline constexpr std::size_t inet_state_offset = offsetof(inet_diag_msg, idiag_state);
inline constexpr std::size_t inet_timer_offset = offsetof(inet_diag_msg, idiag_timer);
inline constexpr std::size_t inet_sport_offset =
    offsetof(inet_diag_msg, id) + offsetof(inet_diag_sockid, idiag_sport);
inline constexpr std::size_t inet_dport_offset =
    offsetof(inet_diag_msg, id) + offsetof(inet_diag_sockid, idiag_dport);
inline constexpr std::size_t inet_cookie_offset =
    offsetof(inet_diag_msg, id) + offsetof(inet_diag_sockid, idiag_cookie);
inline constexpr std::size_t unix_cookie_offset = offsetof(unix_diag_msg, udiag_cookie);
inline constexpr std::size_t unix_type_offset = offsetof(unix_diag_msg, udiag_type);
inline constexpr std::size_t unix_state_offset = offsetof(unix_diag_msg, udiag_state);
inline constexpr std::size_t packet_cookie_offset = offsetof(packet_diag_msg, pdiag_cookie);
inline constexpr std::size_t netlink_cookie_offset = offsetof(netlink_diag_msg, ndiag_cookie);

/// One datagram from a netlink socket into `buf`, with its sender's port id (which is how a
/// reply proves it came from the kernel; mnl_socket_recvfrom drops it).
struct received {
  ssize_t bytes = -1;        ///< recvmsg's answer; -1: see errno
  std::uint32_t sender = 0;  ///< nl_pid of the sender
  std::error_code error;     ///< end of data, a datagram cut short, a sender that is not netlink
};
inline received receive_datagram(int fd, std::span<std::byte> buf, int flags) noexcept {
  sockaddr_nl from{};
  iovec iov{buf.data(), buf.size()};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  received r;
  r.bytes = recvmsg(fd, &msg, flags);
  if (r.bytes < 0) return r;
  if (r.bytes == 0) {
    r.error = make_error_code(errc::unexpected_eof);
  } else if (msg.msg_flags & MSG_TRUNC) {
    r.error = make_error_code(errc::truncated);
  } else if (msg.msg_namelen != sizeof from || from.nl_family != AF_NETLINK) {
    r.error = make_error_code(errc::foreign_sender);
  }
  r.sender = from.nl_pid;
  return r;
}

}  // namespace ssfast::netlink::wire
