// SPDX-License-Identifier: Apache-2.0
// The kernel ABI values core/ and the layers above store and compare, in one place and without
// system headers (core includes none): address families, protocols, socket types, and the
// state mask of every TCP state, the sock_diag attribute types and the tcp_info fields core
// reads. netlink/ checks each against the system headers at compile time (netlink/src/wire.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ssfast::abi {

/// AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET (include/linux/socket.h).
inline constexpr std::uint8_t af_unix = 1, af_inet = 2, af_inet6 = 10, af_netlink = 16,
                              af_packet = 17;
/// IPPROTO_TCP, IPPROTO_UDP, IPPROTO_RAW (include/uapi/linux/in.h). A raw socket's row carries
/// IPPROTO_RAW as its table, and the IP protocol it was opened for as its local port, as
/// inet_diag and /proc/net/raw report it (inet_create: inet_num = protocol).
inline constexpr std::uint8_t ipproto_tcp = 6, ipproto_udp = 17, ipproto_raw = 255;
/// IPPROTO_MPTCP (uapi linux/in.h): past a byte, so inet_diag takes it as the request's
/// INET_DIAG_REQ_PROTOCOL attribute, and rows keep it in a 16-bit protocol column.
inline constexpr std::uint16_t ipproto_mptcp = 262;
/// SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET (the same on every architecture ssfast
/// builds for).
inline constexpr std::uint8_t sock_stream = 1, sock_dgram = 2, sock_raw = 3, sock_seqpacket = 5;
/// ETH_P_ALL (uapi linux/if_ether.h): a packet socket that takes every protocol.
inline constexpr std::uint16_t eth_p_all = 3;
/// sizeof(sockaddr_un::sun_path) (uapi linux/un.h UNIX_PATH_MAX): the longest UNIX name.
inline constexpr std::size_t unix_path_max = 108;
/// TCP_ESTABLISHED..TCP_CLOSING as a state mask: every state ss's `all` means (bits 1..11).
inline constexpr std::uint32_t tcp_all_states = 0xFFE;

/// Netlink attribute header size, and the type bits (NLA_TYPE_MASK, uapi linux/netlink.h).
inline constexpr std::size_t nla_header = 4;
inline constexpr std::uint16_t nla_type_mask = 0x3fff;

/// inet_diag attribute types (enum in uapi linux/inet_diag.h).
inline constexpr std::uint16_t inet_diag_meminfo = 1, inet_diag_info = 2, inet_diag_vegasinfo = 3,
                               inet_diag_cong = 4, inet_diag_tos = 5, inet_diag_tclass = 6,
                               inet_diag_skmeminfo = 7, inet_diag_shutdown = 8,
                               inet_diag_dctcpinfo = 9, inet_diag_skv6only = 11,
                               inet_diag_mark = 15, inet_diag_bbrinfo = 16, inet_diag_class_id = 17,
                               inet_diag_cgroup_id = 21, inet_diag_sockopt = 22;
/// struct inet_diag_sockopt's flags as one 16-bit word (its first byte low), in the bitfields'
/// order, and their names as ss prints them (ss.c inet_show_sock).
inline constexpr std::size_t inet_sockopt_count = 11;
inline constexpr const char* inet_sockopt_names[inet_sockopt_count] = {
    "recverr", "is_icsk",  "freebind",          "hdrincl",         "mc_loop",      "transparent",
    "mc_all",  "nodefrag", "bind_addr_no_port", "recverr_rfc4884", "defer_connect"};
/// The bit of each name in that word: bytes of 8 flags, the first flag in bit 0.
inline constexpr std::uint8_t inet_sockopt_bits[inet_sockopt_count] = {0, 1, 2, 3, 4, 5,
                                                                       6, 7, 8, 9, 10};
/// unix_diag attribute types (enum in uapi linux/unix_diag.h), and struct unix_diag_vfs's size.
inline constexpr std::uint16_t unix_diag_vfs = 1, unix_diag_icons = 3, unix_diag_meminfo = 5,
                               unix_diag_shutdown = 6;
inline constexpr std::size_t unix_diag_vfs_size = 8;  // __u32 udiag_vfs_ino, udiag_vfs_dev
/// packet_diag attribute types (enum in uapi linux/packet_diag.h).
inline constexpr std::uint16_t packet_diag_info = 0, packet_diag_mclist = 1,
                               packet_diag_rx_ring = 2, packet_diag_tx_ring = 3,
                               packet_diag_fanout = 4, packet_diag_uid = 5, packet_diag_meminfo = 6,
                               packet_diag_filter = 7;
/// netlink_diag attribute types (enum in uapi linux/netlink_diag.h).
inline constexpr std::uint16_t netlink_diag_meminfo = 0, netlink_diag_groups = 1;

/// Offsets in struct tcp_info (uapi linux/tcp.h) of the fields core reads; the struct only
/// ever grows at its end, so a kernel's shorter one lacks the later fields.
inline constexpr std::size_t tcpi_retrans_offset = 36, tcpi_rtt_offset = 68,
                             tcpi_total_retrans_offset = 100, tcpi_bytes_acked_offset = 120,
                             tcpi_bytes_received_offset = 128;

}  // namespace ssfast::abi
