// SPDX-License-Identifier: Apache-2.0
// Test support: sockets in known states inside a private network namespace.
#include "scenario.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace ssfast::testing {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// The inode of the network namespace enter_private_netns() made in this process, 0 before.
ino_t made_netns = 0;

std::string read_small_file(const std::string& path) {
  std::string out;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  ssize_t n;
  while (out.size() < 16384 && (n = read(fd, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<std::size_t>(n));
  close(fd);
  return out;
}

// The inode of a network namespace file, 0 when it cannot be read (a zombie has none).
ino_t netns_inode(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

int check(int rc, const char* what) {
  if (rc < 0) fail(what);
  return rc;
}

}  // namespace

endpoint loopback(int family, std::uint16_t port) {
  endpoint e{family};
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&e.addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    e.len = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&e.addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    a->sin6_addr = in6addr_loopback;
    e.len = sizeof(sockaddr_in6);
  }
  return e;
}

std::uint16_t local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  check(getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len), "getsockname");
  return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&ss)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
}

namespace {

void set_int(int fd, int level, int opt, int v, const char* what) {
  check(setsockopt(fd, level, opt, &v, sizeof v), what);
}

int new_socket(int family, int type) {
  const int fd = check(socket(family, type | SOCK_CLOEXEC, 0), "socket");
  if (family == AF_INET6) set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY");
  return fd;
}

}  // namespace

listener tcp_listen(fd_set_guard& g, int family, int backlog) {
  const int fd = g.hold(new_socket(family, SOCK_STREAM));
  const endpoint e = loopback(family, 0);
  check(bind(fd, reinterpret_cast<const sockaddr*>(&e.addr), e.len), "bind listener");
  check(listen(fd, backlog), "listen");
  return {fd, local_port(fd)};
}

int tcp_connect(fd_set_guard& g, int family, std::uint16_t port, int rcvbuf, bool nonblocking) {
  const int fd = g.hold(new_socket(family, SOCK_STREAM));
  // A small receive buffer, set before the handshake, gives a window that closes quickly.
  if (rcvbuf > 0) set_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf, "SO_RCVBUF");
  if (nonblocking) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  const endpoint e = loopback(family, port);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&e.addr), e.len) < 0 &&
      !(nonblocking && errno == EINPROGRESS))
    fail("connect");
  return fd;
}

int accept_one(fd_set_guard& g, int lfd) {
  pollfd p{lfd, POLLIN, 0};
  if (check(poll(&p, 1, 3000), "poll accept") == 0) {
    errno = ETIMEDOUT;
    fail("accept");
  }
  return g.hold(check(accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC), "accept"));
}

namespace {

tcp_info info_of(int fd) {
  tcp_info ti{};
  socklen_t len = sizeof ti;
  check(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), "TCP_INFO");
  return ti;
}

// Waits (bounded) until `pred(fd's tcp_info)` holds.
template <class Pred>
void wait_for(int fd, Pred pred, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!pred(info_of(fd))) {
    if (std::chrono::steady_clock::now() > deadline) {
      errno = ETIMEDOUT;
      fail(std::string("waiting for ") + what);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

void wait_state(int fd, tcp_state s) {
  const auto want = static_cast<std::uint8_t>(s);
  wait_for(
      fd, [&](const tcp_info& ti) { return ti.tcpi_state == want; },
      std::string(netstat_name(want)).c_str());
}

namespace {

// Writes until the send buffer is full: the peer's zero window holds the rest back.
void fill_until_blocked(int fd) {
  set_int(fd, SOL_SOCKET, SO_SNDBUF, 4096, "SO_SNDBUF");
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  static const char chunk[4096] = {};
  for (int i = 0; i < 100000; ++i) {  // bounded: a few MiB at most
    if (send(fd, chunk, sizeof chunk, MSG_NOSIGNAL) < 0) {
      if (errno == EAGAIN) return;
      fail("send");
    }
  }
  errno = EOVERFLOW;
  fail("filling the send buffer");
}

constexpr int tiny_rcvbuf = 1024;  // the kernel doubles and floors it (SOCK_MIN_RCVBUF)

void add(state_counts& c, tcp_state s, std::uint64_t n = 1) { c[static_cast<std::size_t>(s)] += n; }

void build_tcp(fd_set_guard& g, int family, state_counts& c) {
  // A listener that accepts every pair below.
  const listener l = tcp_listen(g, family, 64);
  add(c, tcp_state::listen);
  auto pair = [&](int rcvbuf = 0) {
    const int client = tcp_connect(g, family, l.port, rcvbuf);
    const int server = accept_one(g, l.fd);
    return std::pair{client, server};
  };

  // Two plain ESTABLISHED pairs.
  for (int i = 0; i < 2; ++i) pair();
  add(c, tcp_state::established, 4);

  // SYN_SENT: a backlog-0 listener admits one connection (sk_acceptq_is_full is ">"), then
  // drops further SYNs, so their clients keep retrying in SYN_SENT.
  {
    const listener full = tcp_listen(g, family, 0);
    tcp_connect(g, family, full.port);
    wait_for(
        full.fd, [](const tcp_info& ti) { return ti.tcpi_unacked == 1; },
        "the backlog-0 accept queue to fill");  // tcpi_unacked is the accept queue
    for (int i = 0; i < 2; ++i)
      wait_state(tcp_connect(g, family, full.port, 0, true), tcp_state::syn_sent);
    add(c, tcp_state::listen);
    add(c, tcp_state::established, 2);  // the admitted client and its queued child
    add(c, tcp_state::syn_sent, 2);
  }

  // SYN_RECV: a TCP_DEFER_ACCEPT listener drops the bare final ACK and keeps the request
  // socket (tcp_check_req), which sock_diag reports as SYN_RECV.
  {
    const int fd = g.hold(new_socket(family, SOCK_STREAM));
    set_int(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, 60, "TCP_DEFER_ACCEPT");
    const endpoint e = loopback(family, 0);
    check(bind(fd, reinterpret_cast<const sockaddr*>(&e.addr), e.len), "bind");
    check(listen(fd, 16), "listen");
    wait_state(tcp_connect(g, family, local_port(fd)), tcp_state::established);
    add(c, tcp_state::listen);
    add(c, tcp_state::established);
    add(c, tcp_state::syn_recv);
  }

  // FIN_WAIT2 / CLOSE_WAIT: one side shuts down its sending half.
  {
    auto [a, b] = pair();
    check(shutdown(a, SHUT_WR), "shutdown");
    wait_state(a, tcp_state::fin_wait2);
    wait_state(b, tcp_state::close_wait);
    add(c, tcp_state::fin_wait2);
    add(c, tcp_state::close_wait);
  }

  // FIN_WAIT1: close with data stuck behind the peer's zero window; the FIN waits behind it.
  {
    auto [q, p] = pair(tiny_rcvbuf);
    fill_until_blocked(p);
    g.close_one(p);  // orphaned; tcp_close() enters FIN_WAIT1 before returning
    add(c, tcp_state::fin_wait1);
    add(c, tcp_state::established);  // q, whose buffer is full
  }

  // LAST_ACK / FIN_WAIT2: the half-closed side's peer closes with data stuck.
  {
    auto [x, y] = pair(tiny_rcvbuf);
    check(shutdown(x, SHUT_WR), "shutdown");
    wait_state(x, tcp_state::fin_wait2);
    wait_state(y, tcp_state::close_wait);
    fill_until_blocked(y);
    g.close_one(y);  // orphaned in LAST_ACK, its FIN behind unsendable data
    add(c, tcp_state::last_ack);
    add(c, tcp_state::fin_wait2);
  }

  // CLOSING: a simultaneous close. x's FIN is stuck behind data; y's FIN reaches x in
  // FIN_WAIT1 (tcp_fin: FIN_WAIT1 -> CLOSING).
  {
    auto [y, x] = pair(tiny_rcvbuf);
    fill_until_blocked(x);
    check(shutdown(x, SHUT_WR), "shutdown");
    wait_state(x, tcp_state::fin_wait1);
    check(shutdown(y, SHUT_WR), "shutdown");
    wait_state(x, tcp_state::closing);
    wait_state(y, tcp_state::fin_wait2);
    add(c, tcp_state::closing);
    add(c, tcp_state::fin_wait2);
  }

  // TIME_WAIT: the active closer's socket becomes a timewait minisocket; its own descriptor
  // then reads CLOSE.
  {
    auto [m, n] = pair();
    check(shutdown(m, SHUT_WR), "shutdown");
    wait_state(m, tcp_state::fin_wait2);
    g.close_one(n);
    wait_state(m, tcp_state::close);
    add(c, tcp_state::time_wait);
  }

  // A socket that is only bound: in no hash the dump walks without TCPF_BOUND_INACTIVE (and
  // not in /proc/net/tcp either), so it must not be counted.
  {
    const int fd = g.hold(new_socket(family, SOCK_STREAM));
    const endpoint e = loopback(family, 0);
    check(bind(fd, reinterpret_cast<const sockaddr*>(&e.addr), e.len), "bind");
  }
}

void build_mapped(fd_set_guard& g, scenario_counts& c) {
  const int l = g.hold(check(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
  set_int(l, IPPROTO_IPV6, IPV6_V6ONLY, 0, "IPV6_V6ONLY");
  sockaddr_in6 any{};
  any.sin6_family = AF_INET6;
  any.sin6_addr = in6addr_any;
  check(bind(l, reinterpret_cast<sockaddr*>(&any), sizeof any), "bind [::]");
  check(listen(l, 16), "listen");
  tcp_connect(g, AF_INET, local_port(l));
  accept_one(g, l);
  add(c.tcp[1], tcp_state::listen);
  add(c.tcp[1], tcp_state::established);  // accepted: AF_INET6, ::ffff:127.0.0.1
  add(c.tcp[0], tcp_state::established);  // the IPv4 client
}

void build_udp(fd_set_guard& g, int family, state_counts& c) {
  std::uint16_t first_port = 0;
  for (int i = 0; i < 2; ++i) {
    const int fd = g.hold(new_socket(family, SOCK_DGRAM));
    const endpoint e = loopback(family, 0);
    check(bind(fd, reinterpret_cast<const sockaddr*>(&e.addr), e.len), "bind udp");
    if (i == 0) first_port = local_port(fd);
  }
  const int fd = g.hold(new_socket(family, SOCK_DGRAM));
  const endpoint e = loopback(family, first_port);
  check(connect(fd, reinterpret_cast<const sockaddr*>(&e.addr), e.len), "connect udp");
  add(c, tcp_state::close, 2);
  add(c, tcp_state::established);
}

void build_unix(fd_set_guard& g, scenario_counts& c) {
  // Abstract names belong to the network namespace, so this one cannot collide.
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  const char name[] = "\0ssfast-test-listener";
  std::memcpy(a.sun_path, name, sizeof name - 1);
  const auto alen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + sizeof name - 1);
  const int l = g.hold(check(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
  check(bind(l, reinterpret_cast<sockaddr*>(&a), alen), "bind unix");
  check(listen(l, 8), "listen unix");
  const int cl = g.hold(check(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
  check(connect(cl, reinterpret_cast<sockaddr*>(&a), alen), "connect unix");
  accept_one(g, l);
  int sv[2];
  for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
    check(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), "socketpair");
    g.hold(sv[0]);
    g.hold(sv[1]);
  }
  g.hold(check(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket"));
  c.unix_by_type[SOCK_STREAM] = 5;
  c.unix_by_type[SOCK_DGRAM] = 3;
  c.unix_by_type[SOCK_SEQPACKET] = 2;
  c.unix_listening = 1;
}

}  // namespace

std::string enter_private_netns() {
  if (geteuid() != 0) return "needs root to create a network namespace (unshare CLONE_NEWNET)";
  if (unshare(CLONE_NEWNET) != 0)
    return std::string("unshare(CLONE_NEWNET) failed: ") + std::strerror(errno);
  made_netns = netns_inode("/proc/self/ns/net");
  // What the test daemonizes (a tmux server) becomes our child when its parent exits, rather
  // than init's: end_leftover_processes() reaps it, where some inits never do.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  std::string err;
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
    err = std::string("SIOCGIFFLAGS lo: ") + std::strerror(errno);
  } else {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
      err = std::string("bringing lo up: ") + std::strerror(errno);
  }
  close(fd);
  return err;
}

fd_set_guard::~fd_set_guard() { close_all(); }

int fd_set_guard::hold(int fd) {
  if (fd >= 0) fds_.push_back(fd);
  return fd;
}

void fd_set_guard::close_one(int fd) {
  std::erase(fds_, fd);
  close(fd);
}

void fd_set_guard::close_all() {
  for (int fd : fds_) close(fd);
  fds_.clear();
}

void build_established(fd_set_guard& fds, int family, int pairs) {
  const listener l = tcp_listen(fds, family, 4096);
  for (int i = 0; i < pairs; ++i) {
    tcp_connect(fds, family, l.port);
    accept_one(fds, l.fd);
  }
}

scenario_counts expected_scenario() {
  scenario_counts c;
  for (auto& t : c.tcp) {
    add(t, tcp_state::listen, 3);
    add(t, tcp_state::established, 8);
    add(t, tcp_state::syn_sent, 2);
    add(t, tcp_state::syn_recv, 1);
    add(t, tcp_state::fin_wait1, 1);
    add(t, tcp_state::fin_wait2, 3);
    add(t, tcp_state::time_wait, 1);
    add(t, tcp_state::close_wait, 1);
    add(t, tcp_state::last_ack, 1);
    add(t, tcp_state::closing, 1);
  }
  add(c.tcp[1], tcp_state::listen);       // the dual-stack listener
  add(c.tcp[1], tcp_state::established);  // its accepted v4-mapped socket
  add(c.tcp[0], tcp_state::established);  // the IPv4 client
  for (auto& u : c.udp) {
    add(u, tcp_state::close, 2);
    add(u, tcp_state::established);
  }
  c.unix_by_type[SOCK_STREAM] = 5;
  c.unix_by_type[SOCK_DGRAM] = 3;
  c.unix_by_type[SOCK_SEQPACKET] = 2;
  c.unix_listening = 1;
  return c;
}

scenario_counts build_scenario(fd_set_guard& fds) {
  scenario_counts c;
  build_tcp(fds, AF_INET, c.tcp[0]);
  build_tcp(fds, AF_INET6, c.tcp[1]);
  build_mapped(fds, c);
  build_udp(fds, AF_INET, c.udp[0]);
  build_udp(fds, AF_INET6, c.udp[1]);
  build_unix(fds, c);
  const scenario_counts want = expected_scenario();
  if (c.tcp != want.tcp || c.udp != want.udp || c.unix_by_type != want.unix_by_type ||
      c.unix_listening != want.unix_listening)
    throw std::runtime_error("build_scenario built something other than expected_scenario()");
  return c;
}

namespace {

// Makes socket(AF_NETLINK, ...) fail with EACCES in this process and its children.
bool install_netlink_denial() {
#if defined(__x86_64__)
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
#else
  return false;
#endif
}

}  // namespace

bool can_deny_netlink() {
#if defined(__x86_64__)
  return true;
#else
  return false;
#endif
}

namespace {

// A copy of an executable in a fresh directory under /tmp that every user can enter, removed
// when destroyed. A clone made in a directory only root may enter (root's 0700 home, or
// mktemp -d) holds a binary other users cannot reach, so a child that drops to another uid
// runs this copy instead.
class reachable_copy {
 public:
  explicit reachable_copy(const std::string& exe) {
    namespace fs = std::filesystem;
    char tmpl[] = "/tmp/ssfast-exe-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) fail("mkdtemp");
    dir_ = tmpl;
    path_ = dir_ + "/" + fs::path(exe).filename().string();
    fs::copy_file(exe, path_);
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(path_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
  }
  ~reachable_copy() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  reachable_copy(const reachable_copy&) = delete;
  reachable_copy& operator=(const reachable_copy&) = delete;
  const std::string& path() const noexcept { return path_; }

 private:
  std::string dir_, path_;
};

}  // namespace

process_result run_process(const std::vector<std::string>& argv, const child_setup& setup) {
  std::optional<reachable_copy> copy;
  if (setup.as_uid >= 0 && argv[0].find('/') != std::string::npos) copy.emplace(argv[0]);
  int out_pipe[2], err_pipe[2];
  check(pipe2(out_pipe, O_CLOEXEC), "pipe");
  check(pipe2(err_pipe, O_CLOEXEC), "pipe");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  if (copy) args[0] = const_cast<char*>(copy->path().c_str());
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    if (setup.as_uid >= 0) {
      const auto id = static_cast<uid_t>(setup.as_uid);
      if (setgroups(0, nullptr) != 0 || setresgid(id, id, id) != 0 || setresuid(id, id, id) != 0)
        _exit(126);
    }
    for (const auto& e : setup.env) putenv(const_cast<char*>(e.c_str()));
    if (setup.deny_netlink && !install_netlink_denial()) _exit(125);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  process_result r;
  // Drain both pipes without deadlocking on either, until the deadline.
  pollfd p[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_pipes = 2;
  char buf[65536];
  const auto deadline = std::chrono::steady_clock::now() + setup.timeout;
  while (open_pipes > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    const int ready = left.count() > 0 ? poll(p, 2, static_cast<int>(left.count())) : 0;
    if (ready < 0) {
      if (errno == EINTR) continue;
      fail("poll");
    }
    if (ready == 0) {
      // Past the deadline: end the child; what it started is the fixture's check to find.
      kill(pid, SIGKILL);
      while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      for (pollfd& q : p)
        if (q.fd >= 0) close(q.fd);
      throw std::runtime_error(argv[0] + " still running after " +
                               std::to_string(setup.timeout.count()) +
                               " ms: killed; stderr: " + r.err);
    }
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || p[i].revents == 0) continue;
      const ssize_t n = read(p[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(p[i].fd);
        p[i].fd = -1;
        --open_pipes;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (r.exit_code == 127) throw std::runtime_error("cannot execute " + argv[0]);
  if (r.exit_code == 126 || r.exit_code == 125)
    throw std::runtime_error("could not set up the child of " + argv[0]);
  return r;
}

namespace {

// The processes a test left: in the private network namespace enter_private_netns() made (and
// the caller is still in), or the caller's children.
std::vector<pid_t> leftovers() {
  const pid_t self = getpid();
  const ino_t own = netns_inode("/proc/self/ns/net");
  // Any other namespace (the host's, or a sandbox's the suite runs in) holds processes this
  // test did not start: only the one it made says "this test started it".
  const bool private_netns = own != 0 && own == made_netns;
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid == self) continue;
    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
    const std::string stat = read_small_file(e.path().string() + "/stat");
    const auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) continue;  // gone meanwhile
    std::istringstream rest(stat.substr(close_paren + 1));
    char state = 0;
    long ppid = 0;
    rest >> state >> ppid;
    if (state == 'Z') {
      // It ended; if it is ours, nobody waited for it: reap it, it runs nothing.
      if (ppid == self) waitpid(pid, nullptr, WNOHANG);
      continue;
    }
    if (ppid == self || (private_netns && netns_inode(e.path().string() + "/ns/net") == own))
      found.push_back(pid);
  }
  return found;
}

}  // namespace

std::vector<std::string> end_leftover_processes(std::chrono::milliseconds grace) {
  // A process that ended is not left behind (a zombie child of ours is reaped): only running
  // ones are, once the grace for those ending on their own has passed.
  const auto deadline = std::chrono::steady_clock::now() + grace;
  std::vector<pid_t> left = leftovers();
  while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    left = leftovers();
  }
  std::vector<std::string> said;
  for (pid_t pid : left) {
    const std::string dir = "/proc/" + std::to_string(pid);
    std::string comm = read_small_file(dir + "/comm");
    while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    std::string cmdline = read_small_file(dir + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    said.push_back(std::to_string(pid) + " " + comm + ": " + cmdline);
    kill(pid, SIGKILL);
  }
  // Killed ones stop running (bounded): nothing of this test runs into the next. One that is
  // not our child stays a zombie until its parent reaps it; it runs nothing.
  auto running = [](pid_t pid) {
    const std::string stat = read_small_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close_paren = stat.rfind(')');
    return close_paren != std::string::npos && close_paren + 2 < stat.size() &&
           stat[close_paren + 2] != 'Z';
  };
  const auto gone_by = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (pid_t pid : left) {
    while (running(pid) && std::chrono::steady_clock::now() < gone_by) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      waitpid(pid, nullptr, WNOHANG);
    }
    waitpid(pid, nullptr, WNOHANG);  // ours: reaped now that it is a zombie
  }
  return said;
}

std::string run_command(const std::vector<std::string>& argv) {
  process_result r = run_process(argv);
  if (r.exit_code != 0)
    throw std::runtime_error(argv[0] + " exited with " + std::to_string(r.exit_code) + ": " +
                             r.err);
  return std::move(r.out);
}

bool have_program(const char* name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// ss's state names (iproute2 ss.c sstate_name) to kernel state bytes.
std::uint8_t ss_state_byte(const std::string& name) {
  static const std::pair<const char*, tcp_state> names[] = {
      {"ESTAB", tcp_state::established},    {"SYN-SENT", tcp_state::syn_sent},
      {"SYN-RECV", tcp_state::syn_recv},    {"FIN-WAIT-1", tcp_state::fin_wait1},
      {"FIN-WAIT-2", tcp_state::fin_wait2}, {"TIME-WAIT", tcp_state::time_wait},
      {"UNCONN", tcp_state::close},         {"CLOSE-WAIT", tcp_state::close_wait},
      {"LAST-ACK", tcp_state::last_ack},    {"LISTEN", tcp_state::listen},
      {"CLOSING", tcp_state::closing}};
  for (const auto& [n, s] : names)
    if (name == n) return static_cast<std::uint8_t>(s);
  throw std::runtime_error("ss printed an unknown state '" + name + "'");
}

state_counts ss_inet_states(const char* proto_flag, const char* family_flag) {
  std::istringstream lines(run_command({"ss", proto_flag, family_flag}));
  state_counts c;
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string state;
    if (fields >> state) ++c[ss_state_byte(state)];
  }
  return c;
}

unix_counts ss_unix_counts() {
  std::istringstream lines(run_command({"ss", "-xanH"}));
  unix_counts c;
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string netid, state;
    if (!(fields >> netid >> state)) continue;
    std::size_t type = 0;
    if (netid == "u_str")
      type = SOCK_STREAM;
    else if (netid == "u_dgr")
      type = SOCK_DGRAM;
    else if (netid == "u_seq")
      type = SOCK_SEQPACKET;
    else
      throw std::runtime_error("ss printed an unknown netid '" + netid + "'");
    ++c.by_type[type];
    ++c.states[ss_state_byte(state)];
  }
  return c;
}

}  // namespace ssfast::testing
