// SPDX-License-Identifier: Apache-2.0
// Destroy events: the sock_diag socket bound to the SKNLGRP_*_DESTROY groups.
#include "ssfast/netlink/events.h"

#include <libmnl/libmnl.h>
#include <linux/sock_diag.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <utility>

#include "wire.h"

namespace ssfast::netlink {
namespace {

// A group's bit in bind()'s nl_groups: group g is bit g - 1 (netlink_bind).
constexpr std::uint32_t bit(int group) { return 1u << (group - 1); }

}  // namespace

result<sock_diag_events> sock_diag_events::open(destroy_groups g,
                                                std::size_t receive_queue) noexcept {
  if (!g.any()) return std::make_error_code(std::errc::invalid_argument);
  sock_diag_events s;
  s.buf_.reset(new (std::nothrow) std::array<std::byte, sock_diag_socket::receive_buffer_size>);
  if (!s.buf_) return std::make_error_code(std::errc::not_enough_memory);
  const std::uint32_t groups =
      (g.tcp4 ? bit(SKNLGRP_INET_TCP_DESTROY) : 0) | (g.udp4 ? bit(SKNLGRP_INET_UDP_DESTROY) : 0) |
      (g.tcp6 ? bit(SKNLGRP_INET6_TCP_DESTROY) : 0) | (g.udp6 ? bit(SKNLGRP_INET6_UDP_DESTROY) : 0);
  s.nl_ = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
  if (s.nl_ == nullptr) return errno_code(errno);
  const int fd = mnl_socket_get_fd(s.nl_);
  // A burst of closes (a load balancer draining) outruns a reader that writes to a pipe; a
  // deep queue loses fewer. SO_RCVBUFFORCE needs CAP_NET_ADMIN; SO_RCVBUF is capped by
  // net.core.rmem_max. Either is best effort: a refusal leaves the default.
  const int bytes = static_cast<int>(std::min<std::size_t>(receive_queue, 1u << 30));
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  if (mnl_socket_bind(s.nl_, groups, MNL_SOCKET_AUTOPID) < 0) return errno_code(errno);
  s.drops_seen_ = s.drops();
  return s;
}

sock_diag_events::sock_diag_events(sock_diag_events&& o) noexcept
    : nl_(std::exchange(o.nl_, nullptr)), buf_(std::move(o.buf_)), drops_seen_(o.drops_seen_) {}

sock_diag_events& sock_diag_events::operator=(sock_diag_events&& o) noexcept {
  if (this != &o) {
    if (nl_ != nullptr) mnl_socket_close(nl_);
    nl_ = std::exchange(o.nl_, nullptr);
    buf_ = std::move(o.buf_);
    drops_seen_ = o.drops_seen_;
  }
  return *this;
}

sock_diag_events::~sock_diag_events() {
  if (nl_ != nullptr) mnl_socket_close(nl_);
}

// sk_drops through SO_MEMINFO (sk_get_meminfo, Linux 4.12): netlink_overrun() adds one per
// message it could not queue. 0 where the option is missing.
std::uint32_t sock_diag_events::drops() const noexcept {
  std::array<std::uint32_t, SK_MEMINFO_VARS> info{};
  socklen_t len = sizeof info;
  if (getsockopt(mnl_socket_get_fd(nl_), SOL_SOCKET, SO_MEMINFO, info.data(), &len) != 0 ||
      len < (SK_MEMINFO_DROPS + 1) * sizeof(std::uint32_t))
    return 0;
  return info[SK_MEMINFO_DROPS];
}

events_status sock_diag_events::wait(datagram_sink& sink, std::chrono::milliseconds wait) noexcept {
  events_status st;
  const int fd = mnl_socket_get_fd(nl_);
  pollfd p{fd, POLLIN, 0};
  const int ready = poll(&p, 1, static_cast<int>(wait.count()));
  if (ready < 0) {
    if (errno != EINTR) st.error = errno_code(errno);
    return st;
  }
  if (ready == 0) return st;
  const wire::received got = wire::receive_datagram(fd, *buf_, MSG_DONTWAIT);
  if (got.bytes < 0) {
    if (errno == ENOBUFS) {  // the queue overflowed: say how many were dropped, and go on
      const std::uint32_t now = drops();
      st.lost = static_cast<std::uint32_t>(now - drops_seen_);
      if (st.lost == 0) st.lost = 1;  // at least one, whatever the counter says
      drops_seen_ = now;
    } else if (errno != EAGAIN && errno != EINTR) {
      st.error = errno_code(errno);
    }
    return st;
  }
  if (got.error) {
    st.error = got.error;
    return st;
  }
  const datagram d{{buf_->data(), static_cast<std::size_t>(got.bytes)}, got.sender};
  const parse_status ps = sink.on_datagram(d, reply_filter{0, 0});
  st.error = ps.error;
  st.received = true;
  return st;
}

}  // namespace ssfast::netlink
