// SPDX-License-Identifier: Apache-2.0
// The poll(2) server behind `ssfast exporter` and `ssfast agent`.
#include "ssfast/serve/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

namespace ssfast::serve {
namespace {

using clock_type = std::chrono::steady_clock;

// Who a connection comes from, for the per-peer cap: an IPv4 address, or an IPv6 /64 (one
// host or one customer's network; a host has a whole /64 to pick source addresses from). An
// IPv4-mapped IPv6 address is its IPv4 address.
struct peer_key {
  std::array<std::uint8_t, 8> bytes{};
  bool v6 = false;
  bool operator==(const peer_key&) const = default;
};

peer_key key_of(const sockaddr_storage& ss) {
  peer_key k;
  if (ss.ss_family == AF_INET) {
    std::memcpy(k.bytes.data(), &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, 4);
  } else if (ss.ss_family == AF_INET6) {
    const auto& a6 = reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
      std::memcpy(k.bytes.data(), a6.s6_addr + 12, 4);
    } else {
      std::memcpy(k.bytes.data(), a6.s6_addr, 8);
      k.v6 = true;
    }
  }
  return k;
}

struct conn {
  int fd = -1;
  connection_handler* h = nullptr;  // the handler of the endpoint it came to
  peer_key peer;
  std::string in;            // received and not yet answered: at most one head and one read
  answer out;                // the answer being sent, if any
  std::size_t sent = 0;      // bytes of out (head, then body) sent
  bool half_closed = false;  // we shut down writing; waiting for the peer to close
  bool refused = false;      // told busy(): not one of the served connections
  clock_type::time_point waiting_since;  // when it began waiting for its next request
  clock_type::time_point head_started;   // when that request's first byte came
  clock_type::time_point deadline;       // of whatever it is doing now

  bool sending() const noexcept { return sent < out.size(); }
  // Waiting for (the rest of) a request: what a slow or idle client holds a slot with.
  bool waiting() const noexcept { return !sending() && !half_closed && !refused; }
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
int open_listener(const std::string& where, int& lfd, std::string& said) {
  std::string addr, err;
  std::uint16_t port = 0;
  if (!parse_listen(where, addr, port, err)) {
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
    said = "cannot listen on " + where + ": " + std::strerror(errno);
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

// How many descriptors a server of `max_connections` needs: the served connections, as many
// being told busy() (accepted before they are refused), and room for the collector (its
// netlink sockets, one per parallel dump and per namespace being counted) and /proc files.
constexpr std::size_t fd_reserve = 64;

// Raises the soft RLIMIT_NOFILE to fit `o.max_connections` (up to the hard limit), else lowers
// max_connections to what fits, saying so.
void fit_descriptors(server_options& o) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  const rlim_t need = static_cast<rlim_t>(2 * o.max_connections + fd_reserve);
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max == RLIM_INFINITY ? need : std::min(need, rl.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need) return;
  const std::size_t fits =
      rl.rlim_cur > 2 * fd_reserve ? static_cast<std::size_t>(rl.rlim_cur - fd_reserve) / 2 : 32;
  if (o.log)
    o.log("--max-connections " + std::to_string(o.max_connections) + " needs " +
          std::to_string(need) + " open files, and RLIMIT_NOFILE allows " +
          std::to_string(rl.rlim_cur) + ": serving at most " + std::to_string(fits));
  o.max_connections = fits;
  o.max_per_peer = std::min(o.max_per_peer, fits);
}

// One poll loop's state: the connections and what bounds them.
struct loop {
  const server_options& o;
  clock_type::duration limit, head_limit;
  std::vector<conn> conns;
  std::size_t served = 0;  // connections that are not `refused`
  char buf[4096];

  void start_waiting(conn& c, clock_type::time_point now) {
    c.waiting_since = now;
    c.head_started = now;
    set_wait_deadline(c);
  }
  // The handler's quiet_after(), counted from the connection's first wait: at that deadline
  // it is asked for an answer rather than closed.
  static clock_type::duration quiet_limit(const conn& c) {
    return std::chrono::duration_cast<clock_type::duration>(
        std::chrono::duration<double>(c.h->quiet_after()));
  }
  // A connection being closed (half-closed after its last answer, or told 503) is owed little:
  // a second for the peer to read and close, never more than `timeout`.
  clock_type::time_point closing_deadline(clock_type::time_point now) const {
    return now + std::min(limit, clock_type::duration(std::chrono::seconds(1)));
  }
  // Idle: `timeout`; once a request has begun, also `head_timeout` from its first byte.
  void set_wait_deadline(conn& c) {
    c.deadline = c.waiting_since + limit;
    if (!c.in.empty()) c.deadline = std::min(c.deadline, c.head_started + head_limit);
    if (c.h->quiet_after() > 0) c.deadline = std::min(c.deadline, c.waiting_since + quiet_limit(c));
  }

  // A waiting connection at its deadline: the handler's quiet answer, if it has one.
  bool answer_quiet(conn& c, clock_type::time_point now) {
    if (!c.waiting() || c.h->quiet_after() <= 0 || now < c.waiting_since + quiet_limit(c))
      return false;
    answer a;
    if (!c.h->on_quiet(std::string_view(c.in).substr(0, o.max_request), a)) return false;
    c.in.clear();
    a.close_after = true;  // the client said nothing complete: one answer, then the end
    c.out = std::move(a);
    c.sent = 0;
    c.deadline = now + limit;
    if (c.out.size() == 0) finish_answer(c, now);
    return true;
  }

  // Hands the first buffered request to the handler, if it is complete and nothing is being
  // sent: one request at a time, so pipelined requests wait in `in` (and in the kernel).
  void answer_next(conn& c, clock_type::time_point now) {
    if (!c.waiting() || c.in.empty()) return;
    // The handler sees at most max_request bytes: a longer head is never complete there,
    // however many reads brought it, and gets too_large() below.
    answer a;
    const std::size_t used = c.h->on_input(std::string_view(c.in).substr(0, o.max_request), a);
    if (used == 0) {
      if (c.in.size() <= o.max_request) return;
      a = answer{c.h->too_large(), nullptr, true};
    } else {
      c.in.erase(0, used);
    }
    c.out = std::move(a);
    c.sent = 0;
    c.deadline = now + limit;  // the time the client has to take the answer
    if (c.out.size() == 0) finish_answer(c, now);
  }

  // The answer is out: close (half-close first) or wait for the next request.
  void finish_answer(conn& c, clock_type::time_point now) {
    const bool close_after = c.out.close_after || c.refused;
    c.out = answer{};
    c.sent = 0;
    if (close_after) {
      // Half-close, then let the peer close: closing with its data unread would reset.
      ::shutdown(c.fd, SHUT_WR);
      c.half_closed = true;
      c.in.clear();
      c.deadline = closing_deadline(now);
      return;
    }
    start_waiting(c, now);
    if (!c.in.empty()) answer_next(c, now);  // a pipelined request, already here
  }

  // Reads what `c` sent; true if it is to be dropped.
  bool read_from(conn& c, clock_type::time_point now) {
    const ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
    if (got <= 0) return got == 0 || (errno != EAGAIN && errno != EINTR);
    if (!c.waiting()) return false;  // half-closed or refused: discard, wait for the close
    if (c.in.empty()) c.head_started = now;
    c.in.append(buf, static_cast<std::size_t>(got));
    set_wait_deadline(c);
    answer_next(c, now);
    return false;
  }

  // Sends what it can of the answer; true if the connection is to be dropped.
  bool send_to(conn& c, clock_type::time_point now) {
    while (c.sending()) {
      const std::size_t head = c.out.head.size();
      const char* data =
          c.sent < head ? c.out.head.data() + c.sent : c.out.body->data() + (c.sent - head);
      const std::size_t left = c.sent < head ? head - c.sent : c.out.size() - c.sent;
      const ssize_t w = ::send(c.fd, data, left, MSG_NOSIGNAL);
      if (w < 0) return errno != EAGAIN && errno != EINTR;
      c.sent += static_cast<std::size_t>(w);
    }
    finish_answer(c, now);
    return false;
  }

  // Serves one connection after poll; true if it is to be dropped.
  bool serve_one(conn& c, short re, clock_type::time_point now) {
    if (now >= c.deadline) {
      if (!answer_quiet(c, now)) return true;  // slow clients cannot hold a connection
      return c.sending() && send_to(c, now);
    }
    if ((re & (POLLERR | POLLHUP | POLLNVAL)) && !(re & POLLIN)) return true;
    if ((re & POLLIN) && read_from(c, now)) return true;
    if (c.sending() && (re & POLLOUT || c.sent == 0)) return send_to(c, now);
    return false;
  }

  // On return: an embedder's process keeps running, and must not keep our descriptors.
  void close_all(const std::vector<int>& lfds) {
    for (const conn& c : conns) ::close(c.fd);
    conns.clear();
    for (const int lfd : lfds) ::close(lfd);
  }

  void drop(std::size_t k) {
    ::close(conns[k].fd);
    if (!conns[k].refused) --served;
    conns[k] = std::move(conns.back());
    conns.pop_back();
  }

  // The connection to give up for a new one: the one that has waited longest for a request.
  // One whose request has arrived but not yet been read (it came in the same round it was
  // accepted, or while a collection ran) is not waiting: it is passed over while an idle one
  // is left (FIONREAD: bytes queued on the socket), so a burst of newcomers cannot close a
  // scraper whose request is already in.
  std::size_t longest_waiting() const {
    std::size_t idle = conns.size(), any = conns.size();
    for (std::size_t k = 0; k < conns.size(); ++k) {
      if (!conns[k].waiting()) continue;
      if (any == conns.size() || conns[k].waiting_since < conns[any].waiting_since) any = k;
      int queued = 0;
      if (::ioctl(conns[k].fd, FIONREAD, &queued) == 0 && queued > 0) continue;
      if (idle == conns.size() || conns[k].waiting_since < conns[idle].waiting_since) idle = k;
    }
    return idle < conns.size() ? idle : any;
  }

  // Connections taken from one listener per round. A client answered at once (the agent's)
  // reconnects at once; accepting until the backlog is empty let one such client cycle within a
  // single round, each cycle leaving a half-closed connection that only the next round reaps,
  // until its address hit the per-peer cap and every new connection was closed unanswered
  // (50 agent-check probers: 1,411 answers/s and 326,495 connections closed unanswered in
  // 10 s). A batch per round lets the closes of the last batch be read first; the rest wait
  // in the kernel's listen backlog.
  static constexpr std::size_t accept_batch = 16;

  // Takes up to accept_batch waiting connections. Past the per-peer cap one is closed at once;
  // past max_connections it takes the place of the longest-waiting one, or is told busy().
  // Returns false when accept4 ran out of descriptors (EMFILE, ENFILE): the caller stops
  // polling the listener until a connection closes.
  bool accept_batch_of(int lfd, connection_handler& h, clock_type::time_point now) {
    for (std::size_t taken = 0; taken < accept_batch && conns.size() < 2 * o.max_connections;
         ++taken) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      const int fd =
          accept4(lfd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM;
      }
      conn c;
      c.fd = fd;
      c.h = &h;
      c.peer = key_of(ss);
      std::size_t same_peer = 0;
      for (const conn& other : conns) same_peer += !other.refused && other.peer == c.peer;
      if (same_peer >= o.max_per_peer) {
        ::close(fd);  // one peer may not take every slot; answering it would cost a slot
        continue;
      }
      if (served >= o.max_connections) {
        const std::size_t k = longest_waiting();
        if (k < conns.size()) {
          drop(k);
        } else {
          c.out.head = h.busy();
          if (c.out.head.empty()) {
            ::close(fd);
            continue;
          }
          c.refused = true;
        }
      }
      if (c.refused) {
        c.deadline = closing_deadline(now);
      } else {
        ++served;
        start_waiting(c, now);
        h.on_open(c.out);
        if (c.sending()) c.deadline = now + limit;
      }
      conns.push_back(std::move(c));
      // An answer made at once (busy(), the agent's) goes out at once: a new socket's buffer
      // takes it, and it must not wait behind a long round for a poll.
      if (conns.back().sending()) {
        if (send_to(conns.back(), now)) drop(conns.size() - 1);
        continue;
      }
      if (conns.back().out.close_after) finish_answer(conns.back(), now);
    }
    return true;
  }
};

}  // namespace

int serve(const server_options& o, connection_handler& h) {
  return serve(o, std::vector<endpoint>{{o.listen, &h}});
}

int serve(const server_options& given, const std::vector<endpoint>& endpoints) {
  server_options o = given;
  std::vector<int> lfds;
  for (const endpoint& e : endpoints) {
    int lfd = -1;
    std::string said;
    const int rc = open_listener(e.listen, lfd, said);
    if (o.log) o.log(said);
    if (rc != 0) {
      for (const int open : lfds) ::close(open);
      return rc;
    }
    lfds.push_back(lfd);
  }
  fit_descriptors(o);
  signal(SIGPIPE, SIG_IGN);
  const auto seconds = [](double s) {
    return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
  };
  loop l{o, seconds(o.timeout), seconds(std::min(o.head_timeout, o.timeout)), {}, 0, {}};
  const std::size_t n_listen = lfds.size();
  std::vector<pollfd> pfds;
  // Out of descriptors: the listeners are left alone (not polled, which would wake at once and
  // fail again) until a connection closes, or for a second if none is open.
  bool accept_paused = false;
  clock_type::time_point accept_retry;
  for (;;) {
    pfds.clear();
    auto now = clock_type::now();
    if (accept_paused && now >= accept_retry) accept_paused = false;
    // Past twice the cap (the cap's own connections and as many being told "busy"), stop
    // accepting: further clients wait in the kernel's listen backlog, costing us nothing.
    const bool accepting = !accept_paused && l.conns.size() < 2 * o.max_connections;
    for (const int lfd : lfds) pfds.push_back({accepting ? lfd : -1, POLLIN, 0});
    auto next = accept_paused ? accept_retry : now + std::chrono::hours(1);
    for (const conn& c : l.conns) {
      pfds.push_back({c.fd, static_cast<short>(c.sending() ? POLLOUT : POLLIN), 0});
      if (c.deadline < next) next = c.deadline;
    }
    pfds.push_back({o.stop_fd, POLLIN, 0});  // a negative fd is skipped by poll(2)
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
    const int n =
        poll(pfds.data(), pfds.size(), static_cast<int>(std::max<long long>(0, wait_ms + 1)));
    if (n < 0 && errno != EINTR) {
      if (o.log) o.log(std::string("poll: ") + std::strerror(errno));
      l.close_all(lfds);
      return 1;
    }
    if (pfds.back().revents != 0) {
      if (o.log) o.log(o.stop_reason);
      l.close_all(lfds);
      return 1;
    }
    now = clock_type::now();
    for (const endpoint& e : endpoints) e.handler->on_round();
    // Connections, back to front so closing one does not disturb the others' indices.
    const std::size_t before = l.conns.size();
    for (std::size_t k = l.conns.size(); k-- > 0;)
      if (l.serve_one(l.conns[k], pfds[k + n_listen].revents, now)) l.drop(k);
    if (l.conns.size() < before) accept_paused = false;
    // Serving may have taken long (a collection over every namespace): a new connection's
    // deadlines count from now, or one told busy could be past its grace before its answer.
    now = clock_type::now();
    for (std::size_t i = 0; i < n_listen && !accept_paused; ++i) {
      if ((pfds[i].revents & POLLIN) && !l.accept_batch_of(lfds[i], *endpoints[i].handler, now)) {
        accept_paused = true;
        accept_retry = now + std::chrono::seconds(1);
      }
    }
  }
}

}  // namespace ssfast::serve
