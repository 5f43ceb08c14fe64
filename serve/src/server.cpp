// SPDX-License-Identifier: Apache-2.0
// The poll(2) server behind `ssfast exporter` and `ssfast agent`.
#include "ssfast/serve/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

namespace ssfast::serve {
namespace {

using clock_type = std::chrono::steady_clock;

struct conn {
  int fd = -1;
  std::string in, out;
  std::size_t sent = 0;
  bool close_after = false;  // close once `out` is sent
  bool half_closed = false;  // we shut down writing; waiting for the peer to close
  clock_type::time_point deadline;
};

}  // namespace

bool parse_listen(std::string_view s, std::string& addr, std::uint16_t& port, std::string& err) {
  const std::size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) {
    err = "'" + std::string(s) + "' is not ADDR:PORT";
    return false;
  }
  std::string_view a = s.substr(0, colon), p = s.substr(colon + 1);
  if (a.starts_with('[') && a.ends_with(']')) a = a.substr(1, a.size() - 2);
  unsigned v = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
  if (p.empty() || ec != std::errc{} || end != p.data() + p.size() || v > 65535) {
    err = "'" + std::string(p) + "' is not a port";
    return false;
  }
  addr = std::string(a);  // empty: every address, as node_exporter's ":9100"
  port = static_cast<std::uint16_t>(v);
  return true;
}

namespace {

// The listening socket for `o.listen`: returns an exit code (0: listening, 1: the address
// cannot be listened on, 2: it is not an address) and says which in `said`.
int open_listener(const server_options& o, int& lfd, std::string& said) {
  std::string addr, err;
  std::uint16_t port = 0;
  if (!parse_listen(o.listen, addr, port, err)) {
    said = "--listen: " + err;
    return 2;
  }
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  // ":PORT": every address, IPv6 and IPv4 on one dual-stack socket (IPV6_V6ONLY off below);
  // a host without IPv6 gets 0.0.0.0.
  const bool every = addr.empty();
  if (every) {
    const int probe = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr = probe >= 0 ? "::" : "0.0.0.0";
    if (probe >= 0) ::close(probe);
  }
  if (inet_pton(AF_INET, addr.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, addr.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof *v6;
  } else {
    said = "--listen: '" + addr + "' is not a numeric address";
    return 2;
  }
  lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1, zero = 0;
  if (lfd >= 0 && every && ss.ss_family == AF_INET6)
    setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(lfd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || listen(lfd, 128) != 0) {
    said = "cannot listen on " + o.listen + ": " + std::strerror(errno);
    if (lfd >= 0) ::close(lfd);
    return 1;
  }
  getsockname(lfd, reinterpret_cast<sockaddr*>(&ss), &len);
  char shown[INET6_ADDRSTRLEN] = {};
  inet_ntop(ss.ss_family,
            ss.ss_family == AF_INET ? static_cast<void*>(&v4->sin_addr) : &v6->sin6_addr, shown,
            sizeof shown);
  const unsigned real_port = ntohs(ss.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
  said = ss.ss_family == AF_INET ? "listening on " + std::string(shown) + ":"
                                 : "listening on [" + std::string(shown) + "]:";
  said += std::to_string(real_port);
  return 0;
}

// One poll loop's state: the connections and what bounds them.
struct loop {
  const server_options& o;
  connection_handler& h;
  clock_type::duration limit;
  std::vector<conn> conns;
  char buf[4096];

  // Reads what `c` sent and lets the handler answer each complete request.
  bool read_from(conn& c, clock_type::time_point now) {
    const ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
    if (got <= 0) return got == 0 || (errno != EAGAIN && errno != EINTR);
    if (c.half_closed) return false;  // discard: the answer is sent; wait for the close
    c.in.append(buf, static_cast<std::size_t>(got));
    for (;;) {
      bool close_after = false;
      // The handler sees at most max_request bytes: a longer head is never complete there,
      // however many reads brought it, and gets too_large() below.
      const std::size_t used =
          h.on_input(std::string_view(c.in).substr(0, o.max_request), c.out, close_after);
      if (used == 0) break;
      c.in.erase(0, used);
      c.deadline = now + limit;
      if (close_after) {
        c.close_after = true;
        break;
      }
    }
    if (!c.close_after && c.in.size() > o.max_request) {
      c.out += h.too_large();
      c.close_after = true;
    }
    return false;
  }

  // Serves one connection after poll; true if it is to be dropped.
  bool serve_one(conn& c, short re, clock_type::time_point now) {
    if (now >= c.deadline) return true;  // slow clients cannot hold a connection
    if ((re & (POLLERR | POLLHUP | POLLNVAL)) && !(re & POLLIN)) return true;
    if ((re & POLLIN) && read_from(c, now)) return true;
    if (c.sent < c.out.size()) {
      const ssize_t w = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
      if (w > 0)
        c.sent += static_cast<std::size_t>(w);
      else if (errno != EAGAIN && errno != EINTR)
        return true;
    }
    if (c.sent == c.out.size()) {
      c.out.clear();
      c.sent = 0;
      if (c.close_after && !c.half_closed) {
        // Half-close, then let the peer close: closing with its data unread would reset.
        ::shutdown(c.fd, SHUT_WR);
        c.half_closed = true;
      }
    }
    return false;
  }

  // Takes every waiting connection; past the cap each is told busy() and closed soon.
  void accept_all(int lfd, clock_type::time_point now) {
    for (;;) {
      const int fd = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) break;
      conn c;
      c.fd = fd;
      c.deadline = now + limit;
      if (conns.size() >= o.max_connections) {
        c.out = h.busy();
        if (c.out.empty()) {
          ::close(fd);
          continue;
        }
        c.close_after = true;
        c.deadline = now + std::min(limit, clock_type::duration(std::chrono::seconds(1)));
      } else {
        h.on_open(c.out, c.close_after);
      }
      conns.push_back(std::move(c));
      if (conns.size() >= 2 * o.max_connections) break;
    }
  }
};

}  // namespace

int serve(const server_options& o, connection_handler& h) {
  int lfd = -1;
  std::string said;
  const int rc = open_listener(o, lfd, said);
  if (o.log) o.log(said);
  if (rc != 0) return rc;
  signal(SIGPIPE, SIG_IGN);
  loop l{o,
         h,
         std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(o.timeout)),
         {},
         {}};
  std::vector<pollfd> pfds;
  for (;;) {
    pfds.clear();
    // Past twice the cap (the cap's own connections and as many being told "busy"), stop
    // accepting: further clients wait in the kernel's listen backlog, costing us nothing.
    const bool accepting = l.conns.size() < 2 * o.max_connections;
    pfds.push_back({accepting ? lfd : -1, POLLIN, 0});
    auto now = clock_type::now();
    auto next = now + std::chrono::hours(1);
    for (const conn& c : l.conns) {
      pfds.push_back({c.fd, static_cast<short>(c.sent < c.out.size() ? POLLOUT : POLLIN), 0});
      if (c.deadline < next) next = c.deadline;
    }
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
    const int n = poll(pfds.data(), pfds.size(), static_cast<int>(std::max<long long>(0, wait_ms)));
    if (n < 0 && errno != EINTR) {
      if (o.log) o.log(std::string("poll: ") + std::strerror(errno));
      return 1;
    }
    now = clock_type::now();
    h.on_round();
    // Connections, back to front so closing one does not disturb the others' indices.
    for (std::size_t k = l.conns.size(); k-- > 0;) {
      if (!l.serve_one(l.conns[k], pfds[k + 1].revents, now)) continue;
      ::close(l.conns[k].fd);
      l.conns[k] = std::move(l.conns.back());
      l.conns.pop_back();
    }
    if (pfds[0].revents & POLLIN) l.accept_all(lfd, now);
  }
}

}  // namespace ssfast::serve
