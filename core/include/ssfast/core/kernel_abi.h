// SPDX-License-Identifier: Apache-2.0
// The kernel ABI values core/ and the layers above store and compare, in one place and without
// system headers (core includes none): address families, protocols, socket types, and the
// state mask of every TCP state, the sock_diag attribute types and the tcp_info fields core
// reads. netlink/ checks each against the system headers at compile time (netlink/src/wire.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace ssfast::abi {

/// AF_UNIX, AF_INET, AF_INET6 (include/linux/socket.h).
inline constexpr std::uint8_t af_unix = 1, af_inet = 2, af_inet6 = 10;
/// IPPROTO_TCP, IPPROTO_UDP (include/uapi/linux/in.h).
inline constexpr std::uint8_t ipproto_tcp = 6, ipproto_udp = 17;
/// SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET (the same on every architecture ssfast builds for).
inline constexpr std::uint8_t sock_stream = 1, sock_dgram = 2, sock_seqpacket = 5;
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

/// Offsets in struct tcp_info (uapi linux/tcp.h) of the fields core reads; the struct only
/// ever grows at its end, so a kernel's shorter one lacks the later fields.
inline constexpr std::size_t tcpi_retrans_offset = 36, tcpi_rtt_offset = 68,
                             tcpi_total_retrans_offset = 100, tcpi_bytes_acked_offset = 120,
                             tcpi_bytes_received_offset = 128;

}  // namespace ssfast::abi
