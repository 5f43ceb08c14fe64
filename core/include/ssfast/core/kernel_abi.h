// SPDX-License-Identifier: Apache-2.0
// The kernel ABI values core/ and the layers above store and compare, in one place and without
// system headers (core includes none): address families, protocols, socket types, and the
// state mask of every TCP state. netlink/ checks each against the system headers at compile
// time (netlink/src/wire.h).
#pragma once

#include <cstdint>

namespace ssfast::abi {

/// AF_UNIX, AF_INET, AF_INET6 (include/linux/socket.h).
inline constexpr std::uint8_t af_unix = 1, af_inet = 2, af_inet6 = 10;
/// IPPROTO_TCP, IPPROTO_UDP (include/uapi/linux/in.h).
inline constexpr std::uint8_t ipproto_tcp = 6, ipproto_udp = 17;
/// SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET (the same on every architecture ssfast builds for).
inline constexpr std::uint8_t sock_stream = 1, sock_dgram = 2, sock_seqpacket = 5;
/// TCP_ESTABLISHED..TCP_CLOSING as a state mask: every state ss's `all` means (bits 1..11).
inline constexpr std::uint32_t tcp_all_states = 0xFFE;

}  // namespace ssfast::abi
