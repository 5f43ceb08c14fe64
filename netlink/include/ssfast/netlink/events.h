// SPDX-License-Identifier: Apache-2.0
// Destroy events: a sock_diag socket subscribed to the kernel's SKNLGRP_*_DESTROY multicast
// groups (ss -E), which hears of every full TCP or UDP socket as it is freed.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>

#include "ssfast/core/error.h"
#include "ssfast/netlink/sock_diag.h"

struct mnl_socket;

namespace ssfast::netlink {

/// Which destroy groups to join (uapi linux/sock_diag.h enum sknetlink_groups).
struct destroy_groups {
  bool tcp4 = false, udp4 = false, tcp6 = false, udp6 = false;
  bool any() const noexcept { return tcp4 || udp4 || tcp6 || udp6; }
};

/// What one wait brought.
struct events_status {
  std::error_code error;   ///< the receive or the parser's error; the socket is then unusable
  std::uint64_t lost = 0;  ///< events the kernel dropped (our receive queue was full)
  bool received = false;   ///< a datagram went to the sink
};

/// A NETLINK_SOCK_DIAG socket bound to the destroy groups. sock_diag_broadcast_destroy()
/// (net/core/sock_diag.c), called from sk_destruct() for a socket whose namespace has a
/// listener, sends one SOCK_DIAG_BY_FAMILY message per freed full socket: inet_diag_msg with
/// its state then (TCP_CLOSE, mostly), INET_DIAG_PROTOCOL and, for TCP, INET_DIAG_INFO; no
/// inode and no uid. TIME_WAIT and request sockets are not full sockets and send nothing.
/// The socket answers for the network namespace of the thread that opened it.
class sock_diag_events {
 public:
  /// Joins `groups` and asks for a receive queue of `receive_queue` bytes (SO_RCVBUFFORCE,
  /// else SO_RCVBUF up to net.core.rmem_max). Errors: socket(), bind() or setsockopt()'s errno;
  /// EINVAL with no group.
  static result<sock_diag_events> open(destroy_groups groups,
                                       std::size_t receive_queue = 4u << 20) noexcept;

  sock_diag_events(sock_diag_events&&) noexcept;
  sock_diag_events& operator=(sock_diag_events&&) noexcept;
  ~sock_diag_events();

  /// Waits up to `wait` for a datagram and hands it to `sink` (reply_filter: port id 0,
  /// sequence 0, as broadcasts carry). When the kernel reported an overrun (ENOBUFS:
  /// netlink_overrun() also counts each dropped message in sk_drops), `lost` is how many were
  /// dropped since the last report, read with SO_MEMINFO, and following goes on.
  events_status wait(datagram_sink& sink, std::chrono::milliseconds wait) noexcept;

 private:
  sock_diag_events() = default;
  std::uint32_t drops() const noexcept;

  mnl_socket* nl_ = nullptr;
  std::unique_ptr<std::array<std::byte, sock_diag_socket::receive_buffer_size>> buf_;
  std::uint32_t drops_seen_ = 0;
};

}  // namespace ssfast::netlink
