// SPDX-License-Identifier: Apache-2.0
// The sock_diag I/O shell: one NETLINK_SOCK_DIAG socket and one 32 KiB receive buffer, reused
// for every dump.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <system_error>

#include "ssfast/core/error.h"
#include "ssfast/netlink/dump_parser.h"
#include "ssfast/netlink/request.h"

struct mnl_socket;

namespace ssfast::netlink {

/// Receives each reply datagram of a dump; returns what the parser made of it.
class datagram_sink {
 public:
  virtual parse_status on_datagram(const datagram& d, const reply_filter& f) noexcept = 0;

 protected:
  ~datagram_sink() = default;
};

/// A sock_diag netlink socket bound to a kernel-assigned port id. It answers for the network
/// namespace the calling thread was in when it was opened. Movable, not copyable, not
/// thread-safe: one dump at a time.
class sock_diag_socket {
 public:
  /// The kernel never puts more than 32 KiB in one dump datagram (af_netlink.c caps
  /// max_recvmsg_len at 32 KiB), so a bigger buffer would not save a recvmsg.
  static constexpr std::size_t receive_buffer_size = 32768;

  /// Opens and binds the socket and allocates the receive buffer. Errors: the socket() or
  /// bind() errno (EPROTONOSUPPORT without sock_diag, EACCES/EPERM under a policy, EMFILE).
  static result<sock_diag_socket> open(
      std::chrono::milliseconds receive_timeout = std::chrono::seconds(10)) noexcept;

  sock_diag_socket(sock_diag_socket&&) noexcept;
  sock_diag_socket& operator=(sock_diag_socket&&) noexcept;
  ~sock_diag_socket();

  /// Sends `r` and feeds every reply datagram to `sink` until NLMSG_DONE. One sendto and one
  /// recvmsg per datagram (about 32 KiB, a few hundred sockets); no allocation. Errors: errno
  /// from the kernel (in NLMSG_ERROR or NLMSG_DONE) or from the syscalls, ETIMEDOUT when no
  /// datagram arrives within the receive timeout, errc::truncated, and what the sink reports. After
  /// an error the socket is reopened on the next dump, so a half-read dump never leaks into it.
  std::error_code dump(const dump_request& r, datagram_sink& sink) noexcept;

  /// Destroys inet socket `r` (SOCK_DESTROY, as ss -K) and waits for the kernel's answer:
  /// {} when it is destroyed; else the errno the kernel gave: ENOENT (already gone),
  /// EOPNOTSUPP (the protocol or kernel cannot: CONFIG_INET_DIAG_DESTROY), EPERM (no
  /// CAP_NET_ADMIN over the socket's network namespace), EINVAL for a row that is not TCP or
  /// UDP. Not during a dump on the same socket.
  std::error_code destroy(const socket_row& r) noexcept;

  /// The port id the kernel assigned; replies must carry it.
  std::uint32_t portid() const noexcept;
  /// Number of datagrams received by the last dump.
  std::uint32_t last_datagrams() const noexcept { return last_datagrams_; }

 private:
  sock_diag_socket() = default;
  std::error_code reopen() noexcept;
  void close() noexcept;

  mnl_socket* nl_ = nullptr;
  std::unique_ptr<std::array<std::byte, receive_buffer_size>> buf_;
  std::chrono::milliseconds timeout_{};
  std::uint32_t seq_ = 0;
  std::uint32_t last_datagrams_ = 0;
  bool needs_reopen_ = false;
};

}  // namespace ssfast::netlink
