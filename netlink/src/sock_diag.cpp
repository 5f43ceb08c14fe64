// SPDX-License-Identifier: Apache-2.0
// The sock_diag socket: libmnl opens and binds it; requests go out with sendmsg (the request
// and its bytecode in two iovecs, as ss.c sends them) and replies come in with recvmsg directly,
// because the sender's port id (which mnl_socket_recvfrom drops) is how a reply proves it came
// from the kernel.
#include "ssfast/netlink/sock_diag.h"

#include <libmnl/libmnl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <cerrno>
#include <new>

#include "wire.h"

namespace ssfast::netlink {

result<sock_diag_socket> sock_diag_socket::open(
    std::chrono::milliseconds receive_timeout) noexcept {
  sock_diag_socket s;
  s.timeout_ = receive_timeout;
  s.buf_.reset(new (std::nothrow) std::array<std::byte, receive_buffer_size>);
  if (!s.buf_) return std::make_error_code(std::errc::not_enough_memory);
  if (auto ec = s.reopen()) return ec;
  return s;
}

sock_diag_socket::sock_diag_socket(sock_diag_socket&& o) noexcept
    : nl_(std::exchange(o.nl_, nullptr)),
      buf_(std::move(o.buf_)),
      timeout_(o.timeout_),
      seq_(o.seq_),
      last_datagrams_(o.last_datagrams_),
      needs_reopen_(o.needs_reopen_) {}

sock_diag_socket& sock_diag_socket::operator=(sock_diag_socket&& o) noexcept {
  if (this != &o) {
    close();
    nl_ = std::exchange(o.nl_, nullptr);
    buf_ = std::move(o.buf_);
    timeout_ = o.timeout_;
    seq_ = o.seq_;
    last_datagrams_ = o.last_datagrams_;
    needs_reopen_ = o.needs_reopen_;
  }
  return *this;
}

sock_diag_socket::~sock_diag_socket() { close(); }

void sock_diag_socket::close() noexcept {
  if (nl_ != nullptr) mnl_socket_close(nl_);
  nl_ = nullptr;
}

std::uint32_t sock_diag_socket::portid() const noexcept {
  return nl_ != nullptr ? mnl_socket_get_portid(nl_) : 0;
}

std::error_code sock_diag_socket::reopen() noexcept {
  close();
  mnl_socket* nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
  if (nl == nullptr) return errno_code(errno);
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int e = errno;
    mnl_socket_close(nl);
    return errno_code(e);
  }
  // A dump is produced inside recvmsg as the queue drains, so a wait this long means something
  // is wrong; the timeout turns a would-be hang into an error.
  const auto ms = timeout_.count();
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  // SO_RCVTIMEO is a SOL_SOCKET option; libmnl's setsockopt helper only sets SOL_NETLINK ones.
  if (ms > 0 && setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
    const int e = errno;
    mnl_socket_close(nl);
    return errno_code(e);
  }
  nl_ = nl;
  needs_reopen_ = false;
  return {};
}

std::error_code sock_diag_socket::dump(const dump_request& r, datagram_sink& sink) noexcept {
  last_datagrams_ = 0;
  if (needs_reopen_ || nl_ == nullptr) {
    if (auto ec = reopen()) return ec;
  }
  // Until the dump ends cleanly, assume the socket holds the rest of it.
  needs_reopen_ = true;

  std::array<std::byte, max_request_head> head;
  const reply_filter filter{portid(), ++seq_, reply_type(r)};
  const request_layout layout = build_request(r, filter.seq, head);
  if (layout.head == 0) return std::make_error_code(std::errc::invalid_argument);
  // The bytecode goes from the caller's buffer in an iovec of its own, as ss.c sends it: no
  // fixed buffer limits the filter, only the attribute's 16-bit length.
  const int fd = mnl_socket_get_fd(nl_);
  {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    iovec iov[2] = {{head.data(), layout.head},
                    {const_cast<std::byte*>(r.bytecode.data()), layout.total - layout.head}};
    msghdr msg{};
    msg.msg_name = &kernel;
    msg.msg_namelen = sizeof kernel;
    msg.msg_iov = iov;
    msg.msg_iovlen = layout.total > layout.head ? 2 : 1;
    ssize_t sent;
    do {
      sent = sendmsg(fd, &msg, 0);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) return errno_code(errno);
    if (static_cast<std::size_t>(sent) != layout.total) return errc::truncated;
  }

  for (;;) {
    const wire::received got = wire::receive_datagram(fd, *buf_, 0);
    if (got.bytes < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return std::make_error_code(std::errc::timed_out);
      return errno_code(errno);
    }
    if (got.error) return got.error;
    ++last_datagrams_;
    const datagram d{std::span<const std::byte>(buf_->data(), static_cast<std::size_t>(got.bytes)),
                     got.sender};
    const parse_status st = sink.on_datagram(d, filter);
    if (st.error) return st.error;
    if (st.done) break;
  }
  needs_reopen_ = false;
  return {};
}

std::error_code sock_diag_socket::destroy(const socket_row& r) noexcept {
  if (needs_reopen_ || nl_ == nullptr) {
    if (auto ec = reopen()) return ec;
  }
  std::array<std::byte, destroy_request_size> req;
  const std::uint32_t seq = ++seq_;
  if (build_destroy(r, seq, req) == 0) return std::make_error_code(std::errc::invalid_argument);
  const int fd = mnl_socket_get_fd(nl_);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t sent;
  do {
    sent =
        sendto(fd, req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return errno_code(errno);
  // One answer: NLMSG_ERROR with 0 (the acknowledgement) or the negative errno.
  needs_reopen_ = true;
  for (;;) {
    sockaddr_nl from{};
    socklen_t from_len = sizeof from;
    const ssize_t n =
        recvfrom(fd, buf_->data(), buf_->size(), 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return std::make_error_code(std::errc::timed_out);
      return errno_code(errno);
    }
    if (from_len != sizeof from || from.nl_family != AF_NETLINK || from.nl_pid != 0)
      return errc::foreign_sender;
    const std::span<const std::byte> b(buf_->data(), static_cast<std::size_t>(n));
    if (b.size() < wire::header_size + sizeof(nlmsgerr)) return errc::truncated;
    const auto h = wire::load<nlmsghdr>(b, 0);
    if (h.nlmsg_seq != seq) continue;  // an older request's late answer
    if (h.nlmsg_type != NLMSG_ERROR) return errc::unexpected_message;
    const int err = wire::load<int>(b, wire::header_size);
    needs_reopen_ = false;
    if (err == 0) return {};
    if (err < -4095 || err > 0) return errc::bad_message;
    return errno_code(-err);
  }
}

}  // namespace ssfast::netlink
