// SPDX-License-Identifier: Apache-2.0
// The one place ssfast reads or writes kernel netlink structures. Every read goes through
// memcpy into a local copy: received bytes carry no alignment or type guarantee for C++.
#pragma once

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstring>
#include <span>
#include <type_traits>

#include "ssfast/core/kernel_abi.h"

namespace ssfast::netlink::wire {

// core/'s copies of the kernel's values (ssfast/core/kernel_abi.h), checked here where the
// system headers are in reach.
static_assert(abi::af_unix == AF_UNIX && abi::af_inet == AF_INET && abi::af_inet6 == AF_INET6);
static_assert(abi::ipproto_tcp == IPPROTO_TCP && abi::ipproto_udp == IPPROTO_UDP);
static_assert(abi::sock_stream == SOCK_STREAM && abi::sock_dgram == SOCK_DGRAM &&
              abi::sock_seqpacket == SOCK_SEQPACKET);

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
inline constexpr std::size_t inet_sport_offset =
    offsetof(inet_diag_msg, id) + offsetof(inet_diag_sockid, idiag_sport);
inline constexpr std::size_t inet_dport_offset =
    offsetof(inet_diag_msg, id) + offsetof(inet_diag_sockid, idiag_dport);
inline constexpr std::size_t inet_cookie_offset =
    offsetof(inet_diag_msg, id) + offsetof(inet_diag_sockid, idiag_cookie);
inline constexpr std::size_t unix_cookie_offset = offsetof(unix_diag_msg, udiag_cookie);
inline constexpr std::size_t unix_type_offset = offsetof(unix_diag_msg, udiag_type);
inline constexpr std::size_t unix_state_offset = offsetof(unix_diag_msg, udiag_state);

}  // namespace ssfast::netlink::wire
